"""The SLA clock, table by table. Expected values are worked out by hand in the comments.

Amsterdam is UTC+1 in winter (CET) and UTC+2 in summer (CEST); in 2026 the clocks go
forward on Sunday 29 March (02:00 → 03:00) and back on Sunday 25 October (03:00 → 02:00).
"""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.sla.clock import (
    DAY_KEYS,
    END_OF_DAY,
    SEARCH_DAYS,
    OpeningHours,
    SlaPolicy,
    SlaStatus,
    clock_running,
    due_at,
    evaluate,
    first_response_seconds,
    seconds_left,
    sla_seconds_between,
    sla_state,
    warning_at,
)

AMS = ZoneInfo("Europe/Amsterdam")
UTC = UTC
HOUR = 3600


def ams(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0, *, fold: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=AMS, fold=fold)


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=UTC)


NL_2026 = SlaPolicy.holiday_dates("NL", [2026])
ALWAYS = SlaPolicy()
ALWAYS_NL = SlaPolicy(holidays=NL_2026)
WEEKDAYS = dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), "08:00-22:00")
OFFICE = SlaPolicy(hours=OpeningHours.parse({**WEEKDAYS, "sat": "10:00-18:00", "sun": "closed"}))
OFFICE_NL = SlaPolicy(hours=OFFICE.hours, holidays=NL_2026)
NINE_TO_FIVE_NL = SlaPolicy(hours=OpeningHours.parse(dict.fromkeys(WEEKDAYS, "09:00-17:00")), holidays=NL_2026)
SPLIT = SlaPolicy(hours=OpeningHours.parse({"wed": "08:00-12:00,13:00-17:00"}))
DAILY = SlaPolicy(hours=OpeningHours.parse(dict.fromkeys(DAY_KEYS, "08:00-22:00")))
SUNDAY_ALL_DAY = SlaPolicy(hours=OpeningHours.parse({"sun": "00:00-24:00"}))
SUNDAY_NIGHT = SlaPolicy(hours=OpeningHours.parse({"sun": "01:00-04:00"}))
SUNDAY_FROM_0230 = SlaPolicy(hours=OpeningHours.parse({"sun": "02:30-05:00"}))


# --- due_at ------------------------------------------------------------------------------

@pytest.mark.parametrize(("policy", "posted", "expected"), [
    pytest.param(ALWAYS, ams(2026, 1, 14, 10), ams(2026, 1, 14, 11), id="24/7"),
    # 00:30 UTC + 60 min = 01:30 UTC, which the clock shows as 03:30 CEST
    pytest.param(ALWAYS, ams(2026, 3, 29, 1, 30), utc(2026, 3, 29, 1, 30), id="24/7 spring forward"),
    # the first 02:30 (CEST, 00:30 UTC) + 60 min = the second 02:30 (CET, 01:30 UTC)
    pytest.param(ALWAYS, ams(2026, 10, 25, 2, 30, fold=0), utc(2026, 10, 25, 1, 30), id="24/7 fall back"),
    pytest.param(OFFICE, ams(2026, 1, 14, 7), ams(2026, 1, 14, 9), id="posted before opening"),
    pytest.param(OFFICE, ams(2026, 1, 14, 10, 15), ams(2026, 1, 14, 11, 15), id="posted during hours"),
    # 30 min Wed until 22:00, 30 min from Thu 08:00
    pytest.param(OFFICE, ams(2026, 1, 14, 21, 30), ams(2026, 1, 15, 8, 30), id="across closing"),
    # 10 min Fri, Sat opens 10:00
    pytest.param(OFFICE, ams(2026, 1, 16, 21, 50), ams(2026, 1, 17, 10, 50), id="friday to saturday"),
    # 20 min Sat until 18:00, Sunday closed, 40 min from Mon 08:00
    pytest.param(OFFICE, ams(2026, 1, 17, 17, 40), ams(2026, 1, 19, 8, 40), id="over the weekend"),
    pytest.param(OFFICE, ams(2026, 1, 18, 12), ams(2026, 1, 19, 9), id="posted on a closed sunday"),
    # 30 min until the lunch break, 30 min after it
    pytest.param(SPLIT, ams(2026, 1, 14, 11, 30), ams(2026, 1, 14, 13, 30), id="split shift"),
    # Sunday closed, Monday 27 April is King's Day: Tuesday 08:00 CEST + 60 min
    pytest.param(OFFICE_NL, ams(2026, 4, 26, 12), ams(2026, 4, 28, 9), id="King's Day"),
    pytest.param(OFFICE, ams(2026, 4, 26, 12), ams(2026, 4, 27, 9), id="King's Day without holidays"),
    # 30 min Thu 24 Dec, Christmas Fri+Sat, Sunday closed, Monday 08:30
    pytest.param(OFFICE_NL, ams(2026, 12, 24, 21, 30), ams(2026, 12, 28, 8, 30), id="Christmas"),
    # Easter: 30 min Thu, Good Friday, weekend, Easter Monday, then Tuesday 09:30
    pytest.param(NINE_TO_FIVE_NL, ams(2026, 4, 2, 16, 30), ams(2026, 4, 7, 9, 30), id="long Easter weekend"),
    # 30 min Sat until 22:00 CET, then Sunday 08:00 is already CEST (06:00 UTC) + 30 min
    pytest.param(DAILY, ams(2026, 3, 28, 21, 30), utc(2026, 3, 29, 6, 30), id="hours spring forward"),
    # 30 min Sat until 22:00 CEST, then Sunday 08:00 CET (07:00 UTC) + 30 min
    pytest.param(DAILY, ams(2026, 10, 24, 21, 30), utc(2026, 10, 25, 7, 30), id="hours fall back"),
    # opens at the jump (01:00 UTC) because 02:30 never shows on the clock that night
    pytest.param(SUNDAY_FROM_0230, ams(2026, 3, 29, 0, 0), utc(2026, 3, 29, 2), id="opening inside the gap"),
])
def test_due_at(policy, posted, expected):
    assert due_at(posted, policy) == expected


def test_due_at_is_utc_whatever_zone_comes_in():
    posted_local, posted_utc = ams(2026, 1, 14, 21, 30), utc(2026, 1, 14, 20, 30)
    assert due_at(posted_local, OFFICE) == due_at(posted_utc, OFFICE) == utc(2026, 1, 15, 7, 30)
    assert due_at(posted_local, OFFICE).tzinfo is UTC


@pytest.mark.parametrize(("policy", "posted", "expected"), [
    pytest.param(ALWAYS, ams(2026, 1, 14, 10), ams(2026, 1, 14, 10, 45), id="24/7"),
    # 30 min Wed, 15 min from Thu 08:00
    pytest.param(OFFICE, ams(2026, 1, 14, 21, 30), ams(2026, 1, 15, 8, 15), id="across closing"),
    # exactly 45 min before closing: warned at the closing instant
    pytest.param(OFFICE, ams(2026, 1, 14, 21, 15), ams(2026, 1, 14, 22), id="at closing"),
])
def test_warning_at(policy, posted, expected):
    assert warning_at(posted, policy) == expected


def test_due_at_gives_up_when_no_open_time_follows():
    # 24/7 on paper, but every day for longer than the search window is a holiday
    blocked = frozenset(date(2026, 1, 1) + timedelta(days=n) for n in range(SEARCH_DAYS + 2))
    policy = SlaPolicy(holidays=blocked)
    with pytest.raises(ValueError, match="not open long enough"):
        due_at(ams(2026, 1, 1, 12), policy)


# --- open time between two instants -------------------------------------------------------

@pytest.mark.parametrize(("policy", "start", "end", "expected"), [
    pytest.param(ALWAYS, ams(2026, 1, 14, 10), ams(2026, 1, 14, 11), HOUR, id="24/7 hour"),
    pytest.param(ALWAYS, ams(2026, 1, 14, 11), ams(2026, 1, 14, 10), -HOUR, id="reversed is negative"),
    pytest.param(ALWAYS, ams(2026, 3, 29), ams(2026, 3, 30), 23 * HOUR, id="24/7 spring day is 23h"),
    pytest.param(ALWAYS, ams(2026, 10, 25), ams(2026, 10, 26), 25 * HOUR, id="24/7 autumn day is 25h"),
    pytest.param(SUNDAY_ALL_DAY, ams(2026, 3, 28), ams(2026, 3, 31), 23 * HOUR, id="00:00-24:00 spring"),
    pytest.param(SUNDAY_ALL_DAY, ams(2026, 10, 24), ams(2026, 10, 27), 25 * HOUR, id="00:00-24:00 autumn"),
    pytest.param(DAILY, ams(2026, 3, 29), ams(2026, 3, 30), 14 * HOUR, id="08-22 spring"),
    pytest.param(DAILY, ams(2026, 10, 25), ams(2026, 10, 26), 14 * HOUR, id="08-22 autumn"),
    # 01:00 CET (00:00 UTC) to 04:00 CEST (02:00 UTC)
    pytest.param(SUNDAY_NIGHT, ams(2026, 3, 29), ams(2026, 3, 30), 2 * HOUR, id="01-04 spring"),
    # 01:00 CEST (23:00 UTC Sat) to 04:00 CET (03:00 UTC)
    pytest.param(SUNDAY_NIGHT, ams(2026, 10, 25), ams(2026, 10, 26), 4 * HOUR, id="01-04 autumn"),
    # the first 02:30 (00:30 UTC) to 05:00 CET (04:00 UTC)
    pytest.param(SUNDAY_FROM_0230, ams(2026, 10, 25), ams(2026, 10, 26), 3.5 * HOUR, id="ambiguous opening"),
    # Fri 21-22 (1h) + Sat 10-18 (8h) + Mon 08-09 (1h)
    pytest.param(OFFICE, ams(2026, 1, 16, 21), ams(2026, 1, 19, 9), 10 * HOUR, id="weekend"),
    pytest.param(OFFICE, ams(2026, 1, 19, 9), ams(2026, 1, 16, 21), -10 * HOUR, id="weekend reversed"),
    pytest.param(OFFICE, ams(2026, 1, 18, 9), ams(2026, 1, 18, 17), 0, id="closed sunday"),
    # Sun 26 April 12-24 (12h) + King's Day (0) + Tue 28 00-12 (12h)
    pytest.param(ALWAYS_NL, ams(2026, 4, 26, 12), ams(2026, 4, 28, 12), 24 * HOUR, id="24/7 with King's Day"),
    pytest.param(SPLIT, ams(2026, 1, 14, 7), ams(2026, 1, 14, 18), 8 * HOUR, id="split shift day"),
])
def test_sla_seconds_between(policy, start, end, expected):
    assert sla_seconds_between(start, end, policy) == expected


# --- is the clock running -------------------------------------------------------------------

@pytest.mark.parametrize(("policy", "now", "expected"), [
    pytest.param(ALWAYS, ams(2026, 1, 18, 3), True, id="24/7 at night"),
    pytest.param(OFFICE, ams(2026, 1, 14, 8), True, id="opening instant counts"),
    pytest.param(OFFICE, ams(2026, 1, 14, 21, 59, 59), True, id="last second"),
    pytest.param(OFFICE, ams(2026, 1, 14, 22), False, id="closing instant does not"),
    pytest.param(OFFICE, ams(2026, 1, 18, 12), False, id="closed sunday"),
    pytest.param(SPLIT, ams(2026, 1, 14, 12, 30), False, id="lunch break"),
    pytest.param(OFFICE, ams(2026, 4, 27, 12), True, id="King's Day without holidays"),
    pytest.param(OFFICE_NL, ams(2026, 4, 27, 12), False, id="King's Day"),
    pytest.param(ALWAYS_NL, ams(2026, 12, 25, 12), False, id="24/7 closed on Christmas"),
    pytest.param(ALWAYS_NL, ams(2026, 12, 24, 23, 59, 59), True, id="24/7 Christmas Eve"),
    # 03:30 on the spring night is 01:30 UTC: inside 01:00-04:00
    pytest.param(SUNDAY_NIGHT, ams(2026, 3, 29, 3, 30), True, id="night shift after the jump"),
])
def test_clock_running(policy, now, expected):
    assert clock_running(now, policy) is expected


# --- state boundaries, to the second --------------------------------------------------------

POSTED = utc(2026, 1, 14, 10)


@pytest.mark.parametrize(("now", "left", "state"), [
    (POSTED, 3600, "ok"),
    (utc(2026, 1, 14, 10, 44, 59), 901, "ok"),
    (utc(2026, 1, 14, 10, 45), 900, "warning"),
    (utc(2026, 1, 14, 10, 59, 59), 1, "warning"),
    (utc(2026, 1, 14, 10, 59, 59) + timedelta(microseconds=500_000), 1, "warning"),  # rounded up
    (utc(2026, 1, 14, 11), 0, "breached"),
    (utc(2026, 1, 14, 11, 0, 1), -1, "breached"),
    (utc(2026, 1, 14, 12), -3600, "breached"),
    (POSTED - timedelta(seconds=30), 3600, "ok"),  # posted_at slightly ahead of our clock
])
def test_boundaries_24_7(now, left, state):
    assert seconds_left(POSTED, now, ALWAYS) == left
    assert sla_state(POSTED, now, ALWAYS) == state


# Posted Wed 21:30: warning at Thu 08:15, due at Thu 08:30.
LATE = ams(2026, 1, 14, 21, 30)


@pytest.mark.parametrize(("now", "left", "state", "running"), [
    (ams(2026, 1, 14, 21, 45), 2700, "ok", True),
    (ams(2026, 1, 14, 22), 1800, "ok", False),  # frozen from closing time...
    (ams(2026, 1, 15, 3), 1800, "ok", False),
    (ams(2026, 1, 15, 7, 59, 59), 1800, "ok", False),  # ...until opening
    (ams(2026, 1, 15, 8), 1800, "ok", True),
    (ams(2026, 1, 15, 8, 14, 59), 901, "ok", True),
    (ams(2026, 1, 15, 8, 15), 900, "warning", True),
    (ams(2026, 1, 15, 8, 29, 59), 1, "warning", True),
    (ams(2026, 1, 15, 8, 30), 0, "breached", True),
    (ams(2026, 1, 15, 9), -1800, "breached", True),
])
def test_boundaries_with_hours(now, left, state, running):
    assert seconds_left(LATE, now, OFFICE) == left
    assert sla_state(LATE, now, OFFICE) == state
    assert evaluate(LATE, now, OFFICE) == SlaStatus(
        due_at=ams(2026, 1, 15, 8, 30), seconds_left=left, clock_running=running, sla_state=state)


def test_state_flips_exactly_at_stored_instants():
    # The queue filters on stored warning_at/due_at with `<= now`; the clock must agree.
    for policy in (ALWAYS, OFFICE_NL, DAILY):
        for posted in (ams(2026, 1, 14, 21, 30), ams(2026, 3, 28, 21, 50), ams(2026, 4, 26, 9)):
            warn, due = warning_at(posted, policy), due_at(posted, policy)
            assert sla_state(posted, warn - timedelta(seconds=1), policy) == "ok"
            assert sla_state(posted, warn, policy) == "warning"
            assert sla_state(posted, due - timedelta(seconds=1), policy) == "warning"
            assert sla_state(posted, due, policy) == "breached"


# --- first response ----------------------------------------------------------------------------

@pytest.mark.parametrize(("policy", "posted", "answered", "expected"), [
    pytest.param(ALWAYS, utc(2026, 1, 14, 10), utc(2026, 1, 14, 10, 42), 42 * 60, id="24/7"),
    pytest.param(ALWAYS, utc(2026, 1, 14, 10), utc(2026, 1, 14, 10, 0, 10) + timedelta(microseconds=900_000),
                 10, id="whole seconds rounded down"),
    # 10 min Wed evening + 5 min Thu morning
    pytest.param(OFFICE, ams(2026, 1, 14, 21, 50), ams(2026, 1, 15, 8, 5), 15 * 60, id="overnight"),
    pytest.param(OFFICE_NL, ams(2026, 12, 24, 21, 30), ams(2026, 12, 28, 8, 0), 30 * 60, id="over Christmas"),
    pytest.param(ALWAYS, utc(2026, 1, 14, 10), utc(2026, 1, 14, 9, 59), 0, id="answer stamped before post"),
])
def test_first_response_seconds(policy, posted, answered, expected):
    assert first_response_seconds(posted, answered, policy) == expected


# --- input checks ------------------------------------------------------------------------------

NAIVE = datetime(2026, 1, 14, 10)
AWARE = utc(2026, 1, 14, 10)


@pytest.mark.parametrize("call", [
    pytest.param(lambda: due_at(NAIVE, ALWAYS), id="due_at"),
    pytest.param(lambda: warning_at(NAIVE, OFFICE), id="warning_at"),
    pytest.param(lambda: clock_running(NAIVE, OFFICE), id="clock_running"),
    pytest.param(lambda: seconds_left(AWARE, NAIVE, ALWAYS), id="seconds_left now"),
    pytest.param(lambda: sla_state(NAIVE, AWARE, ALWAYS), id="sla_state posted"),
    pytest.param(lambda: sla_seconds_between(AWARE, NAIVE, ALWAYS), id="between end"),
    pytest.param(lambda: first_response_seconds(AWARE, NAIVE, ALWAYS), id="first_response"),
    pytest.param(lambda: evaluate(NAIVE, AWARE, ALWAYS), id="evaluate"),
])
def test_naive_datetimes_are_rejected(call):
    with pytest.raises(ValueError, match="timezone-aware"):
        call()


def test_parse_opening_hours():
    hours = OpeningHours.parse({"mon": "08:00-12:00, 13:00-17:00", "sat": "10:00-24:00", "sun": "closed"})
    assert hours.days[0] == ((time(8), time(12)), (time(13), time(17)))
    assert hours.days[5] == ((time(10), END_OF_DAY),)
    assert hours.days[1:5] == ((), (), (), ())  # missing days are closed
    saturday = SlaPolicy(hours=hours)
    assert sla_seconds_between(ams(2026, 1, 17), ams(2026, 1, 18), saturday) == 14 * HOUR  # 24:00 is midnight


@pytest.mark.parametrize(("spec", "message"), [
    ({"mon": "8-22"}, r"hours\.mon: '8-22' is not HH:MM-HH:MM"),
    ({"monday": "08:00-22:00"}, r"hours\.monday: unknown day"),
    ({"tue": "22:00-08:00"}, r"hours\.tue: 22:00-08:00 ends before it starts"),
    ({"wed": "08:00-08:00"}, r"hours\.wed: 08:00-08:00 ends before it starts"),
    ({"wed": "08:00-12:00,11:00-13:00"}, r"hours\.wed: 11:00-13:00 overlaps"),
    ({"thu": "24:00-24:00"}, r"hours\.thu: .* impossible time"),
    ({"fri": "08:00-24:30"}, r"hours\.fri: .* impossible time"),
    ({"sat": "08:60-10:00"}, r"hours\.sat: .* impossible time"),
    ({"sun": 8}, r"hours\.sun: expected text"),
    ({"sun": "08:00-12:00,"}, r"hours\.sun: '' is not HH:MM-HH:MM"),
    (["mon"], "must be a table"),
])
def test_bad_hours_are_rejected(spec, message):
    with pytest.raises(ValueError, match=message):
        OpeningHours.parse(spec)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"timezone": "Europe/Amsterdamm"}, "unknown timezone 'Europe/Amsterdamm'"),
    ({"timezone": "CET+1"}, "unknown timezone"),
    ({"warning_minutes": 60}, r"warning_minutes \(60\) must be above 0 and below target_minutes \(60\)"),
    ({"warning_minutes": 0}, "warning_minutes"),
    ({"target_minutes": 0, "warning_minutes": 0}, "target_minutes must be positive"),
    ({"hours": OpeningHours.parse({})}, "closed every day"),
])
def test_bad_policy_is_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SlaPolicy(**kwargs)


def test_holiday_dates():
    dates = SlaPolicy.holiday_dates("NL", range(2026, 2028))
    assert {date(2026, 4, 27), date(2026, 12, 25), date(2026, 12, 26), date(2027, 4, 27)} <= dates
    assert date(2026, 4, 28) not in dates
    with pytest.raises(ValueError, match="no public holiday calendar for country 'XX'"):
        SlaPolicy.holiday_dates("XX", [2026])
