"""The figures `/metrics` reads from the database at scrape time: ingest per source, the open
queue by SLA state, the oldest open mention's age and the outbox's depth, each from an index
(on waiting mentions, on the outbox's state); nothing counts a whole table per scrape."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.alerts.admin import outbox_depth
from app.core.context import AppContext
from app.intake.health import fetched_totals
from app.mentions.queries import QueueFilters, oldest_open, sla_counts


@dataclass(frozen=True)
class OpsFigures:
    fetched: dict[str, int]          # per source
    open_by_state: dict[str, int]    # ok, warning, breached
    oldest_open_age_seconds: float   # 0 when nothing waits
    outbox: dict[tuple[str, str], int]   # (sink, pending | dead)


async def ops_figures(ctx: AppContext) -> OpsFigures:
    now: datetime = ctx.now()
    async with ctx.db.read() as session:
        fetched = await fetched_totals(session)
        open_by_state = await sla_counts(session, QueueFilters(), now)
        oldest = await oldest_open(session)
        outbox = await outbox_depth(session)
    for sink in ctx.config.alerts:  # a sink with nothing waiting shows as 0, not as missing
        for state in ("pending", "dead"):
            outbox.setdefault((sink.name, state), 0)
    return OpsFigures(fetched=fetched, open_by_state=open_by_state, outbox=outbox,
                      oldest_open_age_seconds=(now - oldest.posted_at).total_seconds() if oldest else 0)
