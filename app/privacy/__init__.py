"""Privacy under the GDPR: retention (the daily purge), erasure and access export per person,
and the audit trail for admins. Texts and author data go; every SLA figure stays."""
