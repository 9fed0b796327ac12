"""A mention crossing the warning and then the target, end to end into every sink."""
from __future__ import annotations

import asyncio

import pytest

from app.alerts.dispatcher import Dispatcher
from app.alerts.planner import AlertPlanner
from tests.support.alerting import minutes, sink_toml

pytestmark = pytest.mark.asyncio
KINDS = ("slack", "teams", "mattermost", "discord", "googlechat", "webhook")


async def test_warning_then_breach_is_two_alerts_per_sink_across_a_restart(alerting):
    a = alerting(*(sink_toml(kind, kind) for kind in KINDS))
    [mid] = await a.ingest("m1")

    await a.tick(minutes=45, seconds=30)      # warning raised; waits for the rest of its burst
    assert all(a.got(kind) == [] for kind in KINDS)
    await a.tick(seconds=31)
    assert all(a.keys(kind) == [[f"warning:{mid}"]] for kind in KINDS)

    a.restart()                                # a new worker over the same database
    await a.tick(minutes=14)                   # 60:01 past posting: breached
    await a.tick(minutes=1)
    for kind in KINDS:
        assert a.keys(kind) == [[f"warning:{mid}"], [f"breached:{mid}"]], kind
        assert all(r.problems == [] for r in a.got(kind))
        assert f"https://webcare.example.org/mentions/{mid}" in a.got(kind)[1].body.decode()

    await a.tick(minutes=5)                    # nothing new happens by running again
    assert all(len(a.got(kind)) == 2 for kind in KINDS)
    assert {(r.sink, r.kind, r.state) for r in await a.rows()} == (
        {(k, "warning", "sent") for k in KINDS} | {(k, "breached", "sent") for k in KINDS})


async def test_planners_twice_or_side_by_side_never_double_an_alert(alerting):
    a = alerting(sink_toml("chat", "slack"))
    await a.ingest("m1", "m2", "m3")
    a.clock.advance(minutes=61)
    planners = [AlertPlanner(a.ctx) for _ in range(3)]

    results = await asyncio.gather(*(p.plan() for p in planners))
    again = await planners[0].plan()

    assert sum(r.total for r in results) == 3 and again.total == 0
    assert sorted(r.dedupe_key for r in await a.rows()) == sorted(
        f"breached:{m}" for m in {r.mention_id for r in await a.rows()})


async def test_two_dispatchers_at_once_send_each_message_once(alerting):
    a = alerting(sink_toml("chat", "slack"))
    await a.ingest("m1")
    a.clock.advance(minutes=62)
    await a.planner.plan()

    await asyncio.gather(Dispatcher(a.ctx).dispatch(), Dispatcher(a.ctx).dispatch())

    assert len(a.got("chat")) == 1
    [row] = await a.rows()
    assert row.state == "sent" and row.attempts == 1


async def test_backfilled_and_outbound_mentions_raise_no_alerts(alerting):
    a = alerting(sink_toml("chat", "slack"))
    # A new source's first poll: posts older than the target are backfill, shown but not alerted.
    backfilled = await a.ingest("old", posted_at=a.clock() - minutes(90), first_poll=True)
    await a.ingest("own", outbound=True)
    [fresh] = await a.ingest("new", posted_at=a.clock() - minutes(10), first_poll=True)

    for _ in range(4):
        await a.tick(minutes=20)

    assert backfilled and {r.mention_id for r in await a.rows()} == {fresh}
