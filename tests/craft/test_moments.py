"""Concrete moments in a reply, turned into local follow-up times."""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.craft import suggest_follow_up_times

AMS = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2026, 11, 23, 10, 15, tzinfo=AMS)   # a Monday morning


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=AMS)


@pytest.mark.parametrize(("reply", "expected"), [
    ("Ik laat het u vóór 16:00 weten.", [at(23, 16)]),
    ("Ik bel je om 14.30 terug.", [at(23, 14, 30)]),
    ("Je hoort binnen 2 uur van me.", [NOW + timedelta(hours=2)]),
    ("U hoort binnen het uur van ons.", [NOW + timedelta(hours=1)]),
    ("Ik bel u morgen om 10 uur.", [at(24, 10)]),
    ("Ik kom er morgen op terug.", [at(24, 9)]),
    ("We bellen u om 3 uur.", [at(23, 15)]),               # 03:00 has passed: the afternoon
    ("Antwoord volgt binnen 2 werkdagen.", [at(25, 10, 15)]),
    ("I'll update you by 4pm.", [at(23, 16)]),
    ("You'll hear from us within 30 minutes.", [NOW + timedelta(minutes=30)]),
    ("I'll call you at 10am tomorrow.", [at(24, 10)]),
    ("Expect a reply in half an hour.", [NOW + timedelta(minutes=30)]),
    ("We'll call on Wednesday at 9:30.", [at(25, 9, 30)]),
])
def test_moments_become_local_datetimes(reply, expected):
    assert suggest_follow_up_times(reply, NOW) == expected


def test_several_moments_sorted_and_unique():
    reply = "Ik bel je om 14.30, en uiterlijk om 14.30 heb je een mail. Morgen vóór 12:00 is het opgelost."
    assert suggest_follow_up_times(reply, NOW) == [at(23, 14, 30), at(24, 12)]


def test_past_clock_time_rolls_to_tomorrow_and_past_day_words_are_dropped():
    evening = datetime(2026, 11, 23, 20, 0, tzinfo=AMS)
    assert suggest_follow_up_times("Ik laat het weten vóór 16:00.", evening) == [at(24, 16)]
    assert suggest_follow_up_times("We regelen het vandaag.", evening) == []


def test_business_days_skip_the_weekend():
    friday = datetime(2026, 11, 27, 11, 0, tzinfo=AMS)
    assert suggest_follow_up_times("within 1 business day", friday) == [at(30, 11)]


def test_no_moment_no_suggestion():
    assert suggest_follow_up_times("We komen erop terug.", NOW) == []
    assert suggest_follow_up_times("We spraken over u en uw pakket.", NOW) == []
