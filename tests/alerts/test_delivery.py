"""Every sink against the local receiving server: valid payloads, and each kind of answer."""
from __future__ import annotations

import pytest
from standardwebhooks.webhooks import Webhook

from app.alerts import AlertGroup
from app.alerts.policy import backoff_seconds
from app.alerts.sinks import SINKS, Delivered, Gone, Permanent, RetryAfter, create_sink
from tests.support.alert_factories import breach
from tests.support.chat.receiver import WEBHOOK_SECRET, Receiver, Reply
from tests.support.chat.sinks import make_sink, rate_limited, wall_clock

KINDS = sorted(SINKS)
SUCCESS_STATUS = {"slack": 200, "teams": 202, "mattermost": 200, "discord": 204, "googlechat": 200, "webhook": 200}


GONE_REPLIES = {
    "slack": [Reply(404, "no_service"), Reply(410, "channel_is_archived"), Reply(403, "invalid_token")],
    "teams": [Reply(404, {"error": {"code": "WorkflowNotFound"}}), Reply(410)],
    "mattermost": [Reply(404), Reply(400, {"id": "web.incoming_webhook.invalid.app_error", "status_code": 400})],
    "discord": [Reply(404, {"message": "Unknown Webhook", "code": 10015}), Reply(410)],
    "googlechat": [Reply(404, {"error": {"code": 404, "status": "NOT_FOUND"}}), Reply(410)],
    "webhook": [Reply(404), Reply(410)],
}


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", KINDS)
async def test_delivers_a_payload_the_tool_accepts(kind, receiver: Receiver, client):
    group = AlertGroup([breach(42)])
    outcome = await make_sink(kind).send(client, receiver.url(kind), group, now=wall_clock())

    assert outcome == Delivered(SUCCESS_STATUS[kind])
    [got] = receiver.received
    assert got.problems == []
    assert "breached:42" in got.body.decode()            # the dedupe key travels with every message
    assert "https://webcare.example.org/mentions/42" in got.body.decode()


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", KINDS)
async def test_rate_limit_then_delivered_once_on_retry(kind, receiver: Receiver, client):
    receiver.script("hook", rate_limited(kind))
    sink, group = make_sink(kind), AlertGroup([breach(42)])

    first = await sink.send(client, receiver.url(kind), group, now=wall_clock(), attempt=1)
    assert isinstance(first, RetryAfter) and first.from_server
    assert first.seconds == (7.25 if kind == "discord" else 7)

    second = await sink.send(client, receiver.url(kind), group, now=wall_clock(), attempt=2)
    assert isinstance(second, Delivered)
    assert len(receiver.received) == 2 and all(r.problems == [] for r in receiver.received)
    if kind == "webhook":       # the idempotency key is the same on the retry
        assert receiver.received[0].headers["webhook-id"] == receiver.received[1].headers["webhook-id"] == "breached:42"


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", KINDS)
async def test_server_error_is_retried_with_our_backoff(kind, receiver: Receiver, client):
    receiver.script("hook", Reply(500, "internal error"), Reply(503, "unavailable"))
    sink, group = make_sink(kind), AlertGroup([breach(42)])

    first = await sink.send(client, receiver.url(kind), group, now=wall_clock(), attempt=1)
    second = await sink.send(client, receiver.url(kind), group, now=wall_clock(), attempt=2)
    third = await sink.send(client, receiver.url(kind), group, now=wall_clock(), attempt=3)

    assert first == RetryAfter(backoff_seconds(1), "HTTP 500: internal error")
    assert isinstance(second, RetryAfter) and second.seconds == backoff_seconds(2) and not second.from_server
    assert isinstance(third, Delivered)


@pytest.mark.asyncio
@pytest.mark.parametrize(("kind", "reply"), [(k, r) for k in KINDS for r in GONE_REPLIES[k]],
                         ids=lambda v: v if isinstance(v, str) else f"{v.status}")
async def test_removed_hook_is_gone(kind, reply, receiver: Receiver, client):
    receiver.script("hook", reply)
    outcome = await make_sink(kind).send(client, receiver.url(kind), AlertGroup([breach(42)]), now=wall_clock())
    assert isinstance(outcome, Gone)


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", KINDS)
async def test_timeout_is_retried(kind, receiver: Receiver, client):
    receiver.script("hook", Reply(200, hang=True))
    outcome = await make_sink(kind).send(client, receiver.url(kind), AlertGroup([breach(42)]), now=wall_clock())
    assert outcome == RetryAfter(backoff_seconds(1), "timeout (ReadTimeout)")


@pytest.mark.asyncio
async def test_connection_refused_is_retried(client):
    async with Receiver().serving() as gone_server:
        url = gone_server.url("slack")
    outcome = await make_sink("slack").send(client, url, AlertGroup([breach(42)]), now=wall_clock(), attempt=3)
    assert outcome == RetryAfter(backoff_seconds(3), "connection error (ConnectError)")


@pytest.mark.asyncio
async def test_refused_payload_is_permanent_not_gone(receiver: Receiver, client):
    receiver.script("hook", Reply(400, "invalid_payload"), Reply(403, "action_prohibited"))
    sink, group = make_sink("slack"), AlertGroup([breach(42)])
    assert await sink.send(client, receiver.url("slack"), group, now=wall_clock()) == Permanent(
        "HTTP 400: invalid_payload")
    assert isinstance(await sink.send(client, receiver.url("slack"), group, now=wall_clock()), Permanent)


@pytest.mark.asyncio
async def test_wrong_webhook_secret_is_refused_by_the_receiver(receiver: Receiver, client):
    other = "whsec_" + "b3RoZXItc2VjcmV0LW9mLWF0LWxlYXN0LTI0LWJ5dGVz"
    outcome = await create_sink("webhook", secret=other).send(
        client, receiver.url("webhook"), AlertGroup([breach(42)]), now=wall_clock())
    assert isinstance(outcome, Gone)        # 401: the receiver does not accept our key
    assert receiver.received[0].problems


@pytest.mark.asyncio
async def test_webhook_body_is_verifiable_and_carries_raw_alert_data(receiver: Receiver, client):
    group = AlertGroup([breach(1), breach(2)])
    await make_sink("webhook").send(client, receiver.url("webhook"), group, now=wall_clock())

    [got] = receiver.received
    verified = Webhook(WEBHOOK_SECRET).verify(got.body, got.headers)
    assert got.headers["webhook-id"] == group.dedupe_key
    assert verified["type"] == "webcare.alert.breached"
    assert [a["dedupe_key"] for a in verified["data"]["alerts"]] == ["breached:1", "breached:2"]
    assert verified["data"]["alerts"][0]["mention"]["text"] == "Mijn pakket is niet aangekomen"


@pytest.mark.asyncio
async def test_google_chat_threads_by_mention_through_the_query_option(receiver: Receiver, client):
    await make_sink("googlechat").send(client, receiver.url("googlechat", query="key=k&token=t"),
                                       AlertGroup([breach(42)]), now=wall_clock())
    [got] = receiver.received
    assert got.query == {"key": "k", "token": "t", "messageReplyOption": "REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD"}
    assert got.payload["thread"] == {"threadKey": "webcare-mention-42"}


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", KINDS)
async def test_a_burst_arrives_as_one_message_listing_every_alert(kind, receiver: Receiver, client):
    group = AlertGroup([breach(i) for i in range(1, 9)])
    outcome = await make_sink(kind).send(client, receiver.url(kind), group, now=wall_clock())

    assert isinstance(outcome, Delivered)
    [got] = receiver.received
    assert got.problems == []
    expected = {f"breached:{i}" for i in range(1, 9)}
    if kind == "webhook":
        assert {a["dedupe_key"] for a in got.payload["data"]["alerts"]} == expected
    else:
        assert all(f"ref: {key}" in got.body.decode() for key in expected)
