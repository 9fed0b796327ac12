"""Delivery decisions on a controlled clock: bursts, quiet hours, backoff, repeats, rates."""
from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from app.alerts.policy import (
    BACKOFF_CAP_SECONDS,
    MAX_RETRY_AFTER_SECONDS,
    QuietHours,
    TokenBucket,
    backoff_seconds,
    due_repeats,
    group_burst,
    is_muted,
    next_retry,
)
from tests.support.alert_factories import NOW, alert, breach

AMS = "Europe/Amsterdam"


def at_local(hour: int, minute: int = 0) -> datetime:
    """NOW's date at a local Amsterdam time (CET, UTC+1, in November)."""
    return datetime(2026, 11, 23, hour, minute, tzinfo=UTC) - timedelta(hours=1)


# --- bursts ---------------------------------------------------------------------------------

def test_eight_breaches_within_a_minute_become_one_group():
    pending = [breach(i, at=NOW + timedelta(seconds=7 * i)) for i in range(8)]
    [group] = group_burst(pending, window_seconds=60, max_per_message=10)
    assert [a.dedupe_key for a in group.alerts] == [f"breached:{i}" for i in range(8)]


def test_size_splits_groups_and_kinds_are_not_mixed():
    pending = ([breach(i, at=NOW + timedelta(seconds=i)) for i in range(5)]
               + [alert("warning", "w1", at=NOW + timedelta(seconds=2))])
    groups = group_burst(reversed(pending), window_seconds=60, max_per_message=3)
    assert [[a.dedupe_key for a in g.alerts] for g in groups] == [
        ["breached:0", "breached:1", "breached:2"], ["warning:w1"], ["breached:3", "breached:4"]]


def test_the_window_counts_from_the_first_alert_of_a_group_and_is_half_open():
    pending = [breach(1, at=NOW), breach(2, at=NOW + timedelta(seconds=59)), breach(3, at=NOW + timedelta(seconds=60))]
    groups = group_burst(pending, window_seconds=60)
    assert [[a.dedupe_key for a in g.alerts] for g in groups] == [["breached:1", "breached:2"], ["breached:3"]]


def test_group_burst_rejects_a_zero_ceiling():
    with pytest.raises(ValueError, match="at least 1"):
        group_burst([breach()], max_per_message=0)


# --- quiet hours ----------------------------------------------------------------------------

@pytest.mark.parametrize(("hour", "muted"), [(21, False), (22, True), (23, True), (3, True), (6, True), (7, False),
                                             (12, False)])
def test_quiet_hours_wrap_past_midnight_in_the_team_timezone(hour, muted):
    assert is_muted(alert("warning", "x"), "22:00-07:00", AMS, at_local(hour, 30 if hour == 6 else 0)) is muted


@pytest.mark.parametrize("kind", ["breached", "source_down", "spike", "test"])
def test_breaches_and_incidents_are_never_muted(kind):
    item = breach() if kind == "breached" else alert(kind)
    assert not is_muted(item, "22:00-07:00", AMS, at_local(3))


@pytest.mark.parametrize("kind", ["warning", "follow_up_due", "resolved"])
def test_reminders_are_muted(kind):
    assert is_muted(alert(kind), "22:00-07:00", AMS, at_local(3))


def test_daytime_quiet_hours_and_no_quiet_hours():
    assert is_muted(alert("warning"), "12:00-13:00", AMS, at_local(12, 30))
    assert not is_muted(alert("warning"), "12:00-13:00", AMS, at_local(13))
    assert not is_muted(alert("warning"), None, AMS, at_local(3))


def test_quiet_hours_end_is_the_next_local_end_even_across_dst():
    quiet = QuietHours.parse("22:00-07:00", AMS)
    assert quiet.ends_after(at_local(23)) == at_local(7) + timedelta(days=1)
    # The night the clocks go back (25 Oct 2026): 07:00 local is 06:00 UTC, not 05:00.
    assert quiet.ends_after(datetime(2026, 10, 24, 21, 0, tzinfo=UTC)) == datetime(2026, 10, 25, 6, 0, tzinfo=UTC)


@pytest.mark.parametrize("text", ["22-07", "25:00-07:00", "22:00-07:61", ""])
def test_bad_quiet_hours_are_refused(text):
    with pytest.raises(ValueError, match="quiet hours"):
        QuietHours.parse(text, AMS)


# --- retries --------------------------------------------------------------------------------

def test_backoff_doubles_and_is_capped():
    assert [backoff_seconds(n) for n in (1, 2, 3, 4)] == [5, 10, 20, 40]
    assert backoff_seconds(50) == BACKOFF_CAP_SECONDS


def test_next_retry_jitters_within_the_upper_half_of_the_backoff():
    rng = random.Random(7)
    delays = {(next_retry(3, None, NOW, rng) - NOW).total_seconds() for _ in range(200)}
    assert min(delays) >= 10 and max(delays) <= 20 and len(delays) > 100


def test_next_retry_never_comes_before_retry_after():
    rng = random.Random(1)
    assert next_retry(1, 30.0, NOW, rng) == NOW + timedelta(seconds=30)
    assert next_retry(1, 10 ** 9, NOW, rng) == NOW + timedelta(seconds=MAX_RETRY_AFTER_SECONDS)


def test_next_retry_gives_up_after_max_attempts():
    assert next_retry(12, None, NOW, random.Random(1)) is None
    assert next_retry(2, None, NOW, random.Random(1), max_attempts=2) is None


# --- repeats --------------------------------------------------------------------------------

def test_due_repeats_on_an_interval():
    start = NOW
    assert due_repeats(start, start, 30, start + timedelta(minutes=29)) is None
    assert due_repeats(start, start, 30, start + timedelta(minutes=30)) == 1
    assert due_repeats(start, start + timedelta(minutes=30), 30, start + timedelta(minutes=45)) is None
    assert due_repeats(start, start + timedelta(minutes=30), 30, start + timedelta(minutes=60)) == 2


def test_missed_repeats_collapse_into_the_latest():
    assert due_repeats(NOW, NOW, 30, NOW + timedelta(minutes=100)) == 3


@pytest.mark.parametrize("interval", [None, 0])
def test_no_repeat_interval_means_no_repeats(interval):
    assert due_repeats(NOW, NOW, interval, NOW + timedelta(days=1)) is None


# --- rate limits ----------------------------------------------------------------------------

def test_token_bucket_one_per_second():
    bucket = TokenBucket.full(1.0, 1, NOW)
    bucket, wait = bucket.take(NOW)
    assert wait == 0
    bucket, wait = bucket.take(NOW + timedelta(milliseconds=250))
    assert wait == pytest.approx(0.75)
    bucket, wait = bucket.take(NOW + timedelta(seconds=1))
    assert wait == 0


def test_token_bucket_sixty_a_minute_with_a_burst():
    bucket = TokenBucket.full(1.0, 60, NOW)
    for _ in range(60):
        bucket, wait = bucket.take(NOW)
        assert wait == 0
    bucket, wait = bucket.take(NOW)
    assert wait == pytest.approx(1.0)
    assert bucket.refilled(NOW + timedelta(hours=1)).tokens == 60        # never above capacity


def test_token_bucket_ignores_a_clock_going_backwards():
    bucket, _ = TokenBucket.full(1.0, 1, NOW).take(NOW)
    bucket, wait = bucket.take(NOW - timedelta(seconds=10))
    assert wait == pytest.approx(1.0) and bucket.updated_at == NOW
