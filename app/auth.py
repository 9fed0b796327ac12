"""Accounts: password hashes, server-side sessions, API tokens, CSRF and login throttling.

API tokens are stored as SHA-256 hashes: they are long random strings, so a fast hash is
safe, and an argon2 check on every API request would cost hundreds of milliseconds.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from pwdlib import PasswordHash
from sqlalchemy import delete, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models import ROLES, ApiToken, AuthSession, LoginAttempt, User, utcnow

SESSION_COOKIE = "webcare_session"
SESSION_IDLE = timedelta(hours=12)
SESSION_MAX_AGE = timedelta(days=7)
TOUCH_EVERY = timedelta(minutes=5)
THROTTLE_WINDOW = timedelta(minutes=15)
THROTTLE_MAX_FAILURES = 5
TOKEN_PREFIX = "wct_"
ROLE_RANK = {role: rank for rank, role in enumerate(ROLES)}

_hasher = PasswordHash.recommended()
# Verified against when the username is unknown, so a wrong name costs the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


class AuthError(Exception):
    pass


@dataclass(frozen=True)
class Principal:
    user: User
    via: str  # "session" | "token"
    csrf_token: str | None = None
    session_hash: str | None = None

    @property
    def username(self) -> str:
        return self.user.username

    def has_role(self, role: str) -> bool:
        return ROLE_RANK[self.user.role] >= ROLE_RANK[role]


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def hash_password(password: str) -> str:
    if len(password) < 10:
        raise AuthError("password too short: use at least 10 characters")
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    if password_hash is None:
        _hasher.verify(password, _DUMMY_HASH)
        return False
    return _hasher.verify(password, password_hash)


async def create_user(session: AsyncSession, username: str, password: str, role: str,
                      display_name: str | None = None) -> User:
    if role not in ROLES:
        raise AuthError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    username = username.strip()
    if not username or len(username) > 64 or any(c.isspace() for c in username):
        raise AuthError("username must be 1-64 characters without spaces")
    if (await session.exec(select(User).where(User.username == username))).first():
        raise AuthError(f"user {username!r} exists already")
    user = User(username=username, password_hash=hash_password(password), role=role,
                display_name=display_name, created_at=utcnow())
    session.add(user)
    await session.flush()
    return user


async def user_by_name(session: AsyncSession, username: str) -> User | None:
    return (await session.exec(select(User).where(User.username == username))).scalars().first()


# --- API tokens -------------------------------------------------------------------------

async def create_token(session: AsyncSession, user: User) -> str:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_hash=sha256(token), prefix=token[:10], created_at=utcnow()))
    await session.flush()
    return token


async def revoke_tokens(session: AsyncSession, user: User, prefix: str | None = None) -> int:
    query = select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    if prefix:
        query = query.where(ApiToken.prefix == prefix[:10])
    tokens = (await session.exec(query)).scalars().all()
    for token in tokens:
        token.revoked_at = utcnow()
    await session.flush()
    return len(tokens)


async def principal_from_token(session: AsyncSession, token: str, now: datetime) -> Principal | None:
    row = (await session.exec(select(ApiToken, User).join(User, User.id == ApiToken.user_id).where(
        ApiToken.token_hash == sha256(token), ApiToken.revoked_at.is_(None), User.disabled.is_(False)))).first()
    if row is None:
        return None
    api_token, user = row
    return Principal(user=user, via="token")


# --- Sessions -----------------------------------------------------------------------------

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
    auth = await session.get(AuthSession, token_hash)
    if auth and auth.revoked_at is None:
        auth.revoked_at = now


def csrf_ok(principal: Principal, submitted: str | None) -> bool:
    if principal.via == "token":
        return True  # a bearer token is not sent by browsers on their own: no CSRF risk
    return bool(submitted and principal.csrf_token and hmac.compare_digest(submitted, principal.csrf_token))


# --- Login throttling ----------------------------------------------------------------------

def throttle_key(username: str, client: str) -> str:
    return f"{username.strip().lower()}|{client}"


async def retry_after_seconds(session: AsyncSession, key: str, now: datetime) -> int | None:
    """Seconds to wait when this key has too many recent failures, else None."""
    since = now - THROTTLE_WINDOW
    failures = (await session.exec(select(LoginAttempt.at).where(
        LoginAttempt.key == key, LoginAttempt.success.is_(False), LoginAttempt.at > since)
        .order_by(LoginAttempt.at))).scalars().all()
    if len(failures) < THROTTLE_MAX_FAILURES:
        return None
    oldest_counted = failures[-THROTTLE_MAX_FAILURES]
    return max(1, int((oldest_counted + THROTTLE_WINDOW - now).total_seconds()) + 1)


async def record_attempt(session: AsyncSession, key: str, success: bool, now: datetime) -> None:
    session.add(LoginAttempt(key=key, at=now, success=success))
    if success:  # a good login clears the slate for this key
        await session.execute(delete(LoginAttempt).where(LoginAttempt.key == key, LoginAttempt.success.is_(False)))
    await session.execute(delete(LoginAttempt).where(LoginAttempt.at < now - THROTTLE_WINDOW * 4))


async def count_users(session: AsyncSession) -> int:
    return (await session.exec(select(func.count()).select_from(User))).scalar_one()


async def active_usernames(session: AsyncSession) -> list[str]:
    return list((await session.exec(select(User.username).where(User.disabled.is_(False))
                                    .order_by(User.username))).scalars())
