"""Google Chat incoming webhook: `text` plus a `cardsV2` card, threaded by `thread.threadKey`.

Threads: per mention (warning, breach, repeats and "answered" for one mention read as one
conversation) or per event (each group its own thread). `messageReplyOption=
REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD` makes the key reply into an existing thread and start
one otherwise. Card widgets render an HTML subset, so customer text is HTML-escaped; the
`text` holds only our headline. Limits: 32,000 bytes per message, 60 writes a minute per
space. Answers: 200 with the created message; errors are JSON `{"error": {"code",
"message", "status"}}`: 429 RESOURCE_EXHAUSTED, 400 INVALID_ARGUMENT, 403/404 when the
webhook or space is gone.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from app.alerts import neutralise
from app.alerts.alert import Alert, AlertGroup
from app.alerts.neutralise import truncate
from app.alerts.sinks.base import (
    OPEN_LABEL,
    POST_LABEL,
    OutgoingRequest,
    Sink,
    excerpt,
    facts,
    headline,
    more_line,
    reference,
    safe_url,
)

TEXT_CHARS = 4096
REPLY_OPTION = "REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD"
_KEY_UNSAFE = re.compile(r"[^A-Za-z0-9_.:-]")

ThreadBy = Literal["mention", "event"]


def thread_key(group: AlertGroup, thread_by: ThreadBy) -> str:
    lead = group.lead
    if thread_by == "mention" and len(group) == 1 and lead.mention is not None:
        key = f"webcare-mention-{lead.mention.id}"
    elif thread_by == "mention" and len(group) == 1 and "subject" in lead.extra:
        key = f"webcare-{lead.kind}-{lead.extra['subject']}"      # e.g. one thread per source
    else:
        key = f"webcare-{group.dedupe_key}"
    return _KEY_UNSAFE.sub("-", key)


class GoogleChatSink(Sink):
    kind = "googlechat"
    max_per_message = 10
    max_bytes = 32_000
    rate_per_second = 1.0        # 60 writes a minute per space
    burst = 1

    def __init__(self, *, thread_by: ThreadBy = "mention") -> None:
        if thread_by not in ("mention", "event"):
            raise ValueError("thread_by must be 'mention' or 'event'")
        self.thread_by = thread_by

    def build(self, group: AlertGroup, shown: Sequence[Alert], omitted: int) -> dict[str, Any]:
        lines = [headline(group)] + ([more] if (more := more_line(omitted)) else [])
        card = {"header": {"title": truncate(neutralise.defuse_mentions(headline(group)), 200),
                           "subtitle": reference(group.dedupe_key)},
                "sections": [self._section(a) for a in shown]}
        return {"text": truncate(neutralise.googlechat_text("\n".join(lines)), TEXT_CHARS),
                "cardsV2": [{"cardId": _KEY_UNSAFE.sub("-", group.dedupe_key), "card": card}],
                "thread": {"threadKey": thread_key(group, self.thread_by)}}

    def _section(self, alert: Alert) -> dict[str, Any]:
        widgets: list[dict[str, Any]] = [{"textParagraph": {"text": neutralise.html_text(alert.summary)}}]
        widgets += [{"decoratedText": {"topLabel": label, "text": neutralise.html_text(value)}}
                    for label, value in facts(alert)]
        if quote := excerpt(alert):
            widgets.append({"textParagraph": {"text": f"<i>{neutralise.html_text(quote)}</i>"}})
        buttons = [{"text": OPEN_LABEL, "onClick": {"openLink": {"url": alert.link}}}] if alert.link else []
        if alert.mention and (post := safe_url(alert.mention.url)):
            buttons.append({"text": POST_LABEL, "onClick": {"openLink": {"url": post}}})
        if buttons:
            widgets.append({"buttonList": {"buttons": buttons}})
        footer = neutralise.html_text(reference(alert.dedupe_key))
        widgets.append({"textParagraph": {"text": f'<font color="#667085">{footer}</font>'}})
        return {"header": neutralise.html_text(alert.title), "widgets": widgets}

    def to_request(self, payload: Any, group: AlertGroup, now: datetime) -> OutgoingRequest:
        return OutgoingRequest.json(payload, headers={"content-type": "application/json; charset=UTF-8"},
                                    params={"messageReplyOption": REPLY_OPTION})
