"""Login throttling: too many recent failures for one username and address wait a while."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.models import LoginAttempt

THROTTLE_WINDOW = timedelta(minutes=15)
THROTTLE_MAX_FAILURES = 5


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
