"""Time keys (day, week, hour, weekday_hour) as UTC ranges, worked out in Python.

A report grouped by time does not convert every row's timestamp in SQL: the period is cut
into slices at every local midnight (day, week) or at every local hour start and UTC-offset
change (hour, weekday_hour), found with zoneinfo; each slice gets the key of its local start,
and neighbours with the same key merge.
The database only compares `posted_at` with the slice bounds, so SQLite and PostgreSQL put
every mention in the same group by construction, DST nights included (the 25-hour day is one
slice; both 02:00 hours of the night the clocks go back are hour 2).
"""
from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from app.reports.period import Period, local_midnight

TEMPORAL = ("day", "week", "hour", "weekday_hour")
_DAY, _HOUR = timedelta(days=1), timedelta(hours=1)


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
                at = datetime.fromtimestamp(middle, UTC)
                low, high = (middle, high) if offset(at) == offset(day) else (low, middle)
            changed_at = datetime.fromtimestamp(high, UTC)
            changes.append((changed_at, offset(changed_at)))
        day = nxt
    return changes


# The key of a slice from the local wall-clock time at its start.
_KEYS: dict[str, Callable[[datetime], Any]] = {
    "day": lambda local: local.date().isoformat(),
    "week": lambda local: (local.date() - timedelta(days=local.weekday())).isoformat(),  # its Monday
    "hour": lambda local: local.hour,
    "weekday_hour": lambda local: local.weekday() * 24 + local.hour,  # 0 is Monday 00:00
}


@dataclass(frozen=True)
class Slice:
    start: datetime  # UTC, inclusive
    end: datetime  # UTC, exclusive
    key: Any


def _hour_starts(period: Period) -> list[datetime]:
    """`since`, then every instant the team's clock starts a new hour or jumps (an offset change
    starts a new slice even when the hour number repeats, as on the night the clocks go back)."""
    changes = offset_changes(period)
    starts = []
    for i, (start, offset) in enumerate(changes):
        end = changes[i + 1][0] if i + 1 < len(changes) else period.until
        shift = timedelta(seconds=offset)
        starts.append(start)
        at = (start + shift).replace(minute=0, second=0, microsecond=0) + _HOUR - shift  # next whole local hour
        while at < end:
            starts.append(at)
            at += _HOUR
    return starts


def _day_starts(period: Period) -> list[datetime]:
    """`since`, then every local midnight in the period (a day is one slice, 23 or 25 hours long)."""
    return [period.since, *(local_midnight(day, period.zone) for day in period.days()[1:])]


def time_slices(group_by: str, period: Period) -> list[Slice]:
    """The period as consecutive UTC ranges, each with one `group_by` key."""
    key_of, zone = _KEYS[group_by], period.zone
    starts = _day_starts(period) if group_by in ("day", "week") else _hour_starts(period)
    slices: list[Slice] = []
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else period.until
        key = key_of(start.astimezone(zone))
        if slices and slices[-1].key == key:  # the days of one week: one range
            slices[-1] = Slice(slices[-1].start, end, key)
        else:
            slices.append(Slice(start, end, key))
    return slices


def key_finder(slices: list[Slice]) -> Callable[[datetime], Any]:
    """moment → the key of the slice holding it (a UTC instant inside the period)."""
    starts = [s.start for s in slices]
    return lambda moment: slices[bisect_right(starts, moment) - 1].key
