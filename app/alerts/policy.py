"""Pure delivery decisions: grouping bursts, quiet hours, retries, repeats, rate limits.

Nothing here sleeps, reads the clock or touches a database: `now` (and a random generator
for jitter) is always passed in, and every answer is a value the outbox worker stores or acts
on. All datetimes going in must be timezone-aware; datetimes coming out are UTC.
"""
from __future__ import annotations

import random
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.alerts.alert import Alert, AlertGroup

# --- bursts ---------------------------------------------------------------------------------

def group_burst(pending: Iterable[Alert], *, window_seconds: float = 60,
                max_per_message: int = 10) -> list[AlertGroup]:
    """Bundle alerts of the same kind created within `window_seconds` of the first one.

    Eight breaches within a minute become one message listing all eight; a ninth an hour
    later starts its own group. Kinds are not mixed, so "resolved" never hides among
    "breached". Groups come out oldest first; within a group alerts keep time order.
    `max_per_message` is the sink's own ceiling (see `Sink.max_per_message`).
    """
    if max_per_message < 1:
        raise ValueError("max_per_message must be at least 1")
    window = timedelta(seconds=window_seconds)
    groups: list[list[Alert]] = []
    open_by_kind: dict[str, list[Alert]] = {}
    for alert in sorted(pending, key=lambda a: a.created_at):
        current = open_by_kind.get(alert.kind)
        if current is None or len(current) >= max_per_message or alert.created_at - current[0].created_at >= window:
            current = []
            groups.append(current)
            open_by_kind[alert.kind] = current
        current.append(alert)
    return [AlertGroup(g) for g in groups]


# --- quiet hours ----------------------------------------------------------------------------

# Muted at night: only reminders that either go stale (a warning turns into a breach alert
# anyway; a "resolved" note is news for the morning) or can wait (follow-ups; the worker
# defers those to the end of quiet hours instead of dropping them: see DEFER_WHEN_MUTED).
# Never muted: breaches (the design's rule), `source_down` (a dead connector at night means
# breaches go unseen, so it guards the one alert that must get through), `spike` (an
# incident does not wait for office hours) and `test` (someone is pressing the button).
MUTABLE_KINDS = frozenset({"warning", "follow_up_due", "resolved"})
DEFER_WHEN_MUTED = frozenset({"follow_up_due"})

_QUIET = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True, slots=True)
class QuietHours:
    """A daily local-time window; `start > end` wraps past midnight ("22:00-07:00")."""
    start: time
    end: time
    timezone: ZoneInfo

    @classmethod
    def parse(cls, text: str, tz: str | ZoneInfo) -> QuietHours:
        match = _QUIET.match(text)
        if not match:
            raise ValueError(f"quiet hours must look like 22:00-07:00, got {text!r}")
        h1, m1, h2, m2 = map(int, match.groups())
        if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
            raise ValueError(f"invalid time in quiet hours {text!r}")
        return cls(time(h1, m1), time(h2, m2), tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz))

    def contains(self, now: datetime) -> bool:
        local = now.astimezone(self.timezone).time().replace(tzinfo=None)
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def ends_after(self, now: datetime) -> datetime:
        """The first end of quiet hours at or after `now` (UTC), for deferred alerts."""
        local = now.astimezone(self.timezone)
        candidate = datetime.combine(local.date(), self.end, tzinfo=self.timezone)
        if candidate <= local:
            candidate = datetime.combine(local.date() + timedelta(days=1), self.end, tzinfo=self.timezone)
        return candidate.astimezone(UTC)


def is_muted(alert: Alert, quiet_hours: str | QuietHours | None, timezone: str | ZoneInfo,
             now: datetime) -> bool:
    """Whether quiet hours ("22:00-07:00" in the team's `timezone`) hold this alert back now.

    Breaches are never muted; see MUTABLE_KINDS for the rest.
    """
    if quiet_hours is None or alert.kind not in MUTABLE_KINDS:
        return False
    if isinstance(quiet_hours, str):
        quiet_hours = QuietHours.parse(quiet_hours, timezone)
    return quiet_hours.contains(now)


# --- retries --------------------------------------------------------------------------------

BACKOFF_BASE_SECONDS = 5.0
BACKOFF_CAP_SECONDS = 15 * 60.0
# A sink's Retry-After is honoured above our own cap, but not beyond this: a hook asking for
# a day of silence is broken, and the alert is dead-lettered when attempts run out anyway.
MAX_RETRY_AFTER_SECONDS = 6 * 3600.0
MAX_ATTEMPTS = 12


def backoff_seconds(attempt: int) -> float:
    """Exponential backoff without jitter for the n-th failed attempt (1-based), capped.

    With the defaults: 5 s, 10 s, 20 s … up to 15 minutes; 12 attempts span about two hours.
    """
    if attempt < 1:
        raise ValueError("attempt is 1-based")
    return min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** min(attempt - 1, 32))


def next_retry(attempt: int, retry_after: float | None, now: datetime, rng: random.Random,
               *, max_attempts: int = MAX_ATTEMPTS) -> datetime | None:
    """When to try again after the `attempt`-th failure, or None: give up (dead letter).

    "Equal jitter": a random point in the upper half of the backoff, so a crowd of workers
    spreads out without any retry coming sooner than half the backoff. A sink's Retry-After
    is a floor: we never come back earlier than it asked.
    """
    if attempt >= max_attempts:
        return None
    delay = backoff_seconds(attempt)
    delay = rng.uniform(delay / 2, delay)
    if retry_after is not None:
        delay = max(delay, min(max(retry_after, 0.0), MAX_RETRY_AFTER_SECONDS))
    return now.astimezone(UTC) + timedelta(seconds=delay)


# --- repeats --------------------------------------------------------------------------------

def due_repeats(breach_started_at: datetime, last_notified_at: datetime | None,
                repeat_minutes: float | None, now: datetime) -> int | None:
    """Which re-notification of an unanswered breach is due now, or None.

    Repeat n is due at `breach_started_at + n * repeat_minutes`. The answer is the latest due
    n not yet covered by `last_notified_at` (missed ones are not sent in a row: one reminder
    says it is still open). Use it in the key: `dedupe_key("breached", id, repeat=n)`.
    """
    if not repeat_minutes or repeat_minutes <= 0 or now <= breach_started_at:
        return None
    interval = timedelta(minutes=repeat_minutes)
    n = int((now - breach_started_at) / interval)
    if n < 1:
        return None
    if last_notified_at is not None and last_notified_at >= breach_started_at + n * interval:
        return None
    return n


# --- rate limits ----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class TokenBucket:
    """A rate limiter as a value: `take(now)` returns the new bucket and the wait needed.

    `rate` tokens per second refill up to `capacity`. The worker keeps one per sink
    (in memory or in a row) and sends only when the wait is zero.
    """
    rate: float
    capacity: float
    tokens: float
    updated_at: datetime

    @classmethod
    def full(cls, rate: float, capacity: float, now: datetime) -> TokenBucket:
        if rate <= 0 or capacity < 1:
            raise ValueError("rate must be positive and capacity at least 1")
        return cls(rate, capacity, capacity, now)

    def refilled(self, now: datetime) -> TokenBucket:
        elapsed = max((now - self.updated_at).total_seconds(), 0.0)
        return replace(self, tokens=min(self.capacity, self.tokens + elapsed * self.rate),
                       updated_at=max(now, self.updated_at))

    def take(self, now: datetime) -> tuple[TokenBucket, float]:
        """(bucket after taking one token, 0.0) or (refilled bucket, seconds to wait)."""
        bucket = self.refilled(now)
        if bucket.tokens >= 1:
            return replace(bucket, tokens=bucket.tokens - 1), 0.0
        return bucket, (1 - bucket.tokens) / bucket.rate
