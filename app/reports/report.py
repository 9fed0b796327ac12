"""SLA report: the figures of a period, overall and per group.

The SLA population is inbound, non-backfill mentions posted in the period. One pass over them
(`scan_postgres` / `scan_sqlite`, each suited to its database) gives every group's outcome
letters and first-response times (`tally`); the overall row adds the groups up. Follow-up
promises, being few, are read separately and put in their group in Python.

Several groupings of one period (`sla_reports`, as the reports page wants) share passes: the
column groupings one pass keyed by all their columns together, and on SQLite the time
groupings one pass over the finest slices they need (a local day is a run of whole local
hours); each report adds its groups up from those.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.models import FollowUp, Mention
from app.reports import scan_postgres, scan_sqlite
from app.reports.figures import Figures
from app.reports.grouping import CATEGORICAL, check_group_by, key_label, sort_key
from app.reports.period import Period
from app.reports.tally import Scan
from app.reports.timeslices import TEMPORAL, Slice, key_finder, time_slices


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
    return (await sla_reports(session, period, now, [group_by], filters=filters))[group_by]


async def sla_reports(session: AsyncSession, period: Period, now: datetime, group_bys: Sequence[str | None], *,
                      filters: ReportFilters = ReportFilters()) -> dict[str | None, Report]:
    """One report per grouping (None: ungrouped), from as few passes as they allow."""
    for group_by in group_bys:
        check_group_by(group_by)
    who = _population(filters)
    wanted = list(dict.fromkeys(group_bys))
    found = {**await _time_scans(session, who, period, now, [g for g in wanted if g in TEMPORAL]),
             **await _column_scans(session, who, period, now, [g for g in wanted if g in CATEGORICAL])}
    if None in wanted:
        found[None] = (await _scan(session, who, period, now, None, None), None)
    return {group_by: await _report(session, period, filters, who, group_by, *found[group_by])
            for group_by in group_bys}


Found = dict[str | None, tuple[Scan, list[Slice] | None]]   # grouping → (its tallies, its slices)


async def _time_scans(session: AsyncSession, who: list, period: Period, now: datetime, temporal: list[str]) -> Found:
    """SQLite reads slice by slice anyway, so one pass over hours serves days and weeks too;
    PostgreSQL groups in the database, where a key per hour of the period is thousands of
    groups: a pass per grouping costs less there."""
    found: Found = {}
    if len(temporal) <= 1 or session.bind.dialect.name == "postgresql":
        for group_by in temporal:
            slices = time_slices(group_by, period)
            found[group_by] = (await _scan(session, who, period, now, None, slices), slices)
        return found
    finest = "hour" if {"hour", "weekday_hour"} & set(temporal) else "day"
    fine = [Slice(s.start, s.end, i) for i, s in enumerate(time_slices(finest, period))]
    by_slice = await _scan(session, who, period, now, None, fine)
    for group_by in temporal:
        slices = time_slices(group_by, period)
        key_of = key_finder(slices)
        found[group_by] = (_regroup(by_slice, lambda index, key_of=key_of: key_of(fine[index].start)), slices)
    return found


async def _column_scans(session: AsyncSession, who: list, period: Period, now: datetime,
                        columns: list[str]) -> Found:
    """One pass keyed by the values of all the columns; each grouping adds up its own."""
    if not columns:
        return {}
    by_columns = await _scan(session, who, period, now, [CATEGORICAL[g] for g in columns], None)
    return {group_by: (_regroup(by_columns, lambda values, at=position: values[at]), None)
            for position, group_by in enumerate(columns)}


async def _scan(session: AsyncSession, who: list, period: Period, now: datetime, columns: list | None,
                slices: list[Slice] | None) -> Scan:
    if session.bind.dialect.name == "postgresql":
        return await scan_postgres.scan(session, [*who, *_in_period(period)], now, columns, slices)
    # SQLite reads each slice's range of the posted_at index: no other bounds to choose from
    return await scan_sqlite.scan(session, who, now, columns, slices, period)


def _regroup(found: Scan, key_of: Callable[[Any], Any]) -> Scan:
    """`found`'s groups added up under new keys (`key_of` maps an old key to its new one)."""
    merged = Scan(seconds=found.seconds, repeats=found.repeats)
    for key, tally in found.groups.items():
        group = merged.group(key_of(key))
        group.letters.update(tally.letters)
        group.seconds.update(tally.seconds)
    return merged


async def _report(session: AsyncSession, period: Period, filters: ReportFilters, who: list,
                  group_by: str | None, found: Scan, slices: list[Slice] | None) -> Report:
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
