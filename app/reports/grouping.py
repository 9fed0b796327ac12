"""What a report can be grouped by, as SQL key expressions, in the team's timezone.

PostgreSQL converts with `timezone(zone, posted_at)`. SQLite has no time zones, so the local
time is the UTC text shifted by the offset in force at that instant: a CASE over the zone's
offset changes inside the period (found with zoneinfo), which keeps DST days exact.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Date, Integer, case, cast, func, literal

from app.models import Mention
from app.reports.period import Period
from app.sla import DAY_KEYS

CATEGORICAL = {"channel": Mention.channel, "source": Mention.source, "responder": Mention.answered_by,
               "category": Mention.category, "language": Mention.language}
TEMPORAL = ("day", "week", "hour", "weekday_hour")
GROUP_BYS = (*CATEGORICAL, *TEMPORAL)

_DAY = timedelta(days=1)


def offset_changes(period: Period) -> list[tuple[datetime, int]]:
    """(from instant, UTC offset in seconds) for each offset in force during the period."""
    zone = period.zone

    def offset(at: datetime) -> int:
        return int(at.astimezone(zone).utcoffset().total_seconds())

    changes = [(period.since, offset(period.since))]
    day = period.since
    while day < period.until:
        nxt = min(day + _DAY, period.until)
        if offset(nxt) != offset(day):
            low, high = int(day.timestamp()), int(nxt.timestamp())  # bisect to the second of change
            while high - low > 1:
                middle = (low + high) // 2
                at = datetime.fromtimestamp(middle, timezone.utc)
                low, high = (middle, high) if offset(at) == offset(day) else (low, middle)
            changed_at = datetime.fromtimestamp(high, timezone.utc)
            changes.append((changed_at, offset(changed_at)))
        day = nxt
    return changes


def _sqlite_modifier(period: Period):
    """'+3600 seconds' / '+7200 seconds': the SQLite date modifier from UTC to local time."""
    changes = offset_changes(period)
    text = [f"{seconds:+d} seconds" for _, seconds in changes]
    if len(changes) == 1:
        return literal(text[0])
    whens = [(Mention.posted_at < start, text[i]) for i, (start, _) in enumerate(changes[1:])]
    return case(*whens, else_=text[-1])


def _temporal_sqlite(group_by: str, period: Period):
    shift = _sqlite_modifier(period)
    column = Mention.posted_at
    hour = cast(func.strftime("%H", column, shift), Integer)
    if group_by == "day":  # date() gives the same text as strftime('%Y-%m-%d'), faster
        return func.date(column, shift)
    if group_by == "week":  # the Monday starting the ISO week: to Sunday (or stay), back six days
        return func.date(column, shift, "weekday 0", "-6 days")
    if group_by == "hour":
        return hour
    weekday = (cast(func.strftime("%w", column, shift), Integer) + 6) % 7  # %w: 0 is Sunday
    return weekday * 24 + hour


def _temporal_postgres(group_by: str, period: Period):
    local = func.timezone(period.timezone, Mention.posted_at)
    hour = cast(func.date_part("hour", local), Integer)  # date_part: a double, cheaper than numeric extract
    if group_by == "day":  # a date groups faster than to_char() text; labelled in key_label
        return cast(local, Date)
    if group_by == "week":
        return cast(func.date_trunc("week", local), Date)
    if group_by == "hour":
        return hour
    return (cast(func.date_part("isodow", local), Integer) - 1) * 24 + hour


def key_expression(group_by: str, period: Period, dialect: str):
    if group_by in CATEGORICAL:
        return CATEGORICAL[group_by]
    if group_by not in TEMPORAL:
        raise ValueError(f"group_by must be one of {', '.join(GROUP_BYS)}")
    return _temporal_postgres(group_by, period) if dialect == "postgresql" else _temporal_sqlite(group_by, period)


def key_label(group_by: str, raw: Any) -> Any:
    """The key as the API shows it: weekday_hour 14 → 'mon-14'; the rest as they are."""
    if isinstance(raw, date):  # PostgreSQL's day and week keys
        return raw.isoformat()
    if group_by == "weekday_hour" and raw is not None:
        weekday, hour = divmod(int(raw), 24)
        return f"{DAY_KEYS[weekday]}-{hour:02d}"
    if group_by == "hour" and raw is not None:
        return int(raw)
    return raw


def sort_key(raw: Any) -> tuple:
    """Chronological for time keys, alphabetical otherwise; the no-value group last."""
    return (raw is None, raw if raw is not None else "")
