"""Users: creating, looking up, deactivating and reactivating them, and their role."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts import revocation
from app.accounts.passwords import hash_password
from app.accounts.principal import AuthError
from app.core.models import ROLES, ApiToken, AuthSession, User, utcnow
from app.core.prepared import core_rows


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise AuthError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")


async def create_user(session: AsyncSession, username: str, password: str, role: str,
                      display_name: str | None = None) -> User:
    _check_role(role)
    return await add_user_row(session, username, hash_password(password), role, display_name)


async def add_user_row(session: AsyncSession, username: str, password_hash: str, role: str,
                       display_name: str | None = None) -> User:
    """A new user with an already hashed password (an invitation's is random: nobody knows it)."""
    _check_role(role)
    username = username.strip()
    if not username or len(username) > 64 or any(c.isspace() for c in username):
        raise AuthError("username must be 1-64 characters without spaces")
    display_name = (display_name or "").strip() or None
    if display_name and len(display_name) > 100:
        raise AuthError("a display name has at most 100 characters")
    if (await session.exec(select(User).where(User.username == username))).first():
        raise AuthError(f"user {username!r} exists already")
    user = User(username=username, password_hash=password_hash, role=role,
                display_name=display_name, created_at=utcnow())
    session.add(user)
    await session.flush()
    return user


async def user_by_name(session: AsyncSession, username: str) -> User | None:
    return (await session.exec(select(User).where(User.username == username))).scalars().first()


async def all_users(session: AsyncSession) -> list[User]:
    return list((await session.exec(select(User).order_by(User.disabled, User.username))).scalars())


# Built once: the dashboard's "person" filter reads it on every refresh.
_ACTIVE_USERNAMES = select(User.username).where(User.disabled.is_(False)).order_by(User.username)


async def active_usernames(session: AsyncSession) -> list[str]:
    return [username for username, in await core_rows(session, _ACTIVE_USERNAMES)]


async def set_language(session: AsyncSession, user_id: int, language: str | None) -> None:
    """The user's own UI language (None: follow the browser)."""
    user = await session.get(User, user_id)
    user.language = language


async def disable_user(session: AsyncSession, user: User, now: datetime) -> None:
    """Deactivate: every session and API token is revoked for good (reactivating revives
    none of them) and every open event stream of theirs closes, in every process."""
    user.disabled = True
    for model in (AuthSession, ApiToken):
        await session.execute(update(model).where(model.user_id == user.id, model.revoked_at.is_(None))
                              .values(revoked_at=now).execution_options(synchronize_session=False))
    await revocation.user_disabled(session, user.id)


def enable_user(user: User) -> None:
    """Reactivate: they sign in afresh; their old sessions and tokens stay revoked."""
    user.disabled = False


def set_role(user: User, role: str) -> None:
    _check_role(role)
    user.role = role
