"""What each chat tool checks before it accepts a message, as the fake receiver applies it.

Each validator takes the received request and returns a list of problems (empty = the tool
would accept it). Slack payloads are checked with slack_sdk's own Block Kit models; the
generic webhook with the `standardwebhooks` package; the others against the documented
structure and limits.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any
from unittest import mock

import standardwebhooks.webhooks
from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block, SectionBlock
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

Problems = list[str]


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)


def slack(payload: Any, query: dict[str, str], headers: dict[str, str], body: bytes) -> Problems:
    problems: Problems = []
    if not isinstance(payload.get("text"), str) or not payload["text"].strip():
        problems.append("text fallback missing")
    blocks = payload.get("blocks", [])
    if len(blocks) > 50:
        problems.append(f"{len(blocks)} blocks (max 50)")
    parsed = Block.parse_all(blocks)
    if len(parsed) != len(blocks) or any(b is None for b in parsed):
        problems.append("unknown block type")
    for block in parsed:
        try:
            block.validate_json()
        except SlackObjectFormationError as exc:
            problems.append(f"invalid block: {exc}")
        if isinstance(block, SectionBlock) and block.text and len(block.text.text) > 3000:
            problems.append("section text over 3000")
    return problems


_CARD_ELEMENTS = {"TextBlock", "RichTextBlock", "FactSet", "Container", "ActionSet", "ColumnSet", "Column", "Image"}
_CARD_ACTIONS = {"Action.OpenUrl", "Action.Submit", "Action.ShowCard", "Action.ToggleVisibility"}


def teams(payload: Any, query: dict[str, str], headers: dict[str, str], body: bytes) -> Problems:
    problems: Problems = []
    if len(body) > 28 * 1024:
        problems.append(f"message of {len(body)} bytes (max ~28 KB)")
    if payload.get("type") != "message":
        problems.append("type must be 'message'")
    attachments = payload.get("attachments") or []
    if len(attachments) != 1 or attachments[0].get("contentType") != "application/vnd.microsoft.card.adaptive":
        return [*problems, "expected one adaptive card attachment"]
    card = attachments[0].get("content") or {}
    if card.get("type") != "AdaptiveCard" or card.get("version") != "1.4" or "$schema" not in card:
        problems.append("content must be an AdaptiveCard, version 1.4, with $schema")
    for element in _walk(card.get("body", [])):
        kind = element.get("type")
        if kind is None:
            continue        # a fact, or a plain object inside an element
        if kind == "TextRun":
            if not isinstance(element.get("text"), str):
                problems.append("TextRun without text")
        elif kind in _CARD_ACTIONS:
            if kind == "Action.OpenUrl" and not str(element.get("url", "")).startswith(("https://", "http://")):
                problems.append("Action.OpenUrl needs an absolute url")
        elif kind not in _CARD_ELEMENTS:
            problems.append(f"element {kind!r} not in Adaptive Cards 1.4")
        elif kind == "TextBlock" and not isinstance(element.get("text"), str):
            problems.append("TextBlock without text")
        elif kind == "FactSet" and not all(isinstance(f.get("title"), str) and isinstance(f.get("value"), str)
                                           for f in element.get("facts", [])):
            problems.append("FactSet facts need title and value strings")
    for action in card.get("actions", []):
        if action.get("type") not in _CARD_ACTIONS:
            problems.append(f"action {action.get('type')!r} unknown")
    return problems


_MM_ATTACHMENT_KEYS = {"fallback", "color", "pretext", "text", "author_name", "author_link", "author_icon", "title",
                       "title_link", "fields", "image_url", "thumb_url", "footer", "footer_icon", "actions"}


def mattermost(payload: Any, query: dict[str, str], headers: dict[str, str], body: bytes) -> Problems:
    problems: Problems = []
    if not payload.get("text") and not payload.get("attachments"):
        problems.append("text or attachments required")
    if len(payload.get("text", "")) > 16383:
        problems.append("text over 16383")
    for attachment in payload.get("attachments", []):
        if extra := set(attachment) - _MM_ATTACHMENT_KEYS:
            problems.append(f"unknown attachment keys {sorted(extra)}")
        for f in attachment.get("fields", []):
            if not isinstance(f.get("title"), str) or not isinstance(f.get("value"), str):
                problems.append("field needs title and value")
    return problems


def discord(payload: Any, query: dict[str, str], headers: dict[str, str], body: bytes) -> Problems:
    problems: Problems = []
    embeds = payload.get("embeds", [])
    if not payload.get("content") and not embeds:
        problems.append("content or embeds required")
    if len(payload.get("content", "")) > 2000:
        problems.append("content over 2000")
    if len(embeds) > 10:
        problems.append("more than 10 embeds")
    total = 0
    for embed in embeds:
        title, description = embed.get("title", ""), embed.get("description", "")
        footer = embed.get("footer", {}).get("text", "")
        author = embed.get("author", {}).get("name", "")
        fields = embed.get("fields", [])
        if len(title) > 256 or len(description) > 4096 or len(footer) > 2048 or len(fields) > 25:
            problems.append("embed over a per-field limit")
        for f in fields:
            if not f.get("name") or not f.get("value") or len(f["name"]) > 256 or len(f["value"]) > 1024:
                problems.append("field name/value empty or too long")
            total += len(f.get("name", "")) + len(f.get("value", ""))
        total += len(title) + len(description) + len(footer) + len(author)
    if total > 6000:
        problems.append(f"embeds total {total} characters (max 6000)")
    return problems


_CHAT_WIDGETS = {"textParagraph", "decoratedText", "buttonList", "image", "divider", "columns"}


def googlechat(payload: Any, query: dict[str, str], headers: dict[str, str], body: bytes) -> Problems:
    problems: Problems = []
    if len(body) > 32_000:
        problems.append("message over 32,000 bytes")
    if len(payload.get("text", "")) > 4096:
        problems.append("text over 4096")
    if not payload.get("text") and not payload.get("cardsV2"):
        problems.append("text or cardsV2 required")
    thread = payload.get("thread")
    if thread is not None:
        if not isinstance(thread.get("threadKey"), str) or not thread["threadKey"] or len(thread["threadKey"]) > 4000:
            problems.append("thread.threadKey must be a string up to 4000 characters")
        if query.get("messageReplyOption") != "REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD":
            problems.append("threadKey without messageReplyOption starts a new thread every time")
    for card in payload.get("cardsV2", []):
        if not card.get("cardId") or "card" not in card:
            problems.append("cardsV2 item needs cardId and card")
            continue
        for section in card["card"].get("sections", []):
            for widget in section.get("widgets", []):
                if len(widget) != 1 or next(iter(widget)) not in _CHAT_WIDGETS:
                    problems.append(f"widget must have exactly one known kind: {sorted(widget)}")
    return problems


def _datetime_at(now: datetime) -> type[datetime]:
    """A `datetime` class whose `now()` is `now`: the package's timestamp check, in test time."""
    return type("ReceiverTime", (datetime,), {"now": classmethod(lambda cls, tz=None: now.astimezone(tz))})


def webhook_verifier(secret: str, clock: Callable[[], datetime | None] = lambda: None) -> Callable[..., Problems]:
    """Standard Webhooks verification with the package itself. `clock()` is the receiver's
    time: None is the wall clock; a test on a controlled clock passes that clock, so the
    5-minute tolerance is checked against the time the test lives in."""
    def verify(payload: Any, query: dict[str, str], headers: dict[str, str], body: bytes) -> Problems:
        now = clock()
        try:
            if now is None:
                Webhook(secret).verify(body, headers)
            else:   # synchronous: no other coroutine runs while the module's clock is swapped
                with mock.patch.object(standardwebhooks.webhooks, "datetime", _datetime_at(now)):
                    Webhook(secret).verify(body, headers)
        except WebhookVerificationError as exc:
            return [f"signature: {exc}"]
        return []
    return verify


def decode(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None
