"""The teams API's bodies and answers (README: Teams and routing)."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from app.web.schemas import Out


class AvailabilityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    availability: Literal["available", "away"]


class AvailabilityOut(Out):
    username: str
    availability: Literal["available", "away"]          # what they set
    shown: Literal["available", "away", "idle"]          # what others see (idle: no activity lately)


class MemberOut(Out):
    username: str
    from_file: bool
    availability: Literal["available", "away", "idle", "no_account"]  # no_account: no such user (yet)
    in_hand: int


class TeamOut(Out):
    name: str
    from_file: bool
    default: bool
    members: list[MemberOut]


class RuleOut(Out):
    """One routing rule in force, in order (first match wins); `id` only for the UI's own."""
    id: int | None
    position: int
    from_file: bool
    team: str | None = None
    sources: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    urgent: bool | None = None
    assign: str | None = None
    priority: int | None = None


class TeamsOut(Out):
    teams: list[TeamOut]
    rules: list[RuleOut]
    default_team: str | None
    author_lists: list[str]
