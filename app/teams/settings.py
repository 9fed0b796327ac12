"""`[[teams]]`, `[[author_lists]]` and `[[routing]]` in the config file, checked when it loads
(app/core/config.py). What a rule matches is app/teams/rules.py; the admin UI adds teams,
members and rules of its own in the database on top of these (app/teams/directory.py)."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.craft.classify import CATEGORIES

NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,62}$"
ROUND_ROBIN = "round_robin"
MAX_PRIORITY = 10


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TeamConfig(_Strict):
    """`[[teams]]`: a team and its members (usernames). `default = true`: the team of every
    mention no rule routes (at most one)."""
    name: str = Field(pattern=NAME_PATTERN)
    members: tuple[str, ...] = ()
    default: bool = False


class AuthorList(_Strict):
    """`[[author_lists]]`: a named list of handles (VIPs, press) routing rules refer to."""
    name: str = Field(pattern=NAME_PATTERN)
    authors: tuple[str, ...] = Field(min_length=1)

    @field_validator("authors")
    @classmethod
    def _handles(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(handle_key(a) for a in value)


def handle_key(handle: str) -> str:
    """How handles are compared: without a leading @, case-insensitive."""
    return handle.strip().removeprefix("@").lower()


class RoutingRule(_Strict):
    """`[[routing]]`: the conditions a mention must meet (each given list: any of its values;
    all given lists together) and what it then gets: a team, a priority, an assignee."""
    team: str | None = None
    sources: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()     # names of [[author_lists]]
    urgent: bool | None = None        # true: only urgent mentions (an urgency reason); false: only calm ones
    assign: str | None = None         # "round_robin" (among the team's available members) or a username
    priority: int | None = Field(None, ge=1, le=MAX_PRIORITY)  # added to the urgency: higher in "urgent first"

    @field_validator("categories")
    @classmethod
    def _known_categories(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if unknown := [c for c in value if c not in CATEGORIES]:
            raise ValueError(f"unknown categor(ies) {', '.join(map(repr, unknown))}; known: {', '.join(CATEGORIES)}")
        return value

    @field_validator("keywords")
    @classmethod
    def _keywords(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(not k.strip() for k in value):
            raise ValueError("a keyword cannot be empty")
        return tuple(k.strip().lower() for k in value)

    @model_validator(mode="after")
    def _does_something(self) -> RoutingRule:
        if self.team is None and self.assign is None and self.priority is None:
            raise ValueError("a rule sets a team, an assignee or a priority")
        if self.assign == ROUND_ROBIN and self.team is None:
            raise ValueError('assign = "round_robin" picks among a team\'s members: set team')
        return self


class TeamSections(BaseModel):
    """The config file's teams tables (app/core/config.py's Config has them at the top level)."""
    teams: tuple[TeamConfig, ...] = ()
    author_lists: tuple[AuthorList, ...] = ()
    routing: tuple[RoutingRule, ...] = ()

    @property
    def default_team(self) -> str | None:
        return next((t.name for t in self.teams if t.default), None)


def check_references(teams: tuple[TeamConfig, ...], lists: tuple[AuthorList, ...],
                     rules: tuple[RoutingRule, ...], alert_teams: dict[str, tuple[str, ...]]) -> list[str]:
    """Names that point nowhere (a typo routes nothing, silently): problems as text."""
    problems = []
    team_names = [t.name for t in teams]
    for what, names in (("teams", team_names), ("author_lists", [a.name for a in lists])):
        if dupes := sorted({n for n in names if names.count(n) > 1}):
            problems.append(f"[[{what}]] names must be unique; repeated: {', '.join(dupes)}")
    if len([t for t in teams if t.default]) > 1:
        problems.append("[[teams]]: only one team can be the default")
    list_names = {a.name for a in lists}
    for number, rule in enumerate(rules, 1):
        if rule.team is not None and rule.team not in team_names:
            problems.append(f"[[routing]] #{number}.team: no [[teams]] named {rule.team!r}")
        if missing := [a for a in rule.authors if a not in list_names]:
            problems.append(f"[[routing]] #{number}.authors: no [[author_lists]] named {', '.join(map(repr, missing))}")
    for sink, wanted in alert_teams.items():
        if missing := [t for t in wanted if t not in team_names]:
            problems.append(f"[[alerts]] {sink!r}.teams: no [[teams]] named {', '.join(map(repr, missing))}")
    return problems
