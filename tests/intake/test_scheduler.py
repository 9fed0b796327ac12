"""The source scheduler against scripted connectors (the Protocol boundary): schedule,
rate limits, auth failures, backoff, the lease, backfill, crash safety and health."""
from __future__ import annotations

import asyncio
import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from app.core import metrics
from app.core.config import SourceConfig
from app.core.models import Event, Mention, SourceState
from app.intake import scheduler, store
from app.intake.scheduler import SourceRunner
from app.intake.worker import Worker
from connectors.base import AuthFailed, Capabilities, FetchResult, NewMention, RateLimited, TemporaryFailure
from tests.support.app import Clock

pytestmark = pytest.mark.asyncio
T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


class ScriptedConnector:
    """Plays back results or errors, and records the cursors it was asked for."""

    kind = "mastodon"
    capabilities = Capabilities(can_reply=False, text_limit=500)

    def __init__(self, *script):
        self.script = list(script)
        self.cursors: list = []
        self.sinces: list = []
        self.gate: asyncio.Event | None = None

    async def fetch(self, cursor, *, since=None):
        self.cursors.append(cursor)
        self.sinces.append(since)
        if self.gate:
            await self.gate.wait()
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        return step

    async def reply(self, request):
        raise NotImplementedError


def posts(*ids: str, minutes_ago: int = 5, now: datetime = T0) -> list[NewMention]:
    return [NewMention(external_id=i, posted_at=now - timedelta(minutes=minutes_ago), author="a", text=i) for i in ids]


def source(name: str = "masto", **kw) -> SourceConfig:
    return SourceConfig(name=name, kind="mastodon", interval_seconds=60, hashtags=["acme"], **kw)


@pytest.fixture
def clock(ctx):
    ctx.clock = Clock(T0)
    return ctx.clock


async def state_of(ctx, name="masto") -> SourceState:
    async with ctx.db.read() as s:
        return await s.get(SourceState, name)


async def test_success_stores_batch_cursor_and_schedules_next_poll(ctx, clock):
    conn = ScriptedConnector(FetchResult(posts("1", "2"), {"min_id": "2"}),
                             FetchResult(posts("3"), {"min_id": "3"}))
    runner = SourceRunner(ctx, source(), conn, rng=random.Random(1))
    first = await runner.poll_once()
    assert first.ok and first.stored == 2 and first.next_poll_at == T0 + timedelta(seconds=60)
    assert (await runner.poll_once()).reason == "not due or another worker holds it"
    clock.advance(seconds=60)
    assert (await runner.poll_once()).stored == 1
    assert conn.cursors == [None, {"min_id": "2"}]
    state = await state_of(ctx)
    assert state.cursor == {"min_id": "3"} and state.health == "ok" and state.fetched_total == 3


async def test_first_poll_is_bounded_by_backfill_hours_and_marks_old_items(ctx, clock):
    conn = ScriptedConnector(FetchResult(posts("old", minutes_ago=90) + posts("new", minutes_ago=5), {"c": 1}))
    await SourceRunner(ctx, source(backfill_hours=6), conn).poll_once()
    assert conn.sinces == [T0 - timedelta(hours=6)]
    async with ctx.db.read() as s:
        rows = {m.external_id: m.backfill for m in (await s.exec(select(Mention))).scalars()}
    assert rows == {"old": True, "new": False}


async def test_rate_limit_waits_until_the_reset_and_says_so(ctx, clock):
    reset = T0 + timedelta(minutes=7)
    conn = ScriptedConnector(RateLimited("Mastodon answered 429", reset), FetchResult(posts("1"), {"c": 1}))
    runner = SourceRunner(ctx, source(), conn)
    outcome = await runner.poll_once()
    assert not outcome.ok and outcome.next_poll_at == reset
    state = await state_of(ctx)
    assert "rate limited until 13:07" in state.last_error  # shown in the team's timezone (CET)
    clock.advance(minutes=6, seconds=59)
    assert (await runner.poll_once()).reason == "not due or another worker holds it"
    assert len(conn.cursors) == 1  # no request before the reset
    clock.advance(seconds=1)
    assert (await runner.poll_once()).ok


async def test_auth_failure_marks_only_that_source_unhealthy(ctx, clock):
    bad = SourceRunner(ctx, source("bad"), ScriptedConnector(AuthFailed("Mastodon token rejected (401)")))
    good = SourceRunner(ctx, source("good"), ScriptedConnector(FetchResult(posts("g1"), {"c": 1})))
    assert not (await bad.poll_once()).ok
    assert (await good.poll_once()).ok
    bad_state, good_state = await state_of(ctx, "bad"), await state_of(ctx, "good")
    assert bad_state.health == "failing" and "token rejected" in bad_state.last_error
    assert bad_state.next_poll_at == T0 + timedelta(minutes=15)
    assert good_state.health == "ok" and good_state.last_error is None
    async with ctx.db.read() as s:
        health = [(e.source, e.data["status"]) for e in
                  (await s.exec(select(Event).where(Event.type == "source.health").order_by(Event.id))).scalars()]
    assert health == [("bad", "failing"), ("good", "ok")]


async def test_temporary_failures_back_off_exponentially_with_jitter(ctx, clock):
    conn = ScriptedConnector(*(TemporaryFailure("HTTP 503") for _ in range(4)))
    runner = SourceRunner(ctx, source(), conn, rng=random.Random(7))
    waits = []
    for _ in range(4):
        outcome = await runner.poll_once()
        waits.append((outcome.next_poll_at - clock()).total_seconds())
        clock.value = outcome.next_poll_at
    for n, wait in enumerate(waits):
        assert 60 * 2 ** n * 0.5 <= wait <= 60 * 2 ** n * 1.5
    assert (await state_of(ctx)).consecutive_failures == 4


async def test_a_crash_between_fetch_and_commit_refetches_from_the_old_cursor(ctx, clock, monkeypatch):
    conn = ScriptedConnector(FetchResult(posts("1"), {"min_id": "1"}),
                             FetchResult(posts("2", "3"), {"min_id": "3"}),
                             FetchResult(posts("2", "3"), {"min_id": "3"}))
    runner = SourceRunner(ctx, source(), conn)
    await runner.poll_once()
    clock.advance(seconds=60)

    real = store.save_cursor

    async def crash(*a, **kw):
        raise RuntimeError("killed before commit")

    monkeypatch.setattr(store, "save_cursor", crash)
    assert not (await runner.poll_once()).ok
    monkeypatch.setattr(store, "save_cursor", real)
    clock.value = (await state_of(ctx)).next_poll_at
    assert (await runner.poll_once()).stored == 2
    assert conn.cursors == [None, {"min_id": "1"}, {"min_id": "1"}]
    async with ctx.db.read() as s:
        assert (await s.exec(select(func.count()).select_from(Mention))).scalar_one() == 3


async def test_two_workers_never_poll_one_source_at_once(ctx, clock):
    conn = ScriptedConnector(FetchResult(posts("1"), {"c": 1}), FetchResult(posts("2"), {"c": 2}))
    conn.gate = asyncio.Event()
    first = SourceRunner(ctx, source(), conn, owner="worker-a")
    second = SourceRunner(ctx, source(), conn, owner="worker-b")
    running = asyncio.create_task(first.poll_once())
    await asyncio.sleep(0.2)  # worker-a holds the lease and waits inside fetch
    assert (await second.poll_once()).reason == "not due or another worker holds it"
    conn.gate.set()
    assert (await running).ok and len(conn.cursors) == 1


async def test_source_down_is_raised_once_per_outage(ctx, clock):
    ctx.config = ctx.config.model_copy(update={"sources": (*ctx.config.sources, source(down_after_minutes=30))})
    runner = SourceRunner(ctx, source(down_after_minutes=30), ScriptedConnector(
        FetchResult(posts("1"), {"c": 1}), *(TemporaryFailure("HTTP 502") for _ in range(3)),
        FetchResult([], {"c": 1})))
    await runner.poll_once()
    clock.advance(minutes=20)
    await runner.poll_once()
    assert await Worker(ctx).check_sources_down() == []
    clock.advance(minutes=11)
    assert await Worker(ctx).check_sources_down() == ["masto"]
    assert await Worker(ctx).check_sources_down() == []
    clock.advance(minutes=30)
    await runner.poll_once()
    state = await state_of(ctx)
    assert state.health == "down"
    async with ctx.db.read() as s:
        downs = (await s.exec(select(func.count()).select_from(Event).where(Event.type == "source_down"))).scalar_one()
    assert downs == 1


async def test_each_poll_is_timed_and_each_failure_counted_per_source_and_kind(ctx, clock):
    name = f"masto-{uuid.uuid4().hex[:8]}"   # the process's counters outlive one test: a name of its own
    conn = ScriptedConnector(FetchResult(posts("1"), {"c": 1}), TemporaryFailure("HTTP 503"))
    runner = SourceRunner(ctx, source(name), conn, rng=random.Random(3))
    assert (await runner.poll_once()).ok
    clock.advance(seconds=60)
    assert not (await runner.poll_once()).ok
    samples = {(f.name, s.name, tuple(sorted(s.labels.items()))): s.value
               for f in text_string_to_metric_families(metrics.exposition().decode()) for s in f.samples}
    assert samples[("webcare_poll_duration_seconds", "webcare_poll_duration_seconds_count",
                    (("source", name),))] == 2
    assert samples[("webcare_poll_failures", "webcare_poll_failures_total",
                    (("kind", "unavailable"), ("source", name)))] == 1


def pages(n: int, per_page: int = 40) -> list[FetchResult]:
    """A backlog of n full pages (`more`), then an empty last page."""
    out = [FetchResult(posts(*(f"p{i}-{j}" for j in range(per_page))), {"page": i + 1}, more=True) for i in range(n)]
    return [*out, FetchResult([], {"page": n + 1})]


async def test_a_backlog_is_fetched_page_after_page_in_one_poll(ctx, clock):
    conn = ScriptedConnector(*pages(25))   # 1,000 posts: more than the old cap of 10 pages a poll
    outcome = await SourceRunner(ctx, source(), conn).poll_once()
    assert outcome.ok and outcome.stored == 1000 and len(conn.cursors) == 26
    assert outcome.next_poll_at == T0 + timedelta(seconds=60)   # drained: the interval again


async def test_a_long_backlog_ends_the_turn_due_again_at_once(ctx, clock, monkeypatch):
    monkeypatch.setattr(scheduler, "TURN_SECONDS", 0.0)   # every page ends a turn
    conn = ScriptedConnector(*pages(2))
    runner = SourceRunner(ctx, source(), conn)
    first = await runner.poll_once()
    assert first.ok and first.stored == 40 and first.next_poll_at == T0   # no waiting for the interval
    state = await state_of(ctx)
    assert state.lease_owner is None   # another worker may take the next turn
    assert (await runner.poll_once()).stored == 40


async def test_the_lease_is_renewed_while_a_poll_runs(ctx, clock, monkeypatch):
    ctx.config = ctx.config.model_copy(update={"worker": ctx.config.worker.model_copy(update={"lease_seconds": 8})})
    conn = ScriptedConnector(FetchResult(posts("slow"), {"c": 1}))
    conn.gate = asyncio.Event()
    runner = SourceRunner(ctx, source(), conn, owner="host:1:a")
    monkeypatch.setattr(runner, "lease", timedelta(seconds=0.4))   # renewed every 0.1 s
    running = asyncio.create_task(runner.poll_once())
    while not conn.cursors:   # inside fetch, holding the lease
        await asyncio.sleep(0.01)
    clock.advance(seconds=30)   # far past the first lease: only renewals keep it
    for _ in range(100):
        state = await state_of(ctx)
        if state.lease_until > clock():
            break
        await asyncio.sleep(0.05)
    assert state.lease_owner == "host:1:a" and state.lease_until > clock()
    conn.gate.set()
    assert (await running).ok


async def test_a_poll_whose_lease_was_taken_over_stops(ctx, clock, monkeypatch):
    conn = ScriptedConnector(FetchResult(posts("never"), {"c": 1}))
    conn.gate = asyncio.Event()
    runner = SourceRunner(ctx, source(), conn, owner="host:1:a")
    monkeypatch.setattr(runner, "lease", timedelta(seconds=0.4))
    running = asyncio.create_task(runner.poll_once())
    while not conn.cursors:   # inside fetch, holding the lease
        await asyncio.sleep(0.01)
    async with ctx.db.write() as s:   # another worker took it (this one could not renew in time)
        (await s.get(SourceState, "masto")).lease_owner = "host:2:b"
    outcome = await asyncio.wait_for(running, 5)
    assert outcome.reason == "lease lost" and conn.cursors == [None]
    state = await state_of(ctx)
    assert state.lease_owner == "host:2:b" and state.cursor is None   # left to the new holder
