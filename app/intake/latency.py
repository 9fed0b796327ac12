"""Intake latency per source: how long posts took from being posted to being stored, p50 and
p95 over the last hour. The golden hour starts when the customer posts, so this is the part of
it the team never sees.

Only inbound posts count that were new when stored (not a first poll's backfill); edits keep
their first `fetched_at`. One indexed range read per source (ix_mentions_source_fetched)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.models import Mention

WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class Latency:
    posts: int
    p50_seconds: float
    p95_seconds: float


def percentile(ordered: list[float], share: float) -> float:
    """Nearest-rank percentile of an ascending list (not empty)."""
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


async def intake_latency(session: AsyncSession, source: str, now: datetime) -> Latency | None:
    """None when the source stored nothing new in the last hour."""
    rows = (await session.execute(
        select(col(Mention.posted_at), col(Mention.fetched_at)).where(
            col(Mention.source) == source, col(Mention.fetched_at) >= now - WINDOW, col(Mention.backfill).is_(False),
            col(Mention.direction) == "inbound"))).all()
    if not rows:
        return None
    waits = sorted(max(0.0, (fetched - posted).total_seconds()) for posted, fetched in rows)
    return Latency(len(waits), percentile(waits, 0.5), percentile(waits, 0.95))
