"""Rendering within each tool's limits, and classifying answers, without a network."""
from __future__ import annotations

import re
from datetime import timedelta
from email.utils import format_datetime

import httpx
import pytest

from app.alerts import AlertGroup
from app.alerts.sinks import SINKS, Delivered, Gone, Permanent, RetryAfter, create_sink
from app.alerts.sinks.discord import embed_chars
from app.alerts.sinks.googlechat import GoogleChatSink
from tests.support.alert_factories import NOW, alert, breach
from tests.support.chat.receiver import VALIDATORS
from tests.support.chat.sinks import make_sink, wall_clock

KINDS = sorted(SINKS)


def problems(kind: str, group: AlertGroup) -> tuple[list[str], str]:
    request = make_sink(kind).render(group, now=wall_clock())
    return VALIDATORS[kind](request.payload(), dict(request.params), dict(request.headers), request.body), \
        request.body.decode()


@pytest.mark.parametrize("kind", KINDS)
def test_a_huge_burst_of_long_mentions_stays_within_limits(kind):
    group = AlertGroup([breach(i, text="Waar blijft mijn pakket? " * 400, author="a" * 300) for i in range(40)])
    found, body = problems(kind, group)
    assert found == []
    shown = len(set(re.findall(r"breached:(\d+)", body)))
    assert 1 <= shown <= make_sink(kind).max_per_message
    if kind == "webhook":
        assert f'"omitted":{40 - shown}' in body
    else:
        assert f"+{40 - shown} more in the dashboard" in body


@pytest.mark.parametrize("kind", KINDS)
def test_one_enormous_mention_is_truncated_not_refused(kind):
    found, body = problems(kind, AlertGroup([breach(1, text="x" * 100_000)]))
    assert found == []
    if kind != "webhook":           # chat tools show an excerpt; the dashboard has the rest
        assert "x" * 501 not in body and "…" in body


def test_slack_uses_no_more_than_fifty_blocks():
    payload = create_sink("slack").render(AlertGroup([breach(i) for i in range(30)])).payload()
    assert len(payload["blocks"]) <= 50
    assert payload["text"].startswith("🚨 Response target missed: 30 alerts")


def test_discord_keeps_the_six_thousand_character_total():
    payload = create_sink("discord").render(AlertGroup([breach(i, text="y" * 3000) for i in range(10)])).payload()
    assert sum(embed_chars(e) for e in payload["embeds"]) <= 6000
    assert 1 <= len(payload["embeds"]) < 10


def test_teams_card_is_cut_to_28_kb_by_size_not_only_by_count():
    sink = create_sink("teams")
    group = AlertGroup([breach(i, text="z" * 3000, author="a" * 1000) for i in range(sink.max_per_message)])
    body = sink.render(group).body.decode()
    shown = len(set(re.findall(r"ref: breached:(\d+)", body)))
    assert len(body.encode()) <= 28 * 1024
    assert shown < sink.max_per_message and f"+{sink.max_per_message - shown} more in the dashboard" in body


@pytest.mark.parametrize(("thread_by", "group", "key"), [
    ("mention", AlertGroup([breach(7)]), "webcare-mention-7"),
    ("mention", AlertGroup([alert("source_down", "reddit")]), "webcare-source_down-reddit"),
    ("event", AlertGroup([breach(7)]), "webcare-breached:7"),
])
def test_google_chat_thread_keys(thread_by, group, key):
    payload = GoogleChatSink(thread_by=thread_by).render(group).payload()
    assert payload["thread"] == {"threadKey": key}


def test_google_chat_burst_gets_its_own_thread():
    group = AlertGroup([breach(1), breach(2)])
    key = GoogleChatSink().render(group).payload()["thread"]["threadKey"]
    assert key.startswith("webcare-group:") and re.fullmatch(r"[A-Za-z0-9_.:-]+", key)


# --- classification -------------------------------------------------------------------------

def test_retry_after_as_http_date():
    later = format_datetime(NOW + timedelta(seconds=90), usegmt=True)
    outcome = create_sink("teams").classify(503, {"Retry-After": later}, b"", now=NOW)
    assert outcome == RetryAfter(90.0, "HTTP 503: ", from_server=True)


def test_discord_prefers_the_precise_json_retry_after_and_falls_back_to_the_header():
    sink = create_sink("discord")
    assert sink.classify(429, {"Retry-After": "1"}, b'{"retry_after": 0.35, "global": false}').seconds == 0.35
    assert sink.classify(429, {"Retry-After": "2"}, b"<html>busy</html>").seconds == 2.0


@pytest.mark.parametrize(("body", "outcome"), [
    (b"invalid_token", Gone), (b"no_service", Gone), (b"channel_is_archived", Gone),
    (b"action_prohibited", Permanent), (b"posting_to_general_channel_denied", Permanent),
])
def test_slack_403_depends_on_the_body(body, outcome):
    assert isinstance(create_sink("slack").classify(403, {}, body), outcome)


@pytest.mark.parametrize("status", [200, 201, 202, 204])
def test_any_2xx_is_delivered(status):
    assert create_sink("webhook", secret="whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY").classify(
        status, {}, b"") == Delivered(status)


@pytest.mark.parametrize("status", [400, 413, 422])
def test_refused_payloads_are_permanent(status):
    assert isinstance(create_sink("googlechat").classify(status, {}, b'{"error": {}}'), Permanent)


def test_registry_and_config_errors():
    assert {kind: cls.kind for kind, cls in SINKS.items()} == {k: k for k in KINDS}
    assert set(KINDS) == {"slack", "teams", "mattermost", "discord", "googlechat", "webhook"}
    with pytest.raises(ValueError, match="unknown alert sink kind"):
        create_sink("pager")
    for secret in ("not-a-secret", "whsec_!!!", "whsec_c2hvcnQ="):
        with pytest.raises(ValueError, match="secret"):
            create_sink("webhook", secret=secret)
    assert "whsec" not in repr(create_sink("webhook", secret="whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY"))


@pytest.mark.parametrize(("kind", "per_minute"), [("slack", 60), ("googlechat", 60), ("discord", 30)])
def test_each_sink_rate_limit_keeps_the_tools_published_pace(kind, per_minute):
    bucket, sent = make_sink(kind).rate_limiter(NOW), 0
    for tick in range(600):             # one minute, asking every 0.1 s
        bucket, wait = bucket.take(NOW + timedelta(seconds=tick / 10))
        sent += wait == 0
    assert sent <= per_minute + make_sink(kind).burst


@pytest.mark.asyncio
async def test_a_malformed_hook_url_is_permanent():
    async with httpx.AsyncClient() as client:
        outcome = await create_sink("slack").send(client, "ftp://hooks.example/x", AlertGroup([breach()]), now=NOW)
    assert outcome == Permanent("invalid hook URL (UnsupportedProtocol)")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("event", ["source_down", "spike", "follow_up_due", "resolved", "test", "warning"])
def test_alerts_without_a_mention_render_valid_payloads(kind, event):
    found, body = problems(kind, AlertGroup([alert(event, "reddit")]))
    assert found == [] and f"{event}:reddit" in body
