"""Signing in with a password: the throttle, the check, the session and the audit line."""
from __future__ import annotations

from app.accounts import passwords, sessions, throttle, users
from app.core.context import AppContext
from app.core.errors import DomainError, Unauthenticated
from app.mentions.actions import audit


class Throttled(DomainError):
    """Too many recent failures for this username and address; `retry_after` seconds to wait."""
    status = 429

    def __init__(self, retry_after: int):
        super().__init__("too many failed attempts; try again in a few minutes")
        self.retry_after = retry_after


async def sign_in(ctx: AppContext, username: str, password: str, client: str) -> str:
    """A new session's token, or Throttled / Unauthenticated (the failure is counted)."""
    now = ctx.now()
    key = throttle.throttle_key(username, client)
    async with ctx.db.write() as session:
        wait = await throttle.retry_after_seconds(session, key, now)
        if wait:
            raise Throttled(wait)
        user = await users.user_by_name(session, username.strip())
        ok = passwords.verify_password(password, user.password_hash if user and not user.disabled else None)
        await throttle.record_attempt(session, key, ok, now)
        if ok:
            token, _ = await sessions.start_session(session, user, now)
            audit(session, user.username, "login", None, now, client=client)
    if not ok:  # after the commit: the failed attempt must count
        raise Unauthenticated("unknown username or wrong password")
    return token
