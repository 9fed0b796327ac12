"""Test helpers shared across capabilities: config files, a controllable clock, users and
tokens, spare ports, and the rule that a missing capability fails under CI."""
from __future__ import annotations

import base64
import os
import re
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.accounts import tokens, users
from app.core.config import Config, load_config
from app.core.context import AppContext

PG_ENV = "WEBCARE_TEST_DATABASE_URL"
IN_CI = os.environ.get("CI", "").lower() == "true"
PUSH_SECRET = "whsec_" + base64.b64encode(b"webcare-test-push-secret-32bytes").decode()
PUSH_SECRET_ENV = "WEBCARE_TEST_PUSH_SECRET"
DEFAULT_TOML = f"""
[sla]
target_minutes = 60
warning_minutes = 45
timezone = "Europe/Amsterdam"

[[sources]]
name = "push"
kind = "webhook"
secret_env = "{PUSH_SECRET_ENV}"
"""


# For a test whose subject needs PostgreSQL (several processes sharing one database): `db_url`
# on PostgreSQL alone, instead of a SQLite run that could only skip.
POSTGRES_ONLY = pytest.mark.parametrize("db_url", [pytest.param("postgres", marks=pytest.mark.postgres)],
                                        indirect=True)


def need_or_skip(reason: str) -> None:
    """Under CI a missing capability is a failure, never a silent skip."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: this must run)")
    pytest.skip(reason)


class Clock:
    """A controllable clock: `now()` is fixed until moved."""

    def __init__(self, start: datetime | None = None):
        self.value = start or datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.value

    def advance(self, **delta) -> None:
        self.value += timedelta(**delta)


def allowing_private_networks(toml: str) -> str:
    """`toml` with `[app] allow_private_networks = true`, merged into its `[app]` table when it
    has one: the fake channels and chat tools of the tests listen on 127.0.0.1."""
    if re.search(r"^\s*allow_private_networks\s*=", toml, re.M):
        return toml
    if re.search(r"^\s*\[app\]\s*(#.*)?$", toml, re.M):
        return re.sub(r"^(\s*\[app\]\s*(#.*)?)$", r"\1\nallow_private_networks = true", toml, count=1, flags=re.M)
    return "[app]\nallow_private_networks = true\n\n" + toml


def write_config(tmp_path: Path, toml: str = DEFAULT_TOML, *, allow_private_networks: bool = True) -> Path:
    """The config file a test's app or `webcare` process reads (`WEBCARE_CONFIG`)."""
    path = tmp_path / "webcare.toml"
    path.write_text(allowing_private_networks(toml) if allow_private_networks else toml)
    return path


def make_config(tmp_path: Path, toml: str = DEFAULT_TOML, *, allow_private_networks: bool = True) -> Config:
    """Tests talk to fakes on 127.0.0.1, so private networks are allowed unless a test of the
    address policy says otherwise."""
    return load_config(write_config(tmp_path, toml, allow_private_networks=allow_private_networks))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def add_user(ctx: AppContext, username: str, role: str = "responder",
                   password: str = "correct-horse-battery") -> str:
    """Create a user and return a fresh API token for them."""
    async with ctx.db.write() as session:
        user = await users.create_user(session, username, password, role)
        return await tokens.create_token(session, user)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
