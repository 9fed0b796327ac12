"""The routing rules as a table: first match wins, every condition must hold, no match goes to
the default team; and the config file's references are checked when it loads."""
from __future__ import annotations

import pytest

from app.core.config import ConfigError
from app.teams.assignment import Candidate, pick
from app.teams.rules import Decision, Facts, Router
from app.teams.settings import AuthorList, RoutingRule
from tests.support.app import make_config

RULES = (
    RoutingRule(team="press", authors=("press", "vip")),
    RoutingRule(team="billing", keywords=("factuur", "invoice"), assign="round_robin"),
    RoutingRule(team="billing", categories=("billing",), languages=("nl",)),
    RoutingRule(team="escalations", urgent=True, channels=("x", "bluesky"), priority=3),
    RoutingRule(team="mastodon", sources=("masto",)),
    RoutingRule(assign="dirk", channels=("reddit",), keywords=("api",)),
)
LISTS = (AuthorList(name="press", authors=("@Reporter@mastodon.social",)), AuthorList(name="vip", authors=("ceo",)))
ROUTER = Router.of(RULES, LISTS, default_team="general")


def facts(text="Hallo", **fields) -> Facts:
    return Facts(**{"source": "push", "channel": "mastodon", "author": "klant", "text": text, **fields})


CASES = [
    # (facts, team, assign, priority, rule)
    (facts("Waar blijft mijn factuur?"), "billing", "round_robin", None, 2),
    (facts("#Factuur kwijt"), "billing", "round_robin", None, 2),              # hashtags, any case
    (facts("Het factuurnummer klopt niet"), "billing", "round_robin", None, 2),  # start of a word
    (facts("Een prefactuur?"), "general", None, None, None),                   # not inside a word
    (facts("Invoice missing", author="reporter@mastodon.social"), "press", None, None, 1),  # first match wins
    (facts("Hoi", author="@CEO"), "press", None, None, 1),                     # any of the lists
    (facts("Te veel betaald", category="billing", language="nl"), "billing", None, None, 3),
    (facts("Paid twice", category="billing", language="en"), "general", None, None, None),  # all conditions hold
    (facts("Alles ligt plat!", channel="x", urgency=2), "escalations", None, 3, 4),
    (facts("Alles ligt plat!", channel="x", urgency=0), "general", None, None, None),      # not urgent
    (facts("Alles ligt plat!", channel="mastodon", urgency=2), "general", None, None, None),
    (facts("Hoi", source="masto"), "mastodon", None, None, 5),
    (facts("The API is down", channel="reddit"), "general", "dirk", None, 6),   # no team of its own: the default
    (facts("Mijn pakket is niet aangekomen"), "general", None, None, None),     # nothing matches: the default
]


@pytest.mark.parametrize(("f", "team", "assign", "priority", "rule"), CASES)
def test_first_matching_rule_wins_else_the_default_team(f, team, assign, priority, rule):
    assert ROUTER.decide(f) == Decision(team=team, assign=assign, priority=priority, rule=rule)


def test_without_a_default_team_an_unmatched_mention_has_none():
    assert Router.of(RULES, LISTS, None).decide(facts()) == Decision()


def test_round_robin_takes_the_least_busy_then_the_longest_idle():
    from datetime import UTC, datetime
    early, late = datetime(2026, 1, 1, 9, tzinfo=UTC), datetime(2026, 1, 1, 10, tzinfo=UTC)
    assert pick([Candidate("anna", 2, None), Candidate("bob", 1, late)]) == "bob"
    assert pick([Candidate("anna", 1, late), Candidate("bob", 1, early)]) == "bob"
    assert pick([Candidate("bob", 1, early), Candidate("anna", 1, None)]) == "anna"   # never given one
    assert pick([]) is None


@pytest.mark.parametrize(("toml", "message"), [
    ('[[routing]]\nteam = "billing"\n', "no [[teams]] named 'billing'"),
    ('[[teams]]\nname = "b"\n[[routing]]\nteam = "b"\nauthors = ["vip"]\n', "no [[author_lists]] named 'vip'"),
    ('[[teams]]\nname = "b"\n[[routing]]\nteam = "b"\ncategories = ["bills"]\n', "unknown categor"),
    ('[[routing]]\nassign = "round_robin"\n', "set team"),
    ('[[teams]]\nname = "b"\n[[routing]]\nteam = "b"\nkeyword = ["x"]\n', "unknown key"),
    ('[[teams]]\nname = "a"\ndefault = true\n[[teams]]\nname = "b"\ndefault = true\n', "only one team"),
    ('[[alerts]]\nname = "c"\nkind = "slack"\nurl_env = "X"\nteams = ["nope"]\n', "no [[teams]] named 'nope'"),
])
def test_the_config_file_names_only_what_exists(tmp_path, toml, message):
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        make_config(tmp_path, toml)
