"""One-time links to set a password: an invitation for a new user, or a reset for one who
forgot theirs. The link holds a random token (we keep its SHA-256); it works once, until it
expires, and a newer link for the same user replaces it. Setting a password through it ends
the user's other sessions, so whoever knew the old password is out."""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts import sessions
from app.accounts.passwords import sha256
from app.core.errors import DomainError
from app.core.i18n import N_
from app.core.models import AccountLink, User

INVITE = "invite"
RESET = "reset"
LIFETIME = {INVITE: timedelta(days=7), RESET: timedelta(hours=24)}
LINK_PATH = "/set-password/"


class LinkGone(DomainError):
    """Unknown, used, replaced or expired: the same answer for each, so a guess learns nothing."""
    status = 410

    def __init__(self):
        super().__init__(N_("This link has expired or was already used. Ask an admin for a new one."))


def link_url(public_url: str, token: str) -> str:
    return f"{public_url}{LINK_PATH}{token}"


async def issue(session: AsyncSession, user: User, purpose: str, actor: str, now: datetime) -> str:
    """A new link's token; the user's earlier unused links stop working."""
    await session.execute(update(AccountLink).where(AccountLink.user_id == user.id, AccountLink.used_at.is_(None))
                          .values(used_at=now).execution_options(synchronize_session=False))
    token = secrets.token_urlsafe(32)
    session.add(AccountLink(token_hash=sha256(token), user_id=user.id, purpose=purpose, created_by=actor,
                            created_at=now, expires_at=now + LIFETIME[purpose]))
    await session.flush()
    return token


async def open_link(session: AsyncSession, token: str, now: datetime) -> tuple[AccountLink, User]:
    """The live link and its (active) user, or LinkGone."""
    row = (await session.exec(select(AccountLink, User).join(User, User.id == AccountLink.user_id).where(
        AccountLink.token_hash == sha256(token), AccountLink.used_at.is_(None), AccountLink.expires_at > now,
        User.disabled.is_(False)))).first()
    if row is None:
        raise LinkGone()
    return tuple(row)


async def use_link(session: AsyncSession, token: str, password_hash: str, now: datetime) -> User:
    """Set the password through the link (once), ending the user's sessions."""
    link, user = await open_link(session, token, now)
    used = await session.execute(update(AccountLink).where(AccountLink.id == link.id, AccountLink.used_at.is_(None))
                                 .values(used_at=now).execution_options(synchronize_session=False))
    if used.rowcount != 1:  # someone else used it a moment ago
        raise LinkGone()
    user.password_hash = password_hash
    await sessions.end_user_sessions(session, user.id, now)
    return user


async def pending_invites(session: AsyncSession, now: datetime) -> set[int]:
    """Users whose invitation is still open (they have not set a password yet)."""
    return set((await session.exec(select(AccountLink.user_id).where(
        AccountLink.purpose == INVITE, AccountLink.used_at.is_(None), AccountLink.expires_at > now))).scalars())
