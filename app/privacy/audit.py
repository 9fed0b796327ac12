"""The audit trail for admins: who did what when, newest first, filtered, paginated, and the
filtered trail as CSV (the one safe writer, app/core/safecsv.py)."""
from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.bounds import as_row_id, day_within_years
from app.core.db import Database
from app.core.models import AuditEntry
from app.core.safecsv import csv_line
from app.reports.period import local_midnight

PAGE_SIZE = 50
STREAM_BATCH = 2000
CSV_COLUMNS = ("id", "at_local", "at_utc", "actor", "action", "mention_id", "detail")


class AuditFilterError(ValueError):
    """A filter that cannot be read; `field` is "date" or "mention_id"."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class AuditFilters:
    actor: str | None = None
    action: str | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive
    mention_id: int | None = None

    @classmethod
    def parse(cls, *, actor: str | None, action: str | None, since: str | None, until: str | None,
              mention_id: str | None, tz: str) -> AuditFilters:
        """From the query string: dates are whole local days, `until` included."""
        zone = ZoneInfo(tz)
        try:
            first = local_midnight(day_within_years(date.fromisoformat(since)), zone) if since else None
            last = (local_midnight(day_within_years(date.fromisoformat(until)) + timedelta(days=1), zone)
                    if until else None)
        except ValueError:
            raise AuditFilterError("date", "dates look like 2026-10-31") from None
        number = None
        if mention_id and (number := as_row_id(mention_id)) is None:
            raise AuditFilterError("mention_id", "a mention id is a whole number")
        return cls(actor=(actor or "").strip() or None, action=action or None, since=first, until=last,
                   mention_id=number)

    def conditions(self) -> list:
        conds = []
        if self.actor:
            conds.append(AuditEntry.actor == self.actor)
        if self.action:
            conds.append(AuditEntry.action == self.action)
        if self.since:
            conds.append(AuditEntry.at >= self.since)
        if self.until:
            conds.append(AuditEntry.at < self.until)
        if self.mention_id is not None:
            conds.append(AuditEntry.mention_id == self.mention_id)
        return conds


@dataclass
class AuditPage:
    entries: list[AuditEntry]
    total: int
    page: int
    pages: int


async def audit_page(session: AsyncSession, filters: AuditFilters, page: int = 1,
                     size: int = PAGE_SIZE) -> AuditPage:
    conds = filters.conditions()
    total = (await session.execute(select(func.count()).select_from(AuditEntry).where(*conds))).scalar_one()
    pages = max(1, -(-total // size))
    page = min(max(1, page), pages)
    rows = (await session.exec(select(AuditEntry).where(*conds).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
                               .limit(size).offset((page - 1) * size))).scalars().all()
    return AuditPage(entries=list(rows), total=total, page=page, pages=pages)


async def audit_choices(session: AsyncSession) -> tuple[list[str], list[str]]:
    """The actions and actors that occur, for the filter's choices."""
    actions = (await session.exec(select(AuditEntry.action).distinct().order_by(AuditEntry.action))).scalars()
    actors = (await session.exec(select(AuditEntry.actor).distinct().order_by(AuditEntry.actor))).scalars()
    return list(actions), list(actors)


def detail_text(detail: dict[str, Any]) -> str:
    return json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str)


def _row(entry: AuditEntry, zone: ZoneInfo) -> list[Any]:
    return [entry.id, entry.at.astimezone(zone).isoformat(), entry.at.astimezone(UTC).isoformat(),
            entry.actor, entry.action, entry.mention_id, detail_text(entry.detail)]


async def audit_csv(db: Database, filters: AuditFilters, tz: str) -> AsyncIterator[str]:
    """The filtered trail, newest first, streamed in batches."""
    zone = ZoneInfo(tz)
    stmt = (select(AuditEntry).where(*filters.conditions()).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
            .execution_options(yield_per=STREAM_BATCH))
    yield csv_line(CSV_COLUMNS)
    async with db.read() as session:
        result = await session.stream_scalars(stmt)
        async for batch in result.partitions():
            yield "".join(csv_line(_row(entry, zone)) for entry in batch)
