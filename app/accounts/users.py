"""Users: creating them and looking them up."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts.passwords import hash_password
from app.accounts.principal import AuthError
from app.core.models import ROLES, User, utcnow


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


async def count_users(session: AsyncSession) -> int:
    return (await session.exec(select(func.count()).select_from(User))).scalar_one()


async def active_usernames(session: AsyncSession) -> list[str]:
    return list((await session.exec(select(User.username).where(User.disabled.is_(False))
                                    .order_by(User.username))).scalars())


async def set_language(session: AsyncSession, user_id: int, language: str | None) -> None:
    """The user's own UI language (None: follow the browser)."""
    user = await session.get(User, user_id)
    user.language = language
