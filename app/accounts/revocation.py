"""Ending access at once, in every process: a logged-out session, a revoked token or a
deactivated user also closes the event streams they hold open.

Whoever ends access writes an event row in the same transaction (`session.ended`,
`token.revoked`, `user.disabled`). Every web process tails the events table (app/web/hub.py)
and closes the streams the row names within its poll interval. These rows are for the
processes only: browsers never see them."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts.principal import Principal
from app.core.events import StreamEvent, emit
from app.core.models import ApiToken, AuthSession, User

SESSION_ENDED = "session.ended"
TOKEN_REVOKED = "token.revoked"
USER_DISABLED = "user.disabled"
ACCESS_ENDED = frozenset({SESSION_ENDED, TOKEN_REVOKED, USER_DISABLED})


async def session_ended(session: AsyncSession, token_hash: str) -> None:
    await emit(session, SESSION_ENDED, data={"session": token_hash})


async def token_revoked(session: AsyncSession, token_id: int) -> None:
    await emit(session, TOKEN_REVOKED, data={"token_id": token_id})


async def user_disabled(session: AsyncSession, user_id: int) -> None:
    await emit(session, USER_DISABLED, data={"user_id": user_id})


def ends(event: StreamEvent, principal: Principal) -> bool:
    """Whether this event takes away the access `principal` was granted."""
    if event.type == USER_DISABLED:
        return event.data.get("user_id") == principal.user.id
    if event.type == SESSION_ENDED:
        return principal.session_hash is not None and event.data.get("session") == principal.session_hash
    if event.type == TOKEN_REVOKED:
        return principal.token_id is not None and event.data.get("token_id") == principal.token_id
    return False


async def still_valid(session: AsyncSession, principal: Principal, now: datetime) -> bool:
    """The principal's session or token is still live and its user active (a stream checks
    this once it is listening, so an ending it could have missed cannot leave it open)."""
    if principal.session_hash is not None:
        found = select(AuthSession.token_hash).join(User, User.id == AuthSession.user_id).where(
            AuthSession.token_hash == principal.session_hash, AuthSession.revoked_at.is_(None),
            AuthSession.expires_at > now)
    elif principal.token_id is not None:
        found = select(ApiToken.id).join(User, User.id == ApiToken.user_id).where(
            ApiToken.id == principal.token_id, ApiToken.revoked_at.is_(None),
            or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > now))
    else:
        return False
    return (await session.exec(found.where(User.disabled.is_(False)))).first() is not None
