"""The sign-in tables: users, sessions, API tokens, one-time links, TOTP recovery codes,
login attempts and single sign-ons under way (app/accounts/ owns what they mean)."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from app.core.columns import UTCDateTime, _ts

ROLES = ("responder", "lead", "admin")


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(unique=True, index=True)
    display_name: str | None = None
    password_hash: str
    role: str = "responder"
    language: str | None = None  # UI language; None: from the browser
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    disabled: bool = False
    # Availability (app/teams/availability.py): what they set ("available" | "away"), when they
    # were last active (a session or token in use, written at most every few minutes), and
    # when routing last handed them a mention (round-robin ties go to the longest idle).
    availability: str = "available"
    last_active_at: datetime | None = _ts()
    last_assigned_at: datetime | None = _ts()
    # TOTP (RFC 6238): the shared secret, set when enrolment starts and in force once
    # confirmed with a code; the last time step accepted, so a code works only once.
    totp_secret: str | None = None
    totp_confirmed_at: datetime | None = _ts()
    totp_last_step: int | None = None

    @property
    def two_factor(self) -> bool:
        return self.totp_secret is not None and self.totp_confirmed_at is not None

    # Single sign-on: "<issuer> <sub>", the provider's lasting name for this person (None: a
    # password user), and the teams its claim named at the last sign-in (kept for routing).
    oidc_subject: str | None = Field(default=None, unique=True, index=True)
    oidc_teams: list[str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    # A trainee's replies wait in the approval queue for a lead (app/approvals/).
    replies_need_approval: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})

    @property
    def initials(self) -> str:
        # Words that start with a letter: "Sam Jansen (demo)" signs ^SJ, not ^SJ(.
        parts = [p for p in (self.display_name or self.username).replace(".", " ").replace("-", " ").split()
                 if p[0].isalpha()]
        return "".join(p[0] for p in parts[:3]).upper() or self.username[:2].upper()


class AuthSession(SQLModel, table=True):
    """Server-side login session; the cookie holds a random token, we keep its SHA-256."""

    __tablename__ = "auth_sessions"

    token_hash: str = Field(primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    csrf_token: str
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    last_seen_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    revoked_at: datetime | None = _ts()
    user_agent: str | None = None  # as the browser sent it at sign-in, to tell devices apart
    # None: signed in. "totp": the password was right, a code is still due. "enrol": the
    # password was right and the role needs two-factor sign-in the user has yet to set up.
    pending: str | None = None


class OidcLogin(SQLModel, table=True):
    """A single sign-on under way: what the callback needs, found by its state's SHA-256 and
    deleted when used, so a state works once."""

    __tablename__ = "oidc_logins"

    state_hash: str = Field(primary_key=True)
    nonce: str
    code_verifier: str  # PKCE (RFC 7636): only this server can redeem the code
    next_url: str = "/"
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_tokens"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    token_hash: str = Field(unique=True, index=True)
    prefix: str  # first characters, so people can tell their tokens apart
    name: str | None = None  # what it is for, as its owner called it
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    expires_at: datetime | None = _ts()  # None: until revoked
    last_used_at: datetime | None = _ts()
    revoked_at: datetime | None = _ts()


class AccountLink(SQLModel, table=True):
    """A one-time link to set a password: an invitation or a reset. We keep its SHA-256."""

    __tablename__ = "account_links"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True, index=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    purpose: str  # "invite" | "reset"
    created_by: str
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    used_at: datetime | None = _ts()


class RecoveryCode(SQLModel, table=True):
    """A one-time code that stands in for a TOTP code (a lost phone); kept as a SHA-256."""

    __tablename__ = "recovery_codes"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    code_hash: str
    used_at: datetime | None = _ts()


class LoginAttempt(SQLModel, table=True):
    __tablename__ = "login_attempts"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(index=True)  # "username|client address"
    client: str | None = Field(default=None, index=True)  # the address alone: its limit spans usernames
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    success: bool = False
