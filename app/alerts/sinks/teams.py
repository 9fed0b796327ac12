"""Microsoft Teams through a Workflows ("When a Teams webhook request is received") URL.

The body is a message with one Adaptive Card 1.4 attachment; Teams caps a message at about
28 KB, so alerts that do not fit are left out and counted. Customer text goes only into
`TextRun`s of a `RichTextBlock`, which render no markdown, and `<at>` is defused (mentions
would also need `msteams.entities`, which we never send). Answers: 202 Accepted (200 seen
too); 429 with Retry-After; 400 for a card Teams refuses; 401/403/404 when the flow's
signed URL is revoked or the flow deleted.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.alerts import neutralise
from app.alerts.alert import Alert, AlertGroup
from app.alerts.sinks.base import OPEN_LABEL, POST_LABEL, Sink, excerpt, facts, headline, more_line, reference, safe_url

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
CARD_VERSION = "1.4"
# Facts whose values are customer text; those go into TextRuns instead of the FactSet,
# because FactSet values are rendered as markdown.
_UNTRUSTED_FACTS = frozenset({"Author"})


def _text_block(text: str, **style: Any) -> dict[str, Any]:
    """Our own words (markdown allowed, but defused in case a title quotes a customer)."""
    return {"type": "TextBlock", "text": neutralise.teams(text), "wrap": True, **style}


def _rich(*runs: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    return {"type": "RichTextBlock",
            "inlines": [{"type": "TextRun", "text": neutralise.teams(text), **style} for text, style in runs]}


class TeamsSink(Sink):
    kind = "teams"
    max_per_message = 15
    max_bytes = 28 * 1024
    rate_per_second = 1.0

    def build(self, group: AlertGroup, shown: Sequence[Alert], omitted: int) -> dict[str, Any]:
        body: list[dict[str, Any]] = [_text_block(headline(group), size="Large", weight="Bolder")]
        for alert in shown:
            body.append(self._alert_container(alert))
        if more := more_line(omitted):
            body.append(_text_block(more, isSubtle=True))
        if len(group) > 1:      # a single alert's container already carries its key
            body.append(_text_block(reference(group.dedupe_key), size="Small", isSubtle=True))
        card: dict[str, Any] = {"type": "AdaptiveCard", "$schema": CARD_SCHEMA, "version": CARD_VERSION,
                                "msteams": {"width": "Full"}, "body": body}
        if group.lead.link:
            card["actions"] = [{"type": "Action.OpenUrl", "title": OPEN_LABEL, "url": group.lead.link}]
        return {"type": "message",
                "attachments": [{"contentType": CARD_CONTENT_TYPE, "contentUrl": None, "content": card}]}

    def _alert_container(self, alert: Alert) -> dict[str, Any]:
        items: list[dict[str, Any]] = [
            _rich((alert.title, {"weight": "Bolder"})),
            _rich((alert.summary, {})),
        ]
        rows = facts(alert)
        trusted = [{"title": label, "value": value} for label, value in rows if label not in _UNTRUSTED_FACTS]
        for label, value in rows:
            if label in _UNTRUSTED_FACTS:
                items.append(_rich((f"{label}: ", {"weight": "Bolder"}), (value, {})))
        if trusted:
            items.append({"type": "FactSet", "facts": trusted})
        if quote := excerpt(alert):
            items.append(_rich((quote, {"italic": True})))
        items.append(_text_block(reference(alert.dedupe_key), size="Small", isSubtle=True))
        actions = [{"type": "Action.OpenUrl", "title": OPEN_LABEL, "url": alert.link}] if alert.link else []
        if alert.mention and (post := safe_url(alert.mention.url)):
            actions.append({"type": "Action.OpenUrl", "title": POST_LABEL, "url": post})
        if actions:
            items.append({"type": "ActionSet", "actions": actions})
        return {"type": "Container", "separator": True, "spacing": "Medium", "items": items}
