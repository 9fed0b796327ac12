"""Discord execute-webhook: `content` plus one embed per alert, pings switched off.

`allowed_mentions: {"parse": []}` is always sent, so even a mention that slipped through
escaping would not notify anyone; customer text is still markdown-escaped and defused so
it cannot fake a masked link. Limits: content 2000, 10 embeds, title 256, description
4096, 25 fields (name 256, value 1024), footer 2048, all embed text together 6000.
Answers: 204 (200 with `?wait=true`); 429 with JSON `retry_after` in seconds (a float,
more precise than the Retry-After header); 404 `Unknown Webhook` / 401 when deleted.
"""
from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from app.alerts import neutralise
from app.alerts.alert import Alert, AlertGroup
from app.alerts.neutralise import truncate
from app.alerts.sinks.base import (
    KIND_COLOURS,
    POST_LABEL,
    OutgoingRequest,
    Sink,
    excerpt,
    facts,
    headline,
    more_line,
    parse_retry_after,
    reference,
    safe_url,
)

CONTENT_CHARS = 2000
MAX_EMBEDS = 10
TITLE_CHARS = 256
DESCRIPTION_CHARS = 4096
FIELD_VALUE_CHARS = 1024
FOOTER_CHARS = 2048
EMBED_TOTAL_CHARS = 6000
NO_PINGS = {"parse": []}


def embed_chars(embed: Mapping[str, Any]) -> int:
    """Characters Discord counts towards the 6000 total of one embed."""
    return (len(embed.get("title", "")) + len(embed.get("description", ""))
            + len(embed.get("footer", {}).get("text", "")) + len(embed.get("author", {}).get("name", ""))
            + sum(len(f["name"]) + len(f["value"]) for f in embed.get("fields", ())))


class DiscordSink(Sink):
    kind = "discord"
    max_per_message = MAX_EMBEDS
    rate_per_second = 0.5       # webhooks: about 30 messages a minute per channel
    burst = 5

    def build(self, group: AlertGroup, shown: Sequence[Alert], omitted: int) -> dict[str, Any]:
        lines = [f"**{neutralise.markdown(headline(group))}**"]
        if more := more_line(omitted):
            lines.append(more)
        return {"content": truncate("\n".join(lines), CONTENT_CHARS),
                "embeds": [self._embed(a) for a in shown],
                "allowed_mentions": NO_PINGS}

    def _embed(self, alert: Alert) -> dict[str, Any]:
        parts = [neutralise.markdown(alert.summary)]
        if quote := excerpt(alert):
            parts.append("\n".join("> " + line for line in neutralise.markdown(quote).splitlines()))
        if alert.mention and (post := safe_url(alert.mention.url)):
            parts.append(f"[{POST_LABEL}]({post})")
        embed: dict[str, Any] = {
            "title": truncate(neutralise.markdown(alert.title), TITLE_CHARS),
            "description": truncate("\n\n".join(parts), DESCRIPTION_CHARS),
            "color": KIND_COLOURS[alert.kind],
            "fields": [{"name": label, "value": truncate(neutralise.markdown(value), FIELD_VALUE_CHARS),
                        "inline": True} for label, value in facts(alert)],
            "footer": {"text": truncate(reference(alert.dedupe_key), FOOTER_CHARS)},
            "timestamp": alert.created_at.isoformat(),
        }
        if alert.link:
            embed["url"] = alert.link      # the title is our link into the dashboard
        return embed

    def fits(self, request: OutgoingRequest) -> bool:
        payload = request.payload()
        return (super().fits(request) and len(payload["embeds"]) <= MAX_EMBEDS
                and sum(embed_chars(e) for e in payload["embeds"]) <= EMBED_TOTAL_CHARS)

    def retry_hint(self, headers: Mapping[str, str], body: bytes, now: datetime | None) -> float | None:
        try:
            seconds = json.loads(body).get("retry_after")
        except (ValueError, AttributeError):
            seconds = None
        if isinstance(seconds, int | float) and not isinstance(seconds, bool):
            return max(float(seconds), 0.0)
        return parse_retry_after(headers.get("retry-after"), now)
