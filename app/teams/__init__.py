"""Teams and routing: which team a new mention goes to and who gets it (rules, round-robin,
availability), teams and rules from the config file plus the ones made in the admin UI."""
