"""Mattermost incoming webhook: markdown `text` plus Slack-style `attachments`.

Mattermost renders markdown in `text`, attachment `text`/`pretext` and field values, and
pings on `@channel`, `@all`, `@here` and `@username`; customer text is backslash-escaped and
its @-names defused. Answers: 200 `ok`; 400 for a bad payload or an unknown hook
(`web.incoming_webhook.invalid.app_error`, which we treat as gone), 403 when webhooks are
disabled, 429 when the server's rate limit is on.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from app.alerts import neutralise
from app.alerts.alert import Alert, AlertGroup
from app.alerts.neutralise import truncate
from app.alerts.sinks.base import (
    KIND_COLOURS,
    OPEN_LABEL,
    POST_LABEL,
    DeliveryOutcome,
    Gone,
    Permanent,
    Sink,
    excerpt,
    facts,
    headline,
    more_line,
    reference,
    safe_url,
)

MESSAGE_CHARS = 16_383      # Mattermost's post size limit
_UNKNOWN_HOOK = "incoming_webhook.invalid"


class MattermostSink(Sink):
    kind = "mattermost"
    max_per_message = 10
    max_bytes = 60_000
    rate_per_second = 5.0       # the server's default limit is 10 per second
    burst = 5

    def build(self, group: AlertGroup, shown: Sequence[Alert], omitted: int) -> dict[str, Any]:
        lines = [f"**{neutralise.markdown(headline(group))}**"]
        if more := more_line(omitted):
            lines.append(more)
        return {"text": truncate("\n".join(lines), MESSAGE_CHARS),
                "attachments": [self._attachment(a) for a in shown],
                "props": {"webcare_dedupe_key": group.dedupe_key}}

    def _attachment(self, alert: Alert) -> dict[str, Any]:
        parts = [neutralise.markdown(alert.summary)]
        if quote := excerpt(alert):
            parts.append("\n".join("> " + line for line in neutralise.markdown(quote).splitlines()))
        links = [f"[{OPEN_LABEL}]({alert.link})"] if alert.link else []
        if alert.mention and (post := safe_url(alert.mention.url)):
            links.append(f"[{POST_LABEL}]({post})")
        if links:
            parts.append(" · ".join(links))
        attachment: dict[str, Any] = {
            "fallback": neutralise.markdown(f"{alert.title}: {alert.summary}"),
            "color": f"#{KIND_COLOURS[alert.kind]:06X}",
            "title": neutralise.defuse_mentions(alert.title),
            "text": "\n\n".join(parts),
            "fields": [{"short": True, "title": label, "value": neutralise.markdown(value)}
                       for label, value in facts(alert)],
            "footer": reference(alert.dedupe_key),
        }
        if alert.link:
            attachment["title_link"] = alert.link
        return attachment

    def classify(self, status: int, headers: Mapping[str, str], body: bytes, *,
                 now: datetime | None = None, attempt: int = 1) -> DeliveryOutcome:
        outcome = super().classify(status, headers, body, now=now, attempt=attempt)
        if isinstance(outcome, Permanent) and _UNKNOWN_HOOK in body.decode("utf-8", "replace"):
            return Gone(outcome.reason)
        return outcome
