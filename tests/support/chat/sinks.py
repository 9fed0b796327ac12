"""Sinks built as the tests need them, and the chat tools' rate-limit answers."""
from __future__ import annotations

from datetime import UTC, datetime

from app.alerts.sinks import Sink, create_sink
from tests.support.chat.receiver import WEBHOOK_SECRET, Reply


def make_sink(kind: str) -> Sink:
    return create_sink(kind, secret=WEBHOOK_SECRET) if kind == "webhook" else create_sink(kind)


def wall_clock() -> datetime:
    # The webhook receiver checks the signature timestamp against the real clock (5-minute
    # tolerance), so sends use the real time; nothing waits on it.
    return datetime.now(UTC)


def rate_limited(kind: str) -> Reply:
    if kind == "discord":       # Discord: JSON retry_after in (fractional) seconds
        return Reply(429, {"message": "You are being rate limited.", "retry_after": 7.25, "global": False},
                     {"Retry-After": "8"})
    return Reply(429, "rate_limited", {"Retry-After": "7"})
