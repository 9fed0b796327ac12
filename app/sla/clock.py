"""The SLA clock: how much of the response target a mention has used, in open time only.

Pure functions: `now` is always passed in, opening hours and holidays are plain data, and
nothing here reads files or the clock. Every datetime going in must be timezone-aware; every
datetime coming out is in UTC.

Open time is walked interval by interval (one local day at a time), never minute by minute,
so a mention posted before a long weekend costs a handful of iterations.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property, lru_cache
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# An interval's end of 00:00 means midnight at the end of the day (written "24:00"), since
# `datetime.time` has no 24:00 and an interval cannot end where its day starts.
END_OF_DAY = time(0)
_WHOLE_DAY = ((time(0), END_OF_DAY),)
# How far due_at looks for open time before giving up: longer than any real run of closed
# days, short enough to stay a few hundred iterations.
SEARCH_DAYS = 400

_SECOND = timedelta(seconds=1)
_NONE = timedelta()
_ONE_DAY = timedelta(days=1)
_INTERVAL_TEXT = re.compile(r"(\d{2}):(\d{2})-(\d{2}):(\d{2})")

SlaState = Literal["ok", "warning", "breached"]
Interval = tuple[time, time]


@dataclass(frozen=True)
class OpeningHours:
    """Per weekday (0=Mon..6=Sun) the open intervals in the team's local time, sorted."""

    days: tuple[tuple[Interval, ...], ...]

    def __post_init__(self) -> None:
        if len(self.days) != 7:
            raise ValueError(f"opening hours need 7 weekdays, got {len(self.days)}")
        for key, intervals in zip(DAY_KEYS, self.days, strict=True):
            _check_intervals(key, intervals)

    @classmethod
    def parse(cls, spec: Mapping[str, str]) -> OpeningHours:
        """`{"mon": "08:00-12:00,13:00-17:00", "sun": "closed"}`; a missing day is closed."""
        if not isinstance(spec, Mapping):
            raise ValueError("opening hours must be a table of day = \"HH:MM-HH:MM\"")
        unknown = [key for key in spec if key not in DAY_KEYS]
        if unknown:
            raise ValueError(f"hours.{unknown[0]}: unknown day (use {', '.join(DAY_KEYS)})")
        return cls(tuple(_parse_day(key, spec.get(key, "closed")) for key in DAY_KEYS))

    @property
    def has_open_time(self) -> bool:
        return any(self.days)


def _parse_day(key: str, text: object) -> tuple[Interval, ...]:
    if not isinstance(text, str):
        raise ValueError(f"hours.{key}: expected text like \"08:00-22:00\" or \"closed\", got {text!r}")
    cleaned = text.strip().lower()
    if cleaned in ("", "closed"):
        return ()
    return tuple(_parse_interval(key, part.strip()) for part in cleaned.split(","))


def _parse_interval(key: str, text: str) -> Interval:
    match = _INTERVAL_TEXT.fullmatch(text)
    if not match:
        raise ValueError(f"hours.{key}: {text!r} is not HH:MM-HH:MM (e.g. \"08:00-22:00\")")
    start_h, start_m, end_h, end_m = (int(group) for group in match.groups())
    if start_h > 23 or start_m > 59 or end_m > 59 or end_h > 24 or (end_h == 24 and end_m):
        raise ValueError(f"hours.{key}: {text!r} has an impossible time (00:00 to 24:00)")
    end = END_OF_DAY if end_h == 24 else time(end_h, end_m)
    return time(start_h, start_m), end


def _minutes(at: time, *, is_end: bool = False) -> int:
    return 24 * 60 if is_end and at == END_OF_DAY else at.hour * 60 + at.minute


def _check_intervals(key: str, intervals: tuple[Interval, ...]) -> None:
    previous_end = -1
    for start, end in intervals:
        start_min, end_min = _minutes(start), _minutes(end, is_end=True)
        if start.second or start.microsecond or end.second or end.microsecond:
            raise ValueError(f"hours.{key}: times are whole minutes")
        if end_min <= start_min:
            raise ValueError(f"hours.{key}: {_label(start, end)} ends before it starts "
                             "(split a night shift over two days)")
        if start_min < previous_end:
            raise ValueError(f"hours.{key}: {_label(start, end)} overlaps or is out of order")
        previous_end = end_min


def _label(start: time, end: time) -> str:
    end_text = "24:00" if end == END_OF_DAY else end.strftime("%H:%M")
    return f"{start.strftime('%H:%M')}-{end_text}"


@dataclass(frozen=True)
class SlaPolicy:
    target_minutes: int = 60
    warning_minutes: int = 45
    timezone: str = "Europe/Amsterdam"
    hours: OpeningHours | None = None  # None: open 24/7
    holidays: frozenset[date] = frozenset()  # local dates on which the team is closed all day

    def __post_init__(self) -> None:
        if self.target_minutes <= 0:
            raise ValueError(f"target_minutes must be positive, got {self.target_minutes}")
        if not 0 < self.warning_minutes < self.target_minutes:
            raise ValueError(f"warning_minutes ({self.warning_minutes}) must be above 0 and below "
                             f"target_minutes ({self.target_minutes})")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {self.timezone!r} (use an IANA name like Europe/Amsterdam)") from None
        if self.hours is not None and not self.hours.has_open_time:
            raise ValueError("opening hours are closed every day; leave them out for 24/7")
        object.__setattr__(self, "holidays", frozenset(self.holidays))

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)  # ZoneInfo caches instances per key

    # Worked out once per policy, not once per mention of a page.
    @cached_property
    def target(self) -> timedelta:
        return timedelta(minutes=self.target_minutes)

    @cached_property
    def warning(self) -> timedelta:
        return timedelta(minutes=self.warning_minutes)

    @property
    def always_open(self) -> bool:
        return self.hours is None and not self.holidays

    @staticmethod
    def holiday_dates(country: str, years: Iterable[int], subdiv: str | None = None) -> frozenset[date]:
        """Public holidays of `country` (ISO code, e.g. "NL") in `years`, as local dates."""
        try:
            import holidays as holiday_calendars  # only with [sla] holidays: ~9 MB of calendars

            calendar = holiday_calendars.country_holidays(country, subdiv=subdiv, years=list(years))
        except NotImplementedError:
            raise ValueError(f"no public holiday calendar for country {country!r}"
                             + (f" subdivision {subdiv!r}" if subdiv else "")) from None
        return frozenset(calendar)


@dataclass(frozen=True)
class SlaStatus:
    due_at: datetime
    seconds_left: int
    clock_running: bool
    sla_state: SlaState


# --- instants and open intervals -----------------------------------------------------------

def _utc(name: str, value: datetime) -> datetime:
    if not isinstance(value, datetime):
        raise ValueError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")
    return value.astimezone(UTC)


def _wall_clock_to_utc(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The instant the local clock shows `day at`.

    A time shown twice (autumn) means its first occurrence; a time skipped (spring) means
    the moment the clocks jump, since that is when the wall clock first reaches it.
    """
    wall = datetime.combine(day, at)
    instant = wall.replace(tzinfo=zone).astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == wall:
        return instant
    # In the gap: fold=0 and fold=1 straddle the jump; bisect to the second it happens.
    other = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    low, high = sorted((int(instant.timestamp()), int(other.timestamp())))
    while high - low > 1:
        middle = (low + high) // 2
        shown = datetime.fromtimestamp(middle, zone).replace(tzinfo=None)
        low, high = (low, middle) if shown >= wall else (middle, high)
    return datetime.fromtimestamp(high, UTC)


# A page of the queue asks for the same few days once per mention: each is worked out once.
@lru_cache(maxsize=1024)
def _open_intervals_on(day: date, policy: SlaPolicy) -> tuple[tuple[datetime, datetime], ...]:
    """The UTC intervals in which the team is open on local `day`."""
    if day in policy.holidays:
        return ()
    zone = policy.zone
    spans = policy.hours.days[day.weekday()] if policy.hours else _WHOLE_DAY
    intervals = []
    for start, end in spans:
        opens = _wall_clock_to_utc(day, start, zone)
        closes = _wall_clock_to_utc(day + _ONE_DAY if end == END_OF_DAY else day, end, zone)
        if closes > opens:  # an interval inside the spring gap has no open time
            intervals.append((opens, closes))
    return tuple(intervals)


def _open_intervals(start: datetime, policy: SlaPolicy,
                    until: datetime | None = None) -> Iterator[tuple[datetime, datetime]]:
    """Open intervals clipped to [start, until), in order; without `until`, SEARCH_DAYS ahead.

    Every interval of a local day lies inside that day, so walking the local dates from
    `start`'s to `until`'s covers everything.
    """
    zone = policy.zone
    day = start.astimezone(zone).date()
    last_day = until.astimezone(zone).date() if until else day + timedelta(days=SEARCH_DAYS)
    while day <= last_day:
        for opens, closes in _open_intervals_on(day, policy):
            opens, closes = max(opens, start), min(closes, until) if until else closes
            if closes > opens:
                yield opens, closes
        day += _ONE_DAY


def _open_time(start: datetime, end: datetime, policy: SlaPolicy) -> timedelta:
    """Open time in [start, end), both UTC; negative when end is before start."""
    if end < start:
        return -_open_time(end, start, policy)
    if policy.always_open:
        return end - start
    return sum((closes - opens for opens, closes in _open_intervals(start, policy, end)), timedelta())


def _after_open_time(start: datetime, needed: timedelta, policy: SlaPolicy) -> datetime:
    """The instant when `needed` open time has passed since `start`."""
    if policy.always_open:
        return start + needed
    remaining = needed
    for opens, closes in _open_intervals(start, policy):
        if closes - opens >= remaining:
            return opens + remaining
        remaining -= closes - opens
    raise ValueError(f"the team is not open long enough in the {SEARCH_DAYS} days after "
                     f"{start.isoformat()}; check the opening hours and holidays")


def _elapsed(posted_at: datetime, now: datetime, policy: SlaPolicy) -> timedelta:
    """Open time used so far; a mention stamped in the future (clock skew) has used none."""
    return _used(_utc("posted_at", posted_at), _utc("now", now), policy)


def _used(posted: datetime, now: datetime, policy: SlaPolicy) -> timedelta:
    """`_elapsed` between instants already in UTC."""
    return max(_open_time(posted, now, policy), _NONE)


def _state(elapsed: timedelta, policy: SlaPolicy) -> SlaState:
    # Same boundaries as the stored warning_at/due_at: the state flips at that very instant.
    if elapsed >= policy.target:
        return "breached"
    if elapsed >= policy.warning:
        return "warning"
    return "ok"


def _seconds_left(elapsed: timedelta, policy: SlaPolicy) -> int:
    # Rounded up, so 0 or less means breached and a positive count means time remains.
    return -((elapsed - policy.target) // _SECOND)


# --- public API ----------------------------------------------------------------------------

def sla_seconds_between(start: datetime, end: datetime, policy: SlaPolicy) -> float:
    """Seconds of open time in [start, end); negative if end is before start."""
    return _open_time(_utc("start", start), _utc("end", end), policy).total_seconds()


def due_at(posted_at: datetime, policy: SlaPolicy) -> datetime:
    """When target_minutes of open time have passed since posted_at (UTC)."""
    return _after_open_time(_utc("posted_at", posted_at), policy.target, policy)


def warning_at(posted_at: datetime, policy: SlaPolicy) -> datetime:
    """When warning_minutes of open time have passed since posted_at (UTC)."""
    return _after_open_time(_utc("posted_at", posted_at), policy.warning, policy)


def clock_running(now: datetime, policy: SlaPolicy) -> bool:
    """Whether the team is open (and the clock ticking) at `now`."""
    now = _utc("now", now)
    local_day = now.astimezone(policy.zone).date()
    return any(opens <= now < closes for opens, closes in _open_intervals_on(local_day, policy))


def seconds_left(posted_at: datetime, now: datetime, policy: SlaPolicy) -> int:
    """Target seconds minus open seconds used; 0 or negative once breached."""
    return _seconds_left(_elapsed(posted_at, now, policy), policy)


def sla_state(posted_at: datetime, now: datetime, policy: SlaPolicy) -> SlaState:
    return _state(_elapsed(posted_at, now, policy), policy)


def first_response_seconds(posted_at: datetime, answered_at: datetime, policy: SlaPolicy) -> int:
    """Open-time seconds from posting to the first answer (whole seconds, rounded down)."""
    return _elapsed(posted_at, answered_at, policy) // _SECOND


def evaluate(posted_at: datetime, now: datetime, policy: SlaPolicy) -> SlaStatus:
    elapsed = _elapsed(posted_at, now, policy)
    return SlaStatus(due_at=due_at(posted_at, policy), seconds_left=_seconds_left(elapsed, policy),
                     clock_running=clock_running(now, policy), sla_state=_state(elapsed, policy))


class ClockAt:
    """The clock at one moment for many mentions (a page of the queue): whether it runs at
    `now` is worked out once, and per mention only the open time it has used."""

    def __init__(self, now: datetime, policy: SlaPolicy):
        self.now, self.policy = _utc("now", now), policy
        self.running = clock_running(self.now, policy)

    def reading(self, posted_at: datetime) -> tuple[int, SlaState]:
        """Seconds left and the SLA state of a mention posted at `posted_at` (as `evaluate`)."""
        elapsed = _used(_utc("posted_at", posted_at), self.now, self.policy)
        return _seconds_left(elapsed, self.policy), _state(elapsed, self.policy)

