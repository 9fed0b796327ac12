"""CSV exports: the SLA aggregate (`sla.csv`) and one row per mention (`mentions.csv`).

Written with the one safe CSV writer (app/core/safecsv.py): every field quoted, nothing a
spreadsheet would run as a formula; numbers are written as numbers.
"""
from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.core.db import Database
from app.core.models import DISMISS_REASONS, Mention
from app.core.safecsv import csv_line
from app.mentions.queries import is_open
from app.reports.period import Period
from app.reports.report import Report, ReportFilters

SLA_FIGURES = ("mentions", "replied", "within_target", "pct_within_target", "median_first_response_seconds",
               "p90_first_response_seconds", "open_breached", "dismissed", "late", "open", "pct_breached",
               "repeat_contacts", "follow_ups_kept", "follow_ups_missed")
SLA_COLUMNS = ("group_by", "key", *SLA_FIGURES, *(f"dismissed_{r}" for r in DISMISS_REASONS))
TIMESTAMPS = ("posted_at", "fetched_at", "claimed_at", "answered_at", "dismissed_at", "due_at")
MENTION_COLUMNS = ("id", "channel", "source", "external_id", "author", "category", "language", "backfill",
                   "status", "sla_outcome", "first_response_seconds", "within_target", "responder",
                   "dismiss_reason", *(f"{t}_{where}" for t in TIMESTAMPS for where in ("local", "utc")), "url")
STREAM_BATCH = 2000


def sla_csv(report: Report) -> str:
    def row(group_by: str, key: Any, figures) -> str:
        data = figures.as_dict()
        return csv_line([group_by, key, *(data[name] for name in SLA_FIGURES),
                      *(data["dismissed_by_reason"][r] for r in DISMISS_REASONS)])

    lines = [csv_line(SLA_COLUMNS), row("overall", "", report.overall)]
    lines += [row(report.group_by, key, figures) for key, figures in report.groups]
    return "".join(lines)


def sla_outcome(m: Mention, now: datetime) -> str:
    """within_target | late | breached (open past due) | open | dismissed | backfill."""
    if m.backfill:
        return "backfill"
    if m.status == "answered":
        return "within_target" if m.within_target else "late"
    if m.status == "dismissed":
        return "dismissed"
    if is_open(m) and not m.removed and m.due_at is not None and m.due_at <= now:
        return "breached"
    return "open"


def mention_row(m: Mention, now: datetime, zone: ZoneInfo) -> list[Any]:
    stamps = []
    for name in TIMESTAMPS:
        value = getattr(m, name)
        stamps += [value.astimezone(zone).isoformat() if value else None,
                   value.astimezone(UTC).isoformat() if value else None]
    return [m.id, m.channel, m.source, m.external_id, m.author, m.category, m.language, m.backfill, m.status,
            sla_outcome(m, now), m.first_response_seconds, m.within_target, m.answered_by, m.dismiss_reason,
            *stamps, m.url]


async def mentions_csv(db: Database, period: Period, filters: ReportFilters, now: datetime) -> AsyncIterator[str]:
    """Every inbound mention posted in the period (backfill included and marked), oldest first,
    streamed in batches so a long period never sits in memory whole."""
    zone = period.zone
    stmt = (select(Mention).where(Mention.direction == "inbound", Mention.posted_at >= period.since,
                                  Mention.posted_at < period.until, *filters.conditions())
            .order_by(Mention.posted_at, Mention.id).execution_options(yield_per=STREAM_BATCH))
    yield csv_line(MENTION_COLUMNS)
    async with db.read() as session:
        result = await session.stream_scalars(stmt)
        async for batch in result.partitions():
            yield "".join(csv_line(mention_row(m, now, zone)) for m in batch)
