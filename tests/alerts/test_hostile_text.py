"""Hostile customer text, as the receiving server got it: nobody pinged, no fake links.

Each tool parses different parts of a message, so each check looks where that tool looks:
Slack parses `text` and mrkdwn objects (plain_text is inert); Teams renders markdown in
TextBlocks and FactSets (TextRuns are inert); Discord and Mattermost render markdown
nearly everywhere; Google Chat renders HTML in card widgets and its own markup in `text`.
"""
from __future__ import annotations

import re
from typing import Any

import pytest

from app.alerts import AlertGroup
from app.alerts.neutralise import ZWSP
from tests.support.alert_factories import HOSTILE, breach
from tests.support.chat.protocols import _walk
from tests.support.chat.receiver import Receiver
from tests.support.chat.sinks import make_sink, wall_clock

DASHBOARD = "https://webcare.example.org/mentions/42"
POST = "https://mastodon.social/@klant/42"
BROADCASTS = ("@channel", "@here", "@everyone", "@all")
SLACK_LINK = re.compile(r"<([^>]*)>")
MARKDOWN_LINK = re.compile(r"(?<!\\)\[([^\]]*)(?<!\\)\]\((?P<url>[^)]*)\)")


async def deliver(kind: str, receiver: Receiver, client) -> tuple[Any, str]:
    alert = breach(42, text=HOSTILE, author="<!here> @everyone [me](http://evil.example)")
    await make_sink(kind).send(client, receiver.url(kind), AlertGroup([alert]), now=wall_clock())
    [got] = receiver.received
    assert got.problems == []
    return got.payload, got.body.decode()


def no_broadcast(text: str) -> None:
    for word in BROADCASTS:
        assert word not in text, word


@pytest.mark.asyncio
async def test_slack(receiver: Receiver, client):
    payload, _ = await deliver("slack", receiver, client)
    parsed = [payload["text"]] + [o["text"] for o in _walk(payload["blocks"]) if o.get("type") == "mrkdwn"]
    for text in parsed:
        no_broadcast(text)
        links = SLACK_LINK.findall(text)
        assert {link.split("|")[0] for link in links} <= {DASHBOARD, POST}, links
    assert f"<{DASHBOARD}|Open in Webcare>" in " ".join(parsed)
    # the customer's words are still shown, as inert plain text
    plain = " ".join(o["text"] for o in _walk(payload["blocks"]) if o.get("type") == "plain_text")
    assert f"<{ZWSP}!channel>" in plain and "*bold*" in plain
    no_broadcast(plain)


@pytest.mark.asyncio
async def test_teams(receiver: Receiver, client):
    payload, body = await deliver("teams", receiver, client)
    card = payload["attachments"][0]["content"]
    assert "<at>" not in body and "msteams" in card and "entities" not in card["msteams"]
    markdown_rendered = [o["text"] for o in _walk(card) if o.get("type") == "TextBlock"]
    markdown_rendered += [f["value"] for o in _walk(card) if o.get("type") == "FactSet" for f in o["facts"]]
    for text in markdown_rendered:
        assert "evil.example" not in text and "*bold*" not in text
        no_broadcast(text)
    runs = " ".join(o["text"] for o in _walk(card) if o.get("type") == "TextRun")
    assert "[click](http://evil.example)" in runs       # shown literally: TextRuns render no markdown
    assert {a["url"] for a in _walk(card) if a.get("type") == "Action.OpenUrl"} == {DASHBOARD, POST}


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", ["discord", "mattermost"])
async def test_markdown_tools(kind, receiver: Receiver, client):
    payload, body = await deliver(kind, receiver, client)
    no_broadcast(body)
    assert "<@" not in body and "<!" not in body and "<http" not in body and "<at>" not in body
    strings = [v for o in _walk(payload) for v in o.values() if isinstance(v, str)]
    link_targets = {m.group("url") for s in strings for m in MARKDOWN_LINK.finditer(s)}
    assert link_targets <= {DASHBOARD, POST}, link_targets
    assert not any(re.search(r"(?<!\\)\*bold(?<!\\)\*", s) for s in strings)
    if kind == "discord":
        assert payload["allowed_mentions"] == {"parse": []}
        assert payload["embeds"][0]["url"] == DASHBOARD
    else:
        assert f"[Open in Webcare]({DASHBOARD})" in body and payload["attachments"][0]["title_link"] == DASHBOARD


@pytest.mark.asyncio
async def test_google_chat(receiver: Receiver, client):
    payload, body = await deliver("googlechat", receiver, client)
    no_broadcast(body)
    assert "<users/all>" not in body and "<http" not in body and "<a href" not in body and "<!" not in body
    assert "evil.example" not in payload["text"]
    buttons = [b["onClick"]["openLink"]["url"] for o in _walk(payload) if "buttons" in o for b in o["buttons"]]
    assert buttons == [DASHBOARD, POST]


@pytest.mark.asyncio
async def test_generic_webhook_carries_the_raw_text_for_programs(receiver: Receiver, client):
    payload, _ = await deliver("webhook", receiver, client)
    assert payload["data"]["alerts"][0]["mention"]["text"] == HOSTILE
