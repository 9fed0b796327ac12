"""Chat sinks by config `kind` (the `[[alerts]]` table's `kind` key)."""
from __future__ import annotations

from typing import Any

from app.alerts.sinks.base import Delivered, DeliveryOutcome, Gone, OutgoingRequest, Permanent, RetryAfter, Sink
from app.alerts.sinks.discord import DiscordSink
from app.alerts.sinks.googlechat import GoogleChatSink
from app.alerts.sinks.mattermost import MattermostSink
from app.alerts.sinks.slack import SlackSink
from app.alerts.sinks.teams import TeamsSink
from app.alerts.sinks.webhook import WebhookSink

SINKS: dict[str, type[Sink]] = {cls.kind: cls for cls in (
    SlackSink, TeamsSink, MattermostSink, DiscordSink, GoogleChatSink, WebhookSink)}


def create_sink(kind: str, **options: Any) -> Sink:
    """A sink for a config entry: `create_sink("webhook", secret=...)`,
    `create_sink("googlechat", thread_by="event")`, `create_sink("slack")`."""
    try:
        cls = SINKS[kind]
    except KeyError:
        raise ValueError(f"unknown alert sink kind {kind!r}; expected one of {sorted(SINKS)}") from None
    return cls(**options)


__all__ = ["SINKS", "Delivered", "DeliveryOutcome", "DiscordSink", "Gone", "GoogleChatSink", "MattermostSink",
           "OutgoingRequest", "Permanent", "RetryAfter", "Sink", "SlackSink", "TeamsSink", "WebhookSink",
           "create_sink"]
