"""Signing in with a password: the limits, the check, the session and the audit line.

The order keeps a flood of wrong passwords from slowing anything else down: an attempt over
a limit is refused before any hashing (from memory once this process has refused it), the
argon2 check runs off the event loop and outside any database transaction, and only then
is one short write transaction opened for the attempt record and the new session."""
from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from app.accounts import passwords, sessions, throttle, users
from app.core.context import AppContext
from app.core.errors import DomainError, Unauthenticated
from app.core.models import User
from app.mentions.actions import audit


class Throttled(DomainError):
    """Too many recent failures (this username and address, this address, or everyone);
    `retry_after` seconds to wait."""
    status = 429

    def __init__(self, retry_after: int):
        super().__init__("too many failed attempts; try again in a few minutes")
        self.retry_after = retry_after


async def _check_limits(ctx: AppContext, username: str, client: str, ahead: dict[str, int]) -> User | None:
    """The user to check the password of (None: unknown or deactivated), or Throttled.
    `ahead`: this process's attempts still under way that started before this one."""
    now = ctx.now()
    async with ctx.db.read() as session:
        refused = await throttle.over_limit(session, username, client, now, ahead)
        if refused:
            limit, until = refused
            ctx.login_guard.remember(limit.scope, username, client, until, now)
            raise Throttled(throttle.retry_seconds(until, now))
        user = await users.user_by_name(session, username)
    return user if user and not user.disabled else None


@contextlib.asynccontextmanager
async def _attempt(ctx: AppContext, username: str, password: str, client: str
                   ) -> AsyncIterator[tuple[User | None, bool]]:
    """One password attempt under the sign-in limits (Throttled before any hashing when one is
    full): the user (None: unknown or deactivated) and whether the password is right. The
    attempt counts as under way until the caller, inside the block, has recorded it."""
    guard = ctx.login_guard
    if wait := guard.retry_after(username, client, ctx.now()):
        raise Throttled(wait)
    ahead = guard.start(username, client)
    try:
        user = await _check_limits(ctx, username, client, ahead)
        yield user, await passwords.verify_password_off_loop(password, user.password_hash if user else None)
    finally:
        guard.finish(username, client)


def second_step(ctx: AppContext, user: User) -> str | None:
    """What a right password still leaves to do: "totp" (type a code), "enrol" (the role
    needs two-factor sign-in, not set up yet), or None (signed in)."""
    if user.two_factor:
        return "totp"
    return "enrol" if user.role in ctx.config.auth.require_2fa else None


async def sign_in(ctx: AppContext, username: str, password: str, client: str,
                  previous_token: str | None = None, user_agent: str | None = None) -> tuple[str, str | None]:
    """A new session's token and the step still due (`second_step`), or Throttled /
    Unauthenticated (the failure is counted). `previous_token`: the session cookie the
    browser still had; it ends on success, so a second person signing in on the same
    browser does not leave the first one's session live."""
    username = username.strip()
    async with _attempt(ctx, username, password, client) as (user, ok):
        now = ctx.now()
        async with ctx.db.write() as session:
            if ok:  # still the same active user with the same password, now that we write
                current = await session.get(User, user.id)
                ok = current is not None and not current.disabled and current.password_hash == user.password_hash
            await throttle.record_attempt(session, username, client, ok, now)
            if ok:
                if previous_token:
                    await sessions.end_session(session, passwords.sha256(previous_token), now)
                pending = second_step(ctx, current)
                token, _ = await sessions.start_session(session, current, now, pending=pending,
                                                        user_agent=user_agent)
                if pending is None:
                    audit(session, current.username, "login", None, now, client=client)
    if not ok:  # after the commit: the failed attempt must count
        raise Unauthenticated("unknown username or wrong password")
    return token, pending


async def confirm_password(ctx: AppContext, username: str, password: str, client: str) -> None:
    """A signed-in user's password checked again (before changing it), under the sign-in
    limits, so a borrowed session cannot guess it quickly: Throttled or Unauthenticated."""
    async with _attempt(ctx, username, password, client) as (_, ok):
        if not ok:
            async with ctx.db.write() as session:
                await throttle.record_attempt(session, username, client, False, ctx.now())
    if not ok:
        raise Unauthenticated("wrong password")
