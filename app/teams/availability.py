"""Whether a responder can take work right now: the one rule, used by round-robin assignment,
the header's toggle and the wallboard.

Available means: they said so, and they were active within `[replies] away_after_idle_minutes`
(a session or token in use; written down at most every few minutes, app/web/deps.py). Signing
out sets them away. Coming back after an idle spell needs no click: activity counts again."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.errors import Invalid
from app.core.models import User

STATES = ("available", "away")
Shown = Literal["available", "away", "idle"]


def shown(user: User, now: datetime, away_after: timedelta) -> Shown:
    """What others see: away by choice, idle (said available but not active lately), or available."""
    if user.availability != "available" or user.disabled:
        return "away"
    if user.last_active_at is None or now - user.last_active_at > away_after:
        return "idle"
    return "available"


def is_available(user: User, now: datetime, away_after: timedelta) -> bool:
    return shown(user, now, away_after) == "available"


async def set_availability(session: AsyncSession, user_id: int | None, state: str, now: datetime) -> User:
    if state not in STATES:
        raise Invalid(f"availability must be one of {', '.join(STATES)}")
    user = await session.get(User, user_id)
    assert user is not None  # the signed-in user
    user.availability = state
    user.last_active_at = now  # saying so is activity
    await session.flush()
    return user


async def mark_active(session: AsyncSession, user_id: int, now: datetime) -> None:
    user = await session.get(User, user_id)
    if user is not None:
        user.last_active_at = now


def signed_in(user: User, now: datetime) -> None:
    """A full sign-in: they are at work (signing out had set them away)."""
    user.availability = "available"
    user.last_active_at = now


async def mark_away(session: AsyncSession, user_id: int | None) -> None:
    """Signing out: no more mentions handed to them until they say they are back."""
    user = await session.get(User, user_id)
    if user is not None:
        user.availability = "away"


async def available_now(session: AsyncSession, now: datetime, away_after: timedelta) -> list[str]:
    """Who can take work right now (the wallboard's list), by name."""
    users = await session.exec(select(User).where(col(User.disabled).is_(False), User.availability == "available",
                                                  col(User.last_active_at) >= now - away_after)
                               .order_by(col(User.username)))
    return [u.username for u in users.all() if is_available(u, now, away_after)]
