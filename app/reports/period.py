"""The report period: `since`/`until` as the team reads them, turned into a UTC range.

A bare date means that whole local day (`until=2026-10-31` includes the 31st); a datetime
without an offset is the team's wall-clock time. The range is half-open: [since, until).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.core.bounds import YEARS, day_within_years, within_years

DEFAULT_DAYS = 7


class PeriodError(ValueError):
    """A since/until the team has to correct (answered with 422)."""


@dataclass(frozen=True)
class Period:
    since: datetime  # UTC, inclusive
    until: datetime  # UTC, exclusive
    timezone: str

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def first_day(self) -> date:
        return self.since.astimezone(self.zone).date()

    @property
    def last_day(self) -> date:
        """The local day holding the last instant of the range."""
        return (self.until - timedelta(microseconds=1)).astimezone(self.zone).date()

    def days(self) -> list[date]:
        first, last = self.first_day, self.last_day
        return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    # No DST change in any zone happens at midnight in a way that skips 00:00 in Europe; where
    # it does (a few zones), zoneinfo maps the gap forward, which is still the start of the day.
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def _parse(value: str, zone: ZoneInfo, *, end: bool) -> datetime:
    text = value.strip()
    try:
        if len(text) == 10:  # YYYY-MM-DD: the whole local day
            day = date.fromisoformat(text)
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise PeriodError(f"{text!r} is not an ISO date (2026-10-25) or date and time (2026-10-25T14:00)") from None
    try:  # checked before moving the moment: near year 1 or 9999 that would overflow
        if len(text) == 10:
            day = day_within_years(day)
            return local_midnight(day + timedelta(days=1) if end else day, zone)
        return within_years(moment if moment.tzinfo else moment.replace(tzinfo=zone)).astimezone(UTC)
    except ValueError:
        raise PeriodError(f"{text!r} is outside the years a report covers: dates must be {YEARS}") from None


def parse_period(since: str | None, until: str | None, tz: str, now: datetime) -> Period:
    """The period asked for; by default the last 7 local days including today."""
    zone = ZoneInfo(tz)
    tomorrow = now.astimezone(zone).date() + timedelta(days=1)
    end = _parse(until, zone, end=True) if until else local_midnight(tomorrow, zone)
    if since:
        start = _parse(since, zone, end=False)
    else:
        last_day = (end - timedelta(microseconds=1)).astimezone(zone).date()
        start = local_midnight(last_day - timedelta(days=DEFAULT_DAYS - 1), zone)
    if start >= end:
        raise PeriodError("since must be before until")
    return Period(since=start, until=end, timezone=tz)


def today(tz: str, now: datetime) -> Period:
    day = now.astimezone(ZoneInfo(tz)).date()
    return parse_period(day.isoformat(), day.isoformat(), tz, now)
