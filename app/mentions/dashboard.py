"""What the live dashboard shows: the first page of the queue, the oldest wait, source health."""
from __future__ import annotations

from typing import Any

from app.core.context import AppContext
from app.intake.health import source_health
from app.mentions.queries import QueueFilters, list_queue, oldest_open

PAGE_SIZE = 100


async def dashboard_view(ctx: AppContext, filters: QueueFilters) -> dict[str, Any]:
    now = ctx.now()
    async with ctx.db.read() as session:
        queue = await list_queue(session, filters, now, ctx.policy, limit=PAGE_SIZE)
        oldest = await oldest_open(session)
        sources = await source_health(session, ctx.sources(), now, timezone=ctx.config.sla.timezone)
    return {"queue": queue, "now": now, "sources": sources, "filters": filters,
            "oldest_seconds": (now - oldest.posted_at).total_seconds() if oldest else None}
