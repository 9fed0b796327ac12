"""What the dispatcher does with each answer: retry after Retry-After, back off on 5xx and
timeouts, disable a removed hook with its reason, keep dead letters and retry them."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app.alerts.policy import MAX_ATTEMPTS
from app.alerts.sinks import SINKS
from tests.support.alerting import minutes, sink_toml
from tests.support.app import add_user, bearer
from tests.support.chat.receiver import Reply
from tests.support.chat.sinks import rate_limited

pytestmark = pytest.mark.asyncio


async def breach_pending(a) -> int:
    """One mention whose breach alert is due to be sent at the next dispatch."""
    [mid] = await a.ingest("m1")
    a.clock.advance(minutes=61, seconds=1)
    await a.planner.plan()
    return mid


async def test_rate_limited_is_retried_after_retry_after_and_delivered_once(alerting):
    a = alerting(sink_toml("chat", "slack"))
    a.receiver.script("chat", Reply(429, "rate_limited", {"Retry-After": "120"}))
    await breach_pending(a)

    await a.dispatcher.dispatch()
    [row] = await a.rows()
    assert row.state == "pending" and row.next_attempt_at >= a.clock() + timedelta(seconds=120)
    assert "429" in row.last_error

    await a.tick(seconds=119)                  # too early: Retry-After is a floor
    assert len(a.got("chat")) == 1
    await a.tick(seconds=2)
    await a.tick(minutes=30)
    assert len(a.got("chat")) == 2             # the refused one and the delivered one
    [row] = await a.rows()
    assert (row.state, row.attempts) == ("sent", 2)


async def test_retry_carries_the_same_group_key(alerting):
    # The generic webhook checks signatures against the real clock: start at the real time.
    from datetime import UTC, datetime

    a = alerting(sink_toml("hook", "webhook"), start=datetime.now(UTC) - timedelta(minutes=62))
    a.receiver.script("hook", Reply(500, "boom"))
    for i in range(3):
        await a.ingest(f"m{i}", posted_at=a.clock())
    a.clock.advance(minutes=61, seconds=1)
    await a.planner.plan()

    await a.dispatcher.dispatch()
    a.clock.advance(minutes=1)
    await a.ingest("late", posted_at=a.clock() - minutes(61))   # a new breach must not join the retried group
    await a.tick(seconds=1)
    await a.tick(minutes=2)

    ids = [r.headers["webhook-id"] for r in a.got("hook")]
    assert ids[0] == ids[1] and ids[0].startswith("group:") and len(ids) == 3
    assert all(r.problems == [] for r in a.got("hook"))


async def test_server_errors_and_timeouts_are_retried_with_backoff(alerting):
    a = alerting(sink_toml("chat", "teams"))
    a.receiver.script("chat", Reply(500, "oops"), Reply(200, hang=True))
    await breach_pending(a)

    await a.dispatcher.dispatch()
    [row] = await a.rows()
    assert row.state == "pending" and row.last_error == "HTTP 500: oops"
    await a.tick(seconds=5)                    # first backoff: 2.5-5 s
    [row] = await a.rows()
    assert row.state == "pending" and row.last_error.startswith("timeout")
    await a.tick(seconds=10)
    [row] = await a.rows()
    assert (row.state, row.attempts) == ("sent", 3) and len(a.got("chat")) == 3


@pytest.mark.parametrize("status", [404, 410])
async def test_removed_hook_disables_the_sink_with_the_reason(alerting, app_client, status):
    a = alerting(sink_toml("chat", "slack"), sink_toml("other", "slack"))
    a.receiver.script("chat", Reply(status, "no_service"))
    mid = await breach_pending(a)

    await a.dispatcher.dispatch()

    state = await a.sink_state("chat")
    assert state.disabled_reason == f"HTTP {status}: no_service" and state.disabled_at == a.clock()
    rows = {r.sink: r for r in await a.rows()}
    assert rows["chat"].state == "dead" and rows["other"].state == "sent"
    # Disabled: nothing new is planned or sent for it, until an admin enables it again.
    await a.ingest("m2")
    await a.tick(minutes=62)
    assert len(a.got("chat")) == 1 and {r.dedupe_key for r in await a.rows("chat")} == {f"breached:{mid}"}
    admin = bearer(await add_user(a.ctx, "root", "admin"))
    page = await app_client.get("/alerts", headers=admin)
    assert page.status_code == 200 and f"HTTP {status}: no_service" in page.text

    assert (await app_client.post("/alerts/sinks/chat/enable", headers=admin)).status_code == 303
    await a.tick(minutes=1)
    assert (await a.sink_state("chat")).disabled_at is None and len(a.got("chat")) == 2


async def test_dead_letters_are_kept_visible_and_the_retry_button_sends_them(alerting, app_client):
    a = alerting(sink_toml("chat", "mattermost"))
    a.receiver.script("chat", *[Reply(503, "down")] * MAX_ATTEMPTS)
    await breach_pending(a)

    for _ in range(MAX_ATTEMPTS):
        await a.tick(minutes=16)               # beyond the longest backoff

    [row] = await a.rows()
    assert (row.state, row.attempts) == ("dead", MAX_ATTEMPTS) and "gave up" in row.last_error
    assert len(a.got("chat")) == MAX_ATTEMPTS
    admin = bearer(await add_user(a.ctx, "root", "admin"))
    page = await app_client.get("/alerts", headers=admin)
    assert f"/alerts/outbox/{row.id}/retry" in page.text and row.dedupe_key in page.text

    assert (await app_client.post(f"/alerts/outbox/{row.id}/retry", headers=admin)).status_code == 303
    assert (await app_client.post(f"/alerts/outbox/{row.id}/retry", headers=admin)).status_code == 404
    await a.tick(seconds=1)
    [row] = await a.rows()
    assert row.state == "sent" and len(a.got("chat")) == MAX_ATTEMPTS + 1


async def test_refused_payload_is_a_dead_letter_at_once(alerting):
    a = alerting(sink_toml("chat", "slack"))
    a.receiver.script("chat", Reply(400, "invalid_payload"))
    await breach_pending(a)
    await a.dispatcher.dispatch()
    [row] = await a.rows()
    assert (row.state, row.last_error) == ("dead", "HTTP 400: invalid_payload")
    assert (await a.sink_state("chat")).disabled_at is None


async def test_missing_hook_url_is_shown_not_crashed(alerting, monkeypatch):
    a = alerting(sink_toml("chat", "slack"))
    monkeypatch.delenv("WEBCARE_TEST_ALERT_URL_CHAT")
    await breach_pending(a)
    await a.dispatcher.dispatch()
    assert (await a.sink_state("chat")).last_error == "environment variable WEBCARE_TEST_ALERT_URL_CHAT is not set"
    assert [r.state for r in await a.rows()] == ["pending"]


async def test_each_sink_keeps_to_its_rate_limit(alerting):
    a = alerting(sink_toml("chat", "slack"))               # Slack: about one message a second
    [breaching] = await a.ingest("m1")
    a.clock.advance(minutes=16)
    [warned] = await a.ingest("m2")
    a.clock.advance(minutes=46)
    await a.planner.plan()                                 # a breach and a warning: two messages
    a.clock.advance(minutes=1)

    await a.dispatcher.dispatch()
    await a.dispatcher.dispatch()
    assert a.keys("chat") == [[f"breached:{breaching}"]]     # oldest first; the other waits
    await a.tick(seconds=1)
    assert a.keys("chat") == [[f"breached:{breaching}"], [f"warning:{warned}"]]


@pytest.mark.parametrize("kind", sorted(SINKS))
async def test_every_sink_retries_rate_limits_server_errors_and_timeouts_then_delivers_once(alerting, kind):
    a = alerting(sink_toml("chat", kind))
    a.receiver.script("chat", rate_limited(kind), Reply(500, "oops"), Reply(200, hang=True))
    mid = await breach_pending(a)
    retry_after = 7.25 if kind == "discord" else 7   # Discord's JSON retry_after is the precise one

    await a.dispatcher.dispatch()                       # 429
    [row] = await a.rows()
    assert row.next_attempt_at >= a.clock() + timedelta(seconds=retry_after)
    await a.tick(seconds=6)                             # not before Retry-After
    assert len(a.got("chat")) == 1
    await a.tick(seconds=2)                             # 500: our backoff, 5-10 s
    [row] = await a.rows()
    assert row.last_error.startswith("HTTP 500") and len(a.got("chat")) == 2
    await a.tick(seconds=10)                            # no answer: timeout, backoff 10-20 s
    [row] = await a.rows()
    assert row.last_error.startswith("timeout") and len(a.got("chat")) == 3
    await a.tick(seconds=20)
    await a.tick(minutes=30)

    [row] = await a.rows()
    assert (row.state, row.attempts) == ("sent", 4)
    assert a.keys("chat") == [[f"breached:{mid}"]] * 4 and all(r.problems == [] for r in a.got("chat"))
    if kind == "webhook":                               # one idempotency key across the retries
        assert {r.headers["webhook-id"] for r in a.got("chat")} == {f"breached:{mid}"}


@pytest.mark.parametrize("kind", sorted(SINKS))
@pytest.mark.parametrize("status", [404, 410])
async def test_every_sink_is_disabled_when_its_hook_is_gone(alerting, kind, status):
    a = alerting(sink_toml("chat", kind))
    a.receiver.script("chat", Reply(status))
    await breach_pending(a)

    await a.dispatcher.dispatch()
    await a.ingest("m2")
    await a.tick(minutes=62)

    state = await a.sink_state("chat")
    assert state.disabled_at is not None and state.disabled_reason.startswith(f"HTTP {status}")
    assert len(a.got("chat")) == 1 and [r.state for r in await a.rows()] == ["dead"]
