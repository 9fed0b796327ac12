"""API tokens: named, optionally expiring, shown once, stored as SHA-256 hashes, revocable
(which also closes their open event streams)."""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import bindparam, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts import revocation
from app.accounts.passwords import sha256
from app.accounts.principal import AuthError, Principal
from app.core.models import ApiToken, User, utcnow
from app.core.prepared import NOW, Moment, at, prepared
from app.teams.availability import mark_active

TOKEN_PREFIX = "wct_"
MAX_NAME = 80
MAX_DAYS = 3650
TOUCH_EVERY = timedelta(minutes=5)  # "last used" is this precise: no write on every request


def _live(now: Moment):
    return (ApiToken.revoked_at.is_(None), or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > now))


async def create_token(session: AsyncSession, user: User, name: str | None = None,
                       days: int | None = None, now: datetime | None = None) -> str:
    """A new token for `user` (the secret: shown once, never stored); `days`: until it expires."""
    now = now or utcnow()
    name = (name or "").strip() or None
    if name and len(name) > MAX_NAME:
        raise AuthError(f"a token name has at most {MAX_NAME} characters")
    if days is not None and not 1 <= days <= MAX_DAYS:
        raise AuthError(f"a token expires after 1 to {MAX_DAYS} days")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_hash=sha256(token), prefix=token[:10], name=name, created_at=now,
                         expires_at=now + timedelta(days=days) if days else None))
    await session.flush()
    return token


async def live_tokens(session: AsyncSession, user_id: int, now: datetime) -> list[ApiToken]:
    return list((await session.exec(select(ApiToken).where(ApiToken.user_id == user_id, *_live(now))
                                    .order_by(ApiToken.created_at.desc()))).scalars())


async def revoke_tokens(session: AsyncSession, user: User, prefix: str | None = None,
                        token_id: int | None = None) -> int:
    """Revoke the user's tokens (all, the one starting with `prefix`, or the one with `token_id`)."""
    query = select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    if prefix:
        query = query.where(ApiToken.prefix == prefix[:10])
    if token_id is not None:
        query = query.where(ApiToken.id == token_id)
    tokens = (await session.exec(query)).scalars().all()
    for token in tokens:
        token.revoked_at = utcnow()
        await revocation.token_revoked(session, token.id)
    await session.flush()
    return len(tokens)


async def lookup(session: AsyncSession, token: str, now: datetime) -> tuple[Principal | None, bool]:
    """The token's principal, and whether its last-used time is due to be refreshed."""
    row = (await session.exec(_lookup_statement(), params={"token_hash": sha256(token), NOW: now})).first()
    if row is None:
        return None, False
    api_token, user = row
    stale = api_token.last_used_at is None or now - api_token.last_used_at > TOUCH_EVERY
    return Principal(user=user, via="token", token_id=api_token.id), stale


@prepared
def _lookup_statement():
    """Every API request's first read, built once (the hash and the moment its parameters)."""
    return select(ApiToken, User).join(User, User.id == ApiToken.user_id).where(
        ApiToken.token_hash == bindparam("token_hash"), *_live(at(NOW)), User.disabled.is_(False))


async def principal_from_token(session: AsyncSession, token: str, now: datetime) -> Principal | None:
    return (await lookup(session, token, now))[0]


async def touch_token(session: AsyncSession, token_id: int, now: datetime) -> None:
    api_token = await session.get(ApiToken, token_id)
    if api_token:
        api_token.last_used_at = now
        await mark_active(session, api_token.user_id, now)
