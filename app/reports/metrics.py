"""SLA report: the figures of a period, overall and per group.

The SLA population is inbound, non-backfill mentions posted in the period. One pass over them
(`scan_postgres` / `scan_sqlite`, each suited to its database) gives every group's outcome
letters and first-response times (`tally`); the overall row adds the groups up. Follow-up
promises, being few, are read separately and put in their group in Python.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models import FollowUp, Mention
from app.reports import scan_postgres, scan_sqlite
from app.reports.figures import Figures
from app.reports.grouping import CATEGORICAL, check_group_by, key_label, sort_key
from app.reports.period import Period
from app.reports.timeslices import TEMPORAL, key_finder, time_slices


@dataclass(frozen=True)
class ReportFilters:
    channel: str | None = None
    source: str | None = None
    category: str | None = None
    language: str | None = None
    responder: str | None = None  # answered_by; forced to the caller for responders

    def conditions(self) -> list:
        pairs = ((Mention.channel, self.channel), (Mention.source, self.source), (Mention.category, self.category),
                 (Mention.language, self.language), (Mention.answered_by, self.responder))
        return [column == value for column, value in pairs if value]


@dataclass
class Report:
    period: Period
    group_by: str | None
    filters: ReportFilters
    overall: Figures
    groups: list[tuple[Any, Figures]]
    repeat_by_category: dict[str | None, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        overall = self.overall.as_dict()
        by_category: dict[str, int] = {}
        for category, n in sorted(self.repeat_by_category.items(), key=lambda kv: sort_key(kv[0])):
            by_category[category or ""] = by_category.get(category or "", 0) + n  # no category: ""
        overall["repeat_contacts_by_category"] = by_category
        return {"since": self.period.since.isoformat(), "until": self.period.until.isoformat(),
                "timezone": self.period.timezone, "group_by": self.group_by,
                "overall": overall, "groups": [{"key": key, **figures.as_dict()} for key, figures in self.groups]}


def _population(filters: ReportFilters) -> list:
    """Who counts, apart from the period (each scan bounds `posted_at` its own way)."""
    return [Mention.direction == "inbound", Mention.backfill.is_(False), *filters.conditions()]


def _in_period(period: Period) -> list:
    return [Mention.posted_at >= period.since, Mention.posted_at < period.until]


async def _follow_ups(session, conds, group_by: str | None, slices, groups: dict[Any, Figures]) -> None:
    """Kept and missed promises on the period's mentions, each counted in its mention's group."""
    column = CATEGORICAL.get(group_by, Mention.posted_at)
    key_of = key_finder(slices) if slices else (lambda value: value)
    rows = await session.execute(select(column, FollowUp.state).select_from(FollowUp)
                                 .join(Mention, Mention.id == FollowUp.mention_id)
                                 .where(FollowUp.state.in_(("kept", "missed")), *conds))
    for value, state in rows:
        f = groups.setdefault(key_of(value) if group_by else None, Figures())
        if state == "kept":
            f.follow_ups_kept += 1
        else:
            f.follow_ups_missed += 1


async def sla_report(session: AsyncSession, period: Period, now: datetime, *, group_by: str | None = None,
                     filters: ReportFilters = ReportFilters()) -> Report:
    check_group_by(group_by)
    who = _population(filters)
    slices = time_slices(group_by, period) if group_by in TEMPORAL else None
    if session.bind.dialect.name == "postgresql":
        found = await scan_postgres.scan(session, [*who, *_in_period(period)], now, group_by, slices)
    else:  # SQLite reads each slice's range of the posted_at index: no other bounds to choose from
        found = await scan_sqlite.scan(session, who, now, group_by, slices, period)
    groups = {key: tally.figures() for key, tally in found.groups.items()} if group_by else {}
    await _follow_ups(session, [*who, *_in_period(period)], group_by, slices, groups)
    overall = found.total().figures()
    for figures in groups.values():
        overall.follow_ups_kept += figures.follow_ups_kept
        overall.follow_ups_missed += figures.follow_ups_missed
    ordered = [] if group_by is None else [(key_label(group_by, raw), groups[raw])
                                           for raw in sorted(groups, key=sort_key)]
    return Report(period=period, group_by=group_by, filters=filters, overall=overall, groups=ordered,
                  repeat_by_category=dict(found.repeats))
