"""The wallboard's live figures: what the team on the floor needs at a glance."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.config import SourceConfig
from app.core.models import AuditEntry
from app.intake.health import source_health
from app.mentions.queries import QueueFilters, count_answered, mention_view, oldest_open, sla_counts
from app.reports.period import today
from app.reports.report import sla_report
from app.sla import SlaPolicy
from app.teams.availability import available_now

ACTIVE_WINDOW = timedelta(minutes=30)
ACTIVE_ACTIONS = ("claim", "reply")  # claimed something or replied


async def active_responders(session: AsyncSession, now: datetime) -> list[str]:
    rows = await session.execute(select(AuditEntry.actor).distinct().where(
        AuditEntry.at >= now - ACTIVE_WINDOW, AuditEntry.action.in_(ACTIVE_ACTIONS)).order_by(AuditEntry.actor))
    return list(rows.scalars())


async def wallboard_view(session: AsyncSession, now: datetime, policy: SlaPolicy,
                         sources: list[SourceConfig], away_after: timedelta = timedelta(minutes=30)) -> dict[str, Any]:
    counts = await sla_counts(session, QueueFilters(), now)
    oldest = await oldest_open(session)
    period = today(policy.timezone, now)
    figures = (await sla_report(session, period, now)).overall
    health = await source_health(session, sources, now)
    return {
        "counts": counts, "open_total": sum(counts.values()),
        "oldest": mention_view(oldest, now, policy) if oldest else None,
        "oldest_seconds": (now - oldest.posted_at).total_seconds() if oldest else None,
        # The team's work today: replies made today, whenever their mention was posted.
        "today": figures, "replies_today": await count_answered(session, QueueFilters(), period.since),
        "active": await active_responders(session, now),
        "available": await available_now(session, now, away_after),
        "sources_down": [s for s in health if s["status"] in ("down", "failing")],
    }
