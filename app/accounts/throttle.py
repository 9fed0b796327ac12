"""Login throttling, so that guessing passwords is slow and cannot slow the service down.

Three limits on recent failures, stored in the database so every process sees them: one
username from one address, one address whatever the username, and all addresses together
(the last caps the password hashing a distributed guesser can cause). An attempt over a
limit is refused before any hashing. Each process also remembers what it refused until when
(`LoginGuard`), so a flood is answered without touching the database, and counts the attempts
under way, so a burst cannot slip past a limit while its hashes run."""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.models import LoginAttempt


@dataclass(frozen=True)
class Limit:
    scope: str  # "user" (username and address) | "address" | "global"
    failures: int
    window: timedelta


USER_LIMIT = Limit("user", 5, timedelta(minutes=15))
ADDRESS_LIMIT = Limit("address", 10, timedelta(minutes=15))
GLOBAL_LIMIT = Limit("global", 30, timedelta(minutes=1))
LIMITS = (USER_LIMIT, ADDRESS_LIMIT, GLOBAL_LIMIT)
# Two-factor codes also count per account over every address: whoever guesses codes has the
# password already, and 30 a minute spread over many addresses would find a code in days.
ACCOUNT_LIMIT = Limit("account", 10, timedelta(minutes=15))
CODE_LIMITS = (*LIMITS, ACCOUNT_LIMIT)
KEEP_ATTEMPTS = timedelta(hours=1)  # longer than any window
MAX_REMEMBERED = 10_000  # refusals a process keeps in memory; the database stays the truth


def throttle_key(username: str, client: str) -> str:
    return f"{username.strip().lower()}|{client}"


def _keys(username: str, client: str) -> dict[str, str]:
    return {"user": "user:" + throttle_key(username, client), "address": "address:" + client, "global": "global",
            "account": "account:" + username.strip().lower()}


class LoginGuard:
    """One per process: refusals remembered until they expire, and the checks under way."""

    def __init__(self) -> None:
        self._until: dict[str, datetime] = {}
        self._pending: Counter[str] = Counter()

    def retry_after(self, username: str, client: str, now: datetime) -> int | None:
        """Seconds to wait if this process already refused this username, address or everyone."""
        waits = [until for key in _keys(username, client).values()
                 if (until := self._until.get(key)) and until > now]
        return retry_seconds(max(waits), now) if waits else None

    def remember(self, scope: str, username: str, client: str, until: datetime, now: datetime) -> None:
        if len(self._until) >= MAX_REMEMBERED:
            self._until = {k: u for k, u in self._until.items() if u > now}
            while len(self._until) >= MAX_REMEMBERED:  # still full: forget the soonest to expire
                del self._until[min(self._until, key=self._until.__getitem__)]
        self._until[_keys(username, client)[scope]] = until

    def start(self, username: str, client: str) -> dict[str, int]:
        """Count this attempt as under way; the attempts already under way, per scope."""
        keys = _keys(username, client)
        ahead = {scope: self._pending[key] for scope, key in keys.items()}
        self._pending.update(keys.values())
        return ahead

    def finish(self, username: str, client: str) -> None:
        self._pending.subtract(_keys(username, client).values())
        self._pending += Counter()  # drops the zeros


def retry_seconds(until: datetime, now: datetime) -> int:
    return max(1, math.ceil((until - now).total_seconds()))


def _failures(limit: Limit, username: str, client: str, now: datetime):
    query = select(LoginAttempt.at).where(LoginAttempt.success.is_(False), LoginAttempt.at > now - limit.window)
    if limit.scope == "user":
        query = query.where(LoginAttempt.key == throttle_key(username, client))
    elif limit.scope == "address":
        query = query.where(LoginAttempt.client == client)
    elif limit.scope == "account":  # this username from any address
        query = query.where(LoginAttempt.key.startswith(throttle_key(username, ""), autoescape=True))
    return query.order_by(LoginAttempt.at.desc()).limit(limit.failures)


async def over_limit(session: AsyncSession, username: str, client: str, now: datetime,
                     pending: dict[str, int], limits: tuple[Limit, ...] | None = None) -> tuple[Limit, datetime] | None:
    """The first limit this attempt would exceed, with when it frees up; else None.
    `pending`: attempts this process started earlier and is still checking, per scope.
    `limits`: LIMITS (a password), or CODE_LIMITS (a two-factor code)."""
    for limit in limits or LIMITS:
        room = limit.failures - pending.get(limit.scope, 0)
        if room <= 0:  # the attempts under way fill it: try again once they are through
            return limit, now + timedelta(seconds=1)
        recent = (await session.exec(_failures(limit, username, client, now))).scalars().all()
        if len(recent) >= room:
            # frees up when the oldest failure that counts leaves the window
            return limit, recent[room - 1] + limit.window
    return None


async def record_attempt(session: AsyncSession, username: str, client: str, success: bool, now: datetime) -> None:
    key = throttle_key(username, client)
    session.add(LoginAttempt(key=key, client=client, at=now, success=success))
    if success:  # a good login clears the slate for this username and address
        await session.execute(delete(LoginAttempt).where(LoginAttempt.key == key, LoginAttempt.success.is_(False)))
    await session.execute(delete(LoginAttempt).where(LoginAttempt.at < now - KEEP_ATTEMPTS))
