"""Which alerts exist and when: bursts, quiet hours, repeats, resolved, events."""
from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.accounts import tokens
from app.core.models import AuditEntry, Event, SourceState
from app.intake.worker import Worker
from app.mentions import actions
from app.mentions.followups import raise_due_follow_ups
from tests.support.alerting import minutes, sink_toml
from tests.support.app import add_user

pytestmark = pytest.mark.asyncio


async def test_eight_breaches_within_a_minute_are_one_message_listing_them(alerting):
    a = alerting(sink_toml("chat", "slack", events=["breached"]))
    start = a.clock()
    ids = []
    for i in range(8):
        ids += await a.ingest(f"m{i}", posted_at=start + timedelta(seconds=7 * i))
    [later] = await a.ingest("m9", posted_at=start + minutes(30))

    a.clock.value = start + minutes(60)
    for _ in range(12):                        # the planner and dispatcher run every 10 s
        await a.tick(seconds=10)

    assert a.keys("chat") == [sorted(f"breached:{i}" for i in ids)]
    [message] = a.got("chat")
    assert message.problems == [] and "8 alerts" in message.payload["text"]
    a.clock.value = start + minutes(92)
    await a.tick()
    assert a.keys("chat")[1:] == [[f"breached:{later}"]]


QUIET = "22:00-07:00"


async def test_quiet_hours_mute_warnings_never_breaches(alerting):
    # 22:50 in Amsterdam: warning at 23:35 (quiet), breach at 23:50 (sent anyway).
    a = alerting(sink_toml("chat", "slack", quiet_hours=QUIET), start=datetime(2026, 11, 23, 21, 50, tzinfo=UTC))
    [mid] = await a.ingest("m1")

    await a.tick(minutes=46)
    await a.tick(minutes=1)
    assert a.got("chat") == []
    await a.tick(minutes=15)
    await a.tick(minutes=1)

    assert a.keys("chat") == [[f"breached:{mid}"]]
    assert {(r.kind, r.state) for r in await a.rows()} == {("warning", "muted"), ("breached", "sent")}


async def test_warnings_outside_quiet_hours_are_sent(alerting):
    a = alerting(sink_toml("chat", "slack", quiet_hours=QUIET))      # 09:00 Amsterdam
    [mid] = await a.ingest("m1")
    await a.tick(minutes=46)
    await a.tick(minutes=1)
    assert a.keys("chat") == [[f"warning:{mid}"]]


async def test_follow_up_due_in_quiet_hours_waits_for_the_morning(alerting):
    a = alerting(sink_toml("chat", "slack", quiet_hours=QUIET), start=datetime(2026, 11, 23, 21, 50, tzinfo=UTC))
    [mid] = await a.ingest("m1")
    token = await add_user(a.ctx, "anna")
    async with a.ctx.db.write() as session:
        anna = await tokens.principal_from_token(session, token, a.clock())
        follow_up = await actions.promise_follow_up(session, mid, anna, a.clock(), a.clock() + minutes(20), "Bellen")
        await raise_due_follow_ups(session, a.clock() + minutes(15))

    await a.tick(minutes=15)
    [row] = [r for r in await a.rows() if r.kind == "follow_up_due"]
    morning = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)      # 07:00 in Amsterdam
    assert (row.state, row.next_attempt_at, row.dedupe_key) == ("pending", morning, f"follow_up_due:{follow_up.id}")

    a.clock.value = morning - timedelta(seconds=1)
    await a.tick()
    assert not any("follow_up_due" in k for keys in a.keys("chat") for k in keys)
    await a.tick(seconds=1)
    assert a.keys("chat")[-1] == [f"follow_up_due:{follow_up.id}"]


async def test_unanswered_breach_is_repeated_every_interval_until_answered(alerting):
    a = alerting(sink_toml("chat", "slack", events=["breached"], repeat_minutes=30))
    [mid] = await a.ingest("m1")

    for _ in range(20):                        # 100 minutes, a pass every 5 minutes
        await a.tick(minutes=5)
    assert a.keys("chat") == [[f"breached:{mid}"], [f"breached:{mid}:r1"]]

    await a.answer(mid)
    for _ in range(12):
        await a.tick(minutes=5)
    assert len(a.got("chat")) == 2
    assert "Still unanswered" in a.got("chat")[1].payload["text"]


async def test_repeats_pause_while_the_team_is_closed(alerting):
    # Posted at 20:00 in Amsterdam, breached at 21:00; the team closes at 22:00.
    a = alerting(sink_toml("chat", "slack", events=["breached"], repeat_minutes=30),
                 sla_toml='hours = { mon = "08:00-22:00", tue = "08:00-22:00" }',
                 start=datetime(2026, 11, 23, 19, 0, tzinfo=UTC))
    [mid] = await a.ingest("m1")

    for _ in range(12 * 12 + 1):               # until 08:05 on Tuesday, a pass every 5 minutes
        await a.tick(minutes=5)

    assert a.keys("chat") == [[f"breached:{mid}"], [f"breached:{mid}:r1"], [f"breached:{mid}:r22"]]
    assert "Still unanswered" in a.got("chat")[2].payload["text"]     # one reminder at opening time


async def test_resolved_only_for_sinks_that_ask_and_only_after_an_alert_was_sent(alerting):
    a = alerting(sink_toml("opted", "slack", events=["breached", "resolved"]), sink_toml("plain", "slack"))
    [alerted, early] = await a.ingest("m1", "m2")
    await a.tick(minutes=60, seconds=10)       # both breached; their burst waits a minute
    await a.answer(early, "bob")                # answered before the breach alert went out
    await a.tick(minutes=1)
    await a.answer(alerted)
    await a.tick(minutes=1)
    await a.tick(minutes=1)

    assert a.keys("opted") == [[f"breached:{alerted}"], [f"resolved:{alerted}"]]
    assert a.keys("plain") == [[f"breached:{alerted}"]]
    assert "answered by anna" in a.got("opted")[1].payload["text"]
    early_rows = [r for r in await a.rows() if r.mention_id == early]
    assert {(r.kind, r.state, r.last_error) for r in early_rows} == {
        ("breached", "muted", "handled before it was sent")}


async def test_channel_and_category_filters_per_sink(alerting):
    a = alerting(sink_toml("billing", "slack", categories=["billing"]), sink_toml("all", "slack"),
                 sink_toml("x-only", "slack", channels=["x"]))
    [bill] = await a.ingest("b", category="billing")
    [deliv] = await a.ingest("d", category="delivery")
    await a.tick(minutes=61)
    await a.tick(minutes=1)
    assert {r.mention_id for r in await a.rows("billing")} == {bill}
    assert {r.mention_id for r in await a.rows("all")} == {bill, deliv}
    assert await a.rows("x-only") == []


async def test_source_down_alerts_once_per_outage_while_still_down(alerting):
    a = alerting(sink_toml("chat", "slack"),
                 extra_toml='[[sources]]\nname = "feed"\nkind = "rss"\nurl = "https://example.org/feed"\n'
                            'down_after_minutes = 30\n\n'
                            '[[sources]]\nname = "blog"\nkind = "rss"\nurl = "https://example.org/blog"\n\n')
    async with a.ctx.db.write() as session:
        for name in ("feed", "blog"):
            session.add(SourceState(source=name, kind="rss", created_at=a.clock(), health="failing",
                                    last_error="HTTP 503"))
    a.clock.advance(minutes=31)
    assert set(await Worker(a.ctx).check_sources_down()) == {"feed", "blog"}
    async with a.ctx.db.write() as session:        # "blog" recovered before the planner ran
        (await session.get(SourceState, "blog")).down_since = None

    await a.tick()
    await a.tick(minutes=2)
    await a.tick(minutes=2)

    [keys] = a.keys("chat")
    assert len(keys) == 1 and keys[0].startswith("source_down:feed:e")
    assert "Source feed is down" in a.got("chat")[0].payload["text"]
    assert len(await a.rows()) == 1


async def test_workers_raising_follow_ups_and_expiring_claims_at_once_do_each_once(alerting):
    """Two workers' timers at the same moment (SKIP LOCKED on PostgreSQL, serialised writes on
    SQLite): each due promise raises one event, each idle claim expires once."""
    a = alerting(sink_toml("chat", "slack"))
    mids = await a.ingest("f1", "f2", "f3")
    token = await add_user(a.ctx, "anna")
    async with a.ctx.db.write() as session:
        anna = await tokens.principal_from_token(session, token, a.clock())
        for mid in mids:
            await actions.promise_follow_up(session, mid, anna, a.clock(), a.clock() + minutes(20), "Bellen")
            await actions.claim(session, mid, anna, a.clock(), idle_minutes=10)
    later = a.clock() + minutes(30)

    async def timers():
        async with a.ctx.db.write() as session:
            raised = await raise_due_follow_ups(session, later)
        async with a.ctx.db.write() as session:
            expired = await actions.expire_idle_claims(session, later)
        return raised, expired

    results = await asyncio.gather(*(timers() for _ in range(4)))
    raised_all = [f for raised, _ in results for f in raised]
    assert len(raised_all) == len(set(raised_all)) == 3
    assert sum(expired for _, expired in results) == 3
    async with a.ctx.db.read() as session:
        events = (await session.exec(select(Event.type).where(Event.type == "follow_up_due"))).scalars().all()
        audits = (await session.exec(select(AuditEntry.action)
                                     .where(AuditEntry.action == "claim_expired"))).scalars().all()
    assert len(events) == 3 and len(audits) == 3
