"""The teams' tables: what the admin UI adds on top of `[[teams]]` and `[[routing]]` in the
config file (app/teams/ owns what they mean; the file's entries are never copied here)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.core.columns import UTCDateTime


class Team(SQLModel, table=True):
    """A team made in the admin UI (the config file's teams exist without a row)."""

    __tablename__ = "teams"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True)
    created_by: str
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class TeamMember(SQLModel, table=True):
    """A membership added in the admin UI, to any team (the file's members need no row)."""

    __tablename__ = "team_members"
    __table_args__ = (UniqueConstraint("team", "username", name="uq_team_members_team_username"),)

    id: int | None = Field(default=None, primary_key=True)
    team: str = Field(index=True)
    username: str = Field(index=True)
    created_by: str
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class RoutingRuleRow(SQLModel, table=True):
    """A routing rule made in the admin UI; these come after the file's rules, by position.
    `rule` holds the same keys as a `[[routing]]` table (checked by app/teams/settings.py)."""

    __tablename__ = "routing_rules"

    id: int | None = Field(default=None, primary_key=True)
    position: int = Field(index=True)
    rule: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_by: str
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
