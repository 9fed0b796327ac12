"""Turn the `[sla]` config section into the pure clock's `SlaPolicy`."""
from __future__ import annotations

from datetime import date

from app.sla.clock import OpeningHours, SlaPolicy

# Public holidays are looked up for a window around today; the clock only needs dates near
# the mentions it measures, and reports rarely look further back.
_HOLIDAY_YEARS = range(date.today().year - 3, date.today().year + 3)


def policy_from_config(section) -> SlaPolicy:
    hours = OpeningHours.parse(section.hours) if section.hours else None
    holidays = (SlaPolicy.holiday_dates(section.holidays, _HOLIDAY_YEARS, section.holidays_subdiv)
                if section.holidays else frozenset())
    return SlaPolicy(target_minutes=section.target_minutes, warning_minutes=section.warning_minutes,
                     timezone=section.timezone, hours=hours, holidays=holidays)
