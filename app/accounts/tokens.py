"""API tokens: shown once, stored as SHA-256 hashes, revocable (which also closes their open
event streams)."""
from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts import revocation
from app.accounts.passwords import sha256
from app.accounts.principal import Principal
from app.core.models import ApiToken, User, utcnow

TOKEN_PREFIX = "wct_"


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
        await revocation.token_revoked(session, token.id)
    await session.flush()
    return len(tokens)


async def principal_from_token(session: AsyncSession, token: str, now: datetime) -> Principal | None:
    row = (await session.exec(select(ApiToken, User).join(User, User.id == ApiToken.user_id).where(
        ApiToken.token_hash == sha256(token), ApiToken.revoked_at.is_(None), User.disabled.is_(False)))).first()
    if row is None:
        return None
    api_token, user = row
    return Principal(user=user, via="token", token_id=api_token.id)
