"""Which team a mention goes to: ordered rules, the first that matches wins, and a mention no
rule matches goes to the default team (if there is one). Pure: the facts of one mention in,
a decision out; app/intake/routing.py applies it at ingest."""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from app.teams.settings import AuthorList, RoutingRule, handle_key


@dataclass(frozen=True)
class Facts:
    """What rules can look at: the stored mention's fields after enrichment."""
    source: str
    channel: str
    author: str
    text: str
    language: str | None = None
    category: str | None = None
    urgency: int = 0


@dataclass(frozen=True)
class Decision:
    team: str | None = None
    assign: str | None = None
    priority: int | None = None
    rule: int | None = None   # 1-based position of the rule that matched; None: none did


@lru_cache(maxsize=512)
def _keyword_pattern(keyword: str) -> re.Pattern[str]:
    """A keyword matches at the start of a word ("factuur" finds "factuurnummer" and "#factuur",
    not "prefactuur"): Dutch glues words together, and hashtags count."""
    return re.compile(r"(?<![^\W_])" + re.escape(keyword), re.IGNORECASE)


def matches(rule: RoutingRule, facts: Facts, author_lists: Mapping[str, frozenset[str]]) -> bool:
    """Every condition the rule sets holds (an empty list sets none)."""
    if rule.sources and facts.source not in rule.sources:
        return False
    if rule.channels and facts.channel not in rule.channels:
        return False
    if rule.categories and facts.category not in rule.categories:
        return False
    if rule.languages and facts.language not in rule.languages:
        return False
    if rule.urgent is not None and (facts.urgency > 0) != rule.urgent:
        return False
    if rule.authors and not any(handle_key(facts.author) in author_lists.get(name, frozenset())
                                for name in rule.authors):
        return False
    return not rule.keywords or any(_keyword_pattern(k).search(facts.text) for k in rule.keywords)


@dataclass(frozen=True)
class Router:
    """The rules in force, in order, with the author lists they name and the default team."""
    rules: tuple[RoutingRule, ...] = ()
    author_lists: Mapping[str, frozenset[str]] | None = None
    default_team: str | None = None

    @classmethod
    def of(cls, rules: Sequence[RoutingRule], lists: Sequence[AuthorList], default_team: str | None) -> Router:
        return cls(tuple(rules), {a.name: frozenset(a.authors) for a in lists}, default_team)

    def decide(self, facts: Facts) -> Decision:
        lists = self.author_lists or {}
        for position, rule in enumerate(self.rules, 1):
            if matches(rule, facts, lists):
                return Decision(team=rule.team or self.default_team, assign=rule.assign, priority=rule.priority,
                                rule=position)
        return Decision(team=self.default_team)

    @property
    def active(self) -> bool:
        return bool(self.rules) or self.default_team is not None
