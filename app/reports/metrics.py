"""SLA report queries: a few grouped aggregates over the mentions of a period.

The SLA population is inbound, non-backfill mentions posted in the period. Each query is
grouped by the report key and summed in Python for the overall row: one pass for what every
row has (count, replied, in time, repeat), the few open or dismissed rows through the
(status, posted_at) index, the frequency table of first-response seconds (for exact
percentiles), follow-up promises, and repeat contacts per category.

Repeat contacts (the author wrote to us in the same channel within the 7 days before) are
decided once, at ingest (`app/ingest.py`, REPEAT_WINDOW), and stored as the urgency reason
"repeat"; counting that flag keeps the report one pass instead of a window over the table.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Text, and_, case, cast, func, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models import FollowUp, Mention
from app.queue import OPEN_STATUSES
from app.reports.figures import Figures
from app.reports.grouping import key_expression, key_label, sort_key
from app.reports.period import Period

# The stored JSON list holds the quoted reason: '["repeat", "anger"]'.
IS_REPEAT = cast(Mention.urgency_reasons, Text).like('%"repeat"%')


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
        overall["repeat_contacts_by_category"] = {k or "": n for k, n in sorted(
            self.repeat_by_category.items(), key=lambda kv: sort_key(kv[0]))}
        return {"since": self.period.since.isoformat(), "until": self.period.until.isoformat(),
                "timezone": self.period.timezone, "group_by": self.group_by,
                "overall": overall, "groups": [{"key": key, **figures.as_dict()} for key, figures in self.groups]}


def _flag(condition):
    return func.sum(case((condition, 1), else_=0))


def _in_period(period: Period, filters: ReportFilters) -> list:
    return [Mention.direction == "inbound", Mention.backfill.is_(False),
            Mention.posted_at >= period.since, Mention.posted_at < period.until, *filters.conditions()]


async def _counts(session, keys, conds, groups: dict) -> None:
    """The one pass over every mention of the period: the columns each row has."""
    rows = await session.execute(select(*keys, func.count(), _flag(Mention.status == "answered"),
                                        _flag(and_(Mention.status == "answered", Mention.within_target.is_(True))),
                                        _flag(IS_REPEAT)).where(*conds).group_by(*keys))
    for row in rows:
        key, values = (row[0], row[1:]) if keys else (None, row)
        f = groups.setdefault(key, Figures())
        f.mentions, f.replied, f.within_target, f.repeat_contacts = (int(v or 0) for v in values)


async def _open_and_dismissed(session, keys, conds, now: datetime, groups: dict) -> None:
    """The few mentions still open or dismissed, found through the (status, posted_at) index."""
    status, reason = Mention.status, Mention.dismiss_reason
    shown = Mention.removed.is_(False)  # a post its author deleted is not waiting for anyone
    rows = await session.execute(
        select(*keys, status, reason, func.count(), _flag(shown), _flag(and_(shown, Mention.due_at <= now)))
        .where(*conds, status.in_((*OPEN_STATUSES, "dismissed"))).group_by(*keys, status, reason))
    for row in rows:
        key, (state, why, n, still_shown, past_due) = (row[0], row[1:]) if keys else (None, row)
        f = groups.setdefault(key, Figures())
        if state == "dismissed":
            f.dismissed += int(n)
            f.dismissed_by_reason[why] = f.dismissed_by_reason.get(why, 0) + int(n)
        else:
            f.open += int(still_shown or 0)
            f.open_breached += int(past_due or 0)


async def _repeats_by_category(session, conds) -> dict[str | None, int]:
    rows = await session.execute(select(Mention.category, func.count()).where(*conds, IS_REPEAT)
                                 .group_by(Mention.category))
    return {category: int(n) for category, n in rows}


def _response_time_counts(keys, conds):
    """(key,) seconds, n: how many replies in the group took exactly that many seconds."""
    seconds = Mention.first_response_seconds
    return (select(*keys, seconds.label("seconds"), func.count().label("n"))
            .where(*conds, Mention.status == "answered", seconds.is_not(None)).group_by(*keys, seconds))


async def _overall_response_times(session, conds) -> Counter:
    rows = await session.execute(_response_time_counts([], conds))
    return Counter({int(seconds): int(n) for seconds, n in rows})


async def _group_percentiles(session, keys, conds, groups: dict) -> None:
    """Median and p90 per group in SQL: running totals over each group's frequency table, and
    the row where the running total first reaches rank ceil(p × total / 100). Only those rows
    come back, not the whole table (which is large for day or hour groups)."""
    freq = _response_time_counts(keys, conds).subquery()
    # PostgreSQL sums bigint counts as numeric; back to integers for the integer ceil below.
    total = cast(func.sum(freq.c.n).over(partition_by=freq.c.key), BigInteger)
    running = cast(func.sum(freq.c.n).over(partition_by=freq.c.key, order_by=freq.c.seconds), BigInteger)
    ranked = select(freq.c.key, freq.c.seconds, freq.c.n, total.label("total"), running.label("running")).subquery()

    def reached(percent: int):
        rank = (ranked.c.total * percent + 99) // 100  # integer ceil, the same on both backends
        return and_(ranked.c.running >= rank, ranked.c.running - ranked.c.n < rank)

    median, p90 = reached(50), reached(90)
    rows = await session.execute(select(ranked.c.key, ranked.c.seconds, _flag(median), _flag(p90))
                                 .where(or_(median, p90)).group_by(ranked.c.key, ranked.c.seconds))
    for key, seconds, is_median, is_p90 in rows:
        f = groups.setdefault(key, Figures())
        if is_median:
            f.median_first_response_seconds = int(seconds)
        if is_p90:
            f.p90_first_response_seconds = int(seconds)


async def _follow_ups(session, keys, conds, groups: dict) -> None:
    # Filtering on the promise's state lets the database start from the (few) kept or missed
    # promises rather than walk the period's mentions looking for promises.
    rows = await session.execute(
        select(*keys, _flag(FollowUp.state == "kept"), _flag(FollowUp.state == "missed"))
        .select_from(FollowUp).join(Mention, Mention.id == FollowUp.mention_id)
        .where(FollowUp.state.in_(("kept", "missed")), *conds).group_by(*keys))
    for row in rows:
        key, kept, missed = (row[0], row[1], row[2]) if keys else (None, row[0], row[1])
        f = groups.setdefault(key, Figures())
        f.follow_ups_kept, f.follow_ups_missed = int(kept or 0), int(missed or 0)


async def sla_report(session: AsyncSession, period: Period, now: datetime, *, group_by: str | None = None,
                     filters: ReportFilters = ReportFilters()) -> Report:
    key = key_expression(group_by, period, session.bind.dialect.name) if group_by else None
    keys = [key.label("key")] if key is not None else []
    conds = _in_period(period, filters)
    groups: dict[Any, Figures] = {}
    await _counts(session, keys, conds, groups)
    await _open_and_dismissed(session, keys, conds, now, groups)
    if keys:
        await _group_percentiles(session, keys, conds, groups)
    await _follow_ups(session, keys, conds, groups)
    repeat_by_category = await _repeats_by_category(session, conds)
    overall = Figures()
    for figures in groups.values():
        overall.add(figures)
    overall.set_response_times(await _overall_response_times(session, conds))
    ordered = [] if group_by is None else [(key_label(group_by, raw), groups[raw])
                                           for raw in sorted(groups, key=sort_key)]
    return Report(period=period, group_by=group_by, filters=filters, overall=overall, groups=ordered,
                  repeat_by_category=repeat_by_category)
