"""Server-side login sessions (the cookie holds a random token, we keep its SHA-256), the
CSRF token that comes with each, and the user's own list of them.

A session whose password was right but whose second factor is still due is `pending`: it
opens only the sign-in step that completes it, for a few minutes."""
from __future__ import annotations

import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts import revocation
from app.accounts.passwords import sha256
from app.accounts.principal import Principal
from app.core.models import AuthSession, User
from app.core.prepared import prepared
from app.teams.availability import mark_active, signed_in

SESSION_COOKIE = "webcare_session"
SESSION_IDLE = timedelta(hours=12)
SESSION_MAX_AGE = timedelta(days=7)
TOUCH_EVERY = timedelta(minutes=5)
PENDING_MAX_AGE = timedelta(minutes=10)  # to type a code after the password
MAX_USER_AGENT = 300


async def start_session(session: AsyncSession, user: User, now: datetime, *, pending: str | None = None,
                        user_agent: str | None = None) -> tuple[str, AuthSession]:
    token = secrets.token_urlsafe(32)
    auth = AuthSession(token_hash=sha256(token), user_id=user.id, csrf_token=secrets.token_urlsafe(32),
                       created_at=now, last_seen_at=now, pending=pending,
                       expires_at=now + (PENDING_MAX_AGE if pending else SESSION_MAX_AGE),
                       user_agent=(user_agent or "")[:MAX_USER_AGENT] or None)
    session.add(auth)
    if pending is None:
        signed_in(user, now)
    await session.flush()
    return token, auth


async def pending_session(session: AsyncSession, token: str, now: datetime) -> tuple[AuthSession, User] | None:
    """The session and user of a sign-in still waiting for its second step, if still in time."""
    row = (await session.exec(select(AuthSession, User).join(User, User.id == AuthSession.user_id).where(
        AuthSession.token_hash == sha256(token), AuthSession.revoked_at.is_(None),
        AuthSession.pending.is_not(None), AuthSession.expires_at > now, User.disabled.is_(False)))).first()
    return tuple(row) if row else None


def complete_session(auth: AuthSession, user: User, now: datetime) -> None:
    """The second step is done: the session is a full one from now on."""
    signed_in(user, now)
    auth.pending = None
    auth.last_seen_at = now
    auth.expires_at = now + SESSION_MAX_AGE


async def principal_from_session(session: AsyncSession, token: str, now: datetime) -> tuple[Principal | None, bool]:
    """The session's principal, and whether its last-seen time is due to be refreshed."""
    row = (await session.exec(_session_statement(), params={"token_hash": sha256(token)})).first()
    if row is None:
        return None, False
    auth, user = row
    if now >= auth.expires_at or now - auth.last_seen_at > SESSION_IDLE:
        return None, False
    principal = Principal(user=user, via="session", csrf_token=auth.csrf_token, session_hash=auth.token_hash)
    return principal, now - auth.last_seen_at > TOUCH_EVERY


@prepared
def _session_statement():
    """Every page request's first read, built once (the hash its parameter)."""
    return select(AuthSession, User).join(User, User.id == AuthSession.user_id).where(
        AuthSession.token_hash == bindparam("token_hash"), AuthSession.revoked_at.is_(None),
        AuthSession.pending.is_(None), User.disabled.is_(False))


async def touch_session(session: AsyncSession, token_hash: str, now: datetime) -> None:
    auth = await session.get(AuthSession, token_hash)
    if auth:
        auth.last_seen_at = now
        await mark_active(session, auth.user_id, now)


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


async def live_sessions(session: AsyncSession, user_id: int, now: datetime) -> list[AuthSession]:
    """The user's signed-in sessions, most recently seen first."""
    return list((await session.exec(select(AuthSession).where(
        AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None), AuthSession.pending.is_(None),
        AuthSession.expires_at > now, AuthSession.last_seen_at > now - SESSION_IDLE)
        .order_by(AuthSession.last_seen_at.desc()))).scalars())


async def end_own_session(session: AsyncSession, user_id: int, token_hash: str, now: datetime) -> bool:
    """End one of the user's own sessions; False if it is not theirs (or long gone)."""
    auth = await session.get(AuthSession, token_hash)
    if auth is None or auth.user_id != user_id or auth.revoked_at is not None:
        return False
    await end_session(session, token_hash, now)
    return True


async def end_user_sessions(session: AsyncSession, user_id: int, now: datetime, keep: str | None = None) -> None:
    """End every session of the user but `keep` (a new password: whoever knew the old one
    is signed out everywhere, and their streams close)."""
    ended = (await session.exec(select(AuthSession.token_hash).where(
        AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None),
        AuthSession.token_hash != (keep or "")))).scalars().all()
    if ended:
        await session.execute(update(AuthSession).where(AuthSession.token_hash.in_(ended))
                              .values(revoked_at=now).execution_options(synchronize_session=False))
    for token_hash in ended:
        await revocation.session_ended(session, token_hash)


def describe_device(user_agent: str | None) -> str:
    """"Firefox 128 · Windows" from a User-Agent header; "" when it says nothing useful."""
    import user_agents  # on first sign-in: its parser's regexes and YAML loader cost ~6 MB

    parsed = user_agents.parse(user_agent or "")
    browser = " ".join(p for p in (parsed.browser.family, parsed.browser.version_string) if p)
    parts = [part for part in (browser, parsed.os.family) if part and not part.startswith("Other")]
    return " · ".join(parts)
