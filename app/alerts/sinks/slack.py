"""Slack incoming webhook: `text` (always: notifications and old clients use it) + `blocks`.

Limits: 50 blocks, section text 3000, header 150, context 10 elements. Customer text goes
only into `plain_text` objects, which Slack never parses for mentions, links or formatting;
our own link is the one mrkdwn link. Answers: 200 `ok`; 429 with Retry-After; 400
`invalid_payload`/`invalid_blocks`; gone: 404 `no_service`/`channel_not_found`, 410
`channel_is_archived`, 403 `invalid_token`/`no_service`/`channel_is_archived`. Other 403s
(`action_prohibited`, `posting_to_general_channel_denied`) are workspace policy: the hook
still exists, this message just may not be posted.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from app.alerts import neutralise
from app.alerts.alert import Alert, AlertGroup
from app.alerts.neutralise import truncate
from app.alerts.sinks.base import (
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

SECTION_CHARS = 3000
HEADER_CHARS = 150
FALLBACK_CHARS = 4000
_GONE_BODIES = frozenset({"invalid_token", "no_service", "channel_is_archived", "no_team", "team_disabled"})


def _plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": truncate(neutralise.slack_plain(text), limit), "emoji": True}


def _link(url: str, label: str) -> str:
    return f"<{url.replace('&', '&amp;')}|{label}>"


class SlackSink(Sink):
    kind = "slack"
    max_per_message = 10          # 1 header + 4 blocks per alert + 1 "more" stays under 50
    max_bytes = 40_000
    rate_per_second = 1.0         # Slack: about one message per second per hook

    def build(self, group: AlertGroup, shown: Sequence[Alert], omitted: int) -> dict[str, Any]:
        blocks: list[dict[str, Any]] = [{"type": "header", "text": _plain(headline(group), HEADER_CHARS)}]
        for alert in shown:
            blocks.extend(self._alert_blocks(alert))
        if more := more_line(omitted):
            blocks.append({"type": "context", "elements": [_plain(more, 200)]})
        return {"text": self._fallback(group, shown, omitted), "blocks": blocks}

    def _alert_blocks(self, alert: Alert) -> list[dict[str, Any]]:
        links = [_link(alert.link, OPEN_LABEL)] if alert.link else []
        if alert.mention and (post := safe_url(alert.mention.url)):
            links.append(_link(post, POST_LABEL))
        # Cut before escaping so an entity is never split; the second cut only bites on
        # pathological input (escaping can grow text fivefold).
        heading = (f"*{neutralise.slack(truncate(alert.title, HEADER_CHARS))}*\n"
                   f"{neutralise.slack(truncate(alert.summary, 1000))}")
        text = truncate(heading, SECTION_CHARS - 400) + ("\n" + "  ·  ".join(links) if links else "")
        blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": text, "verbatim": True}}]
        if quote := excerpt(alert):
            blocks.append({"type": "section", "text": _plain(quote, SECTION_CHARS)})
        details = [f"{label}: {value}" for label, value in facts(alert)]
        elements = [_plain("  ·  ".join(details), 2000)] if details else []
        elements.append(_plain(reference(alert.dedupe_key), 200))
        blocks.append({"type": "context", "elements": elements})
        blocks.append({"type": "divider"})
        return blocks

    @staticmethod
    def _fallback(group: AlertGroup, shown: Sequence[Alert], omitted: int) -> str:
        lines = [headline(group)] + [f"• {a.title}: {a.summary}" for a in shown]
        if more := more_line(omitted):
            lines.append(more)
        lines.append(reference(group.dedupe_key))
        return truncate(neutralise.slack("\n".join(lines)), FALLBACK_CHARS)

    def classify(self, status: int, headers: Mapping[str, str], body: bytes, *,
                 now: datetime | None = None, attempt: int = 1) -> DeliveryOutcome:
        outcome = super().classify(status, headers, body, now=now, attempt=attempt)
        if isinstance(outcome, Gone) and status == 403 and body.decode("utf-8", "replace").strip() not in _GONE_BODIES:
            return Permanent(outcome.reason)
        return outcome
