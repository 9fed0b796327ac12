"""Spike detection from the mention rows: this quarter-hour per category against the same
quarter-hour (same weekday, same local time) of the past four weeks.

Weeks before the first mention ever stored are not history (a fresh install has none, and
zeros there would make five complaints look like an incident), so `detect_spikes` falls
back to its absolute bar then. One `spike` alert per category per 15-minute window.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.alerts import messages
from app.alerts.model import Alert
from app.alerts.outbox import disabled_sinks, enqueue, sink_rules
from app.alerts.spike import Spike, detect_spikes
from app.context import AppContext
from app.models import Mention

WINDOW = timedelta(minutes=15)
HISTORY_WEEKS = 4
EXAMPLES = 3


def window_start(now: datetime) -> datetime:
    """The 15-minute window `now` falls in (aligned to the quarter hour), for the dedupe key."""
    now = now.astimezone(UTC)
    return now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0)


def history_slots(now: datetime, timezone: str, weeks: int = HISTORY_WEEKS) -> list[tuple[datetime, datetime]]:
    """The same local weekday and time, 1..`weeks` weeks back, as UTC (start, end) pairs.

    Wall-clock arithmetic in the team's zone, so a DST change in between still compares
    Monday 09:00 with Monday 09:00."""
    local = now.astimezone(ZoneInfo(timezone))
    slots = []
    for week in range(1, weeks + 1):
        end = (local - timedelta(weeks=week)).astimezone(UTC)
        slots.append((end - WINDOW, end))
    return slots


def _counted(start: datetime, end: datetime):
    return and_(Mention.direction == "inbound", Mention.backfill.is_(False), Mention.removed.is_(False),
                Mention.category.is_not(None), Mention.posted_at >= start, Mention.posted_at < end)


async def category_counts(session: AsyncSession, start: datetime, end: datetime) -> dict[str, int]:
    rows = await session.exec(select(Mention.category, func.count()).where(_counted(start, end))
                              .group_by(Mention.category))
    return {category: count for category, count in rows.all()}


async def examples(session: AsyncSession, category: str, start: datetime, end: datetime) -> list[Mention]:
    rows = await session.exec(select(Mention).where(_counted(start, end), Mention.category == category)
                              .order_by(Mention.posted_at.desc()).limit(EXAMPLES))
    return list(rows.scalars().all())


async def find_spikes(session: AsyncSession, now: datetime, timezone: str) -> list[Spike]:
    recent = await category_counts(session, now - WINDOW, now)
    if not recent:
        return []
    first = (await session.exec(select(func.min(Mention.posted_at)).where(Mention.direction == "inbound"))).scalar_one()
    baseline: dict[str, list[int]] = {category: [] for category in recent}
    for start, end in history_slots(now, timezone):
        if first is None or start < first:
            continue  # before this install saw any mention: no history, not zero
        counts = await category_counts(session, start, end)
        for category in recent:
            baseline[category].append(counts.get(category, 0))
    return detect_spikes(recent, baseline)


async def check_spikes(ctx: AppContext) -> list[Alert]:
    """Raise a `spike` alert for each category spiking now; returns the alerts raised."""
    now, public_url = ctx.now(), ctx.config.app.public_url
    raised = []
    async with ctx.db.write() as session:
        disabled = await disabled_sinks(session)
        rules = [r for r in sink_rules(ctx.config.alerts, ctx.config.sla.timezone) if r.name not in disabled]
        if not any(r.subscribes("spike") for r in rules):
            return []
        for spike in await find_spikes(session, now, ctx.config.sla.timezone):
            samples = await examples(session, spike.key, now - WINDOW, now)
            alert = messages.spike(spike.key, count=spike.count, expected=spike.expected, since=now - WINDOW,
                                   window_start=window_start(now), examples=samples, public_url=public_url, at=now)
            if await enqueue(session, rules, alert, now):
                raised.append(alert)
    return raised
