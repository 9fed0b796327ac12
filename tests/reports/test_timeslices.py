"""Time keys as UTC ranges: DST nights, half-hour zones, weeks cut by the period."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.reports.period import parse_period
from app.reports.timeslices import key_finder, time_slices

UTC = UTC
NOW = datetime(2026, 11, 29, 12, tzinfo=UTC)


def test_the_night_the_clocks_go_back_is_one_25_hour_day_with_two_hours_2():
    period = parse_period("2026-10-24", "2026-10-26", "Europe/Amsterdam", NOW)
    days = time_slices("day", period)
    assert [(s.key, s.start, s.end) for s in days] == [
        ("2026-10-24", datetime(2026, 10, 23, 22, tzinfo=UTC), datetime(2026, 10, 24, 22, tzinfo=UTC)),
        ("2026-10-25", datetime(2026, 10, 24, 22, tzinfo=UTC), datetime(2026, 10, 25, 23, tzinfo=UTC)),
        ("2026-10-26", datetime(2026, 10, 25, 23, tzinfo=UTC), datetime(2026, 10, 26, 23, tzinfo=UTC))]
    sunday = [s for s in time_slices("hour", period) if days[1].start <= s.start < days[1].end]
    assert [s.key for s in sunday] == list(range(24))
    two = sunday[2]  # 02:00-03:00 CEST and then 02:00-03:00 CET: one range, hour 2
    assert (two.start, two.end) == (datetime(2026, 10, 25, 0, tzinfo=UTC), datetime(2026, 10, 25, 2, tzinfo=UTC))
    assert [s.end - s.start for s in sunday].count(timedelta(hours=1)) == 23


def test_the_night_the_clocks_go_forward_has_no_hour_2():
    period = parse_period("2026-03-29", "2026-03-29", "Europe/Amsterdam", NOW)
    hours = time_slices("hour", period)
    assert [s.key for s in hours] == [0, 1, *range(3, 24)]
    assert hours[2].start == datetime(2026, 3, 29, 1, tzinfo=UTC)  # 03:00 CEST
    assert time_slices("day", period)[0].end - time_slices("day", period)[0].start == timedelta(hours=23)


def test_half_hour_zones_start_their_hours_at_half_past_utc():
    period = parse_period("2026-07-01", "2026-07-01", "Asia/Kolkata", NOW)
    hours = time_slices("hour", period)
    assert len(hours) == 24 and hours[0].start == datetime(2026, 6, 30, 18, 30, tzinfo=UTC)
    assert all(s.start.minute == 30 for s in hours) and [s.key for s in hours] == list(range(24))


def test_weeks_are_keyed_by_their_monday_even_when_the_period_starts_midweek():
    period = parse_period("2026-10-22T15:00", "2026-11-03", "Europe/Amsterdam", NOW)  # a Thursday afternoon
    weeks = time_slices("week", period)
    assert [s.key for s in weeks] == ["2026-10-19", "2026-10-26", "2026-11-02"]
    assert weeks[0].start == datetime(2026, 10, 22, 13, tzinfo=UTC) and weeks[-1].end == period.until
    assert weeks[1].start == datetime(2026, 10, 25, 23, tzinfo=UTC)  # Monday 00:00 CET


def test_weekday_hour_keys_and_finding_the_slice_of_a_moment():
    period = parse_period("2026-10-26", "2026-10-27", "Europe/Amsterdam", NOW)  # Monday and Tuesday
    cells = time_slices("weekday_hour", period)
    assert [s.key for s in cells] == list(range(48))  # mon-00 … tue-23
    key_of = key_finder(cells)
    assert key_of(datetime(2026, 10, 26, 8, 59, 59, tzinfo=UTC)) == 9  # Monday 09:59:59 CET
    assert key_of(datetime(2026, 10, 27, 23, 0, tzinfo=UTC) - timedelta(microseconds=1)) == 47
    assert key_of(period.since) == 0
