"""Server-side login sessions (the cookie holds a random token, we keep its SHA-256) and
the CSRF token that comes with each."""
from __future__ import annotations

import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts import revocation
from app.accounts.passwords import sha256
from app.accounts.principal import Principal
from app.core.models import AuthSession, User

SESSION_COOKIE = "webcare_session"
SESSION_IDLE = timedelta(hours=12)
SESSION_MAX_AGE = timedelta(days=7)
TOUCH_EVERY = timedelta(minutes=5)


async def start_session(session: AsyncSession, user: User, now: datetime) -> tuple[str, AuthSession]:
    token = secrets.token_urlsafe(32)
    auth = AuthSession(token_hash=sha256(token), user_id=user.id, csrf_token=secrets.token_urlsafe(32),
                       created_at=now, last_seen_at=now, expires_at=now + SESSION_MAX_AGE)
    session.add(auth)
    await session.flush()
    return token, auth


async def principal_from_session(session: AsyncSession, token: str, now: datetime) -> tuple[Principal | None, bool]:
    """The session's principal, and whether its last-seen time is due to be refreshed."""
    row = (await session.exec(select(AuthSession, User).join(User, User.id == AuthSession.user_id).where(
        AuthSession.token_hash == sha256(token), AuthSession.revoked_at.is_(None),
        User.disabled.is_(False)))).first()
    if row is None:
        return None, False
    auth, user = row
    if now >= auth.expires_at or now - auth.last_seen_at > SESSION_IDLE:
        return None, False
    principal = Principal(user=user, via="session", csrf_token=auth.csrf_token, session_hash=auth.token_hash)
    return principal, now - auth.last_seen_at > TOUCH_EVERY


async def touch_session(session: AsyncSession, token_hash: str, now: datetime) -> None:
    auth = await session.get(AuthSession, token_hash)
    if auth:
        auth.last_seen_at = now


async def end_session(session: AsyncSession, token_hash: str, now: datetime) -> None:
    """Log out: the cookie stops working and the session's open event streams close."""
    auth = await session.get(AuthSession, token_hash)
    if auth and auth.revoked_at is None:
        auth.revoked_at = now
        await revocation.session_ended(session, token_hash)


def csrf_ok(principal: Principal, submitted: str | None) -> bool:
    if principal.via == "token":
        return True  # a bearer token is not sent by browsers on their own: no CSRF risk
    return bool(submitted and principal.csrf_token and hmac.compare_digest(submitted, principal.csrf_token))
