"""Edits and deletions reach the queue: a source's poll looks waiting posts up again.

End to end against fake Mastodon and Bluesky servers speaking the real protocols, and against
a scripted connector for the turn-taking, the window and rate limits."""
from __future__ import annotations

import random
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import select, update

from app.core.config import SourceConfig
from app.core.models import Event, Mention, SourceState
from app.intake.recheck import RECHECK_INTERVAL, RECHECK_WINDOW
from app.intake.scheduler import SourceRunner
from app.intake.store import ingest_batch
from app.mentions.queries import QueueFilters, list_queue
from connectors.base import Capabilities, FetchResult, NewMention, RateLimited
from connectors.registry import build_connector
from tests.support.app import Clock
from tests.support.connectors.conformance import serve
from tests.support.connectors.fake_bluesky import APP_PASSWORD, IDENTIFIER, QUERY, FakeBluesky
from tests.support.connectors.fake_mastodon import TAG, FakeMastodon

pytestmark = pytest.mark.asyncio


@pytest.fixture
def clock(ctx) -> Clock:
    ctx.clock = Clock(datetime.now(UTC).replace(microsecond=0))
    return ctx.clock


@pytest_asyncio.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


@dataclass
class Channel:
    fake: Any
    source: SourceConfig


async def mastodon(monkeypatch) -> tuple[Any, Callable[[str], SourceConfig]]:
    return FakeMastodon(), lambda url: SourceConfig(name="masto", kind="mastodon", base_url=url, hashtags=[TAG])


async def bluesky(monkeypatch) -> tuple[Any, Callable[[str], SourceConfig]]:
    monkeypatch.setenv("TEST_BSKY_PASSWORD", APP_PASSWORD)
    return FakeBluesky(), lambda url: SourceConfig(name="bsky", kind="bluesky", base_url=url, identifier=IDENTIFIER,
                                                   app_password_env="TEST_BSKY_PASSWORD", query=QUERY)


@pytest_asyncio.fixture(params=[mastodon, bluesky], ids=["mastodon", "bluesky"])
async def channel(request, monkeypatch) -> AsyncIterator[Channel]:
    fake, make_source = await request.param(monkeypatch)
    async with serve(fake.app()) as url:
        fake.base_url = url
        yield Channel(fake, make_source(url))


async def queue_texts(ctx) -> dict[str, str]:
    async with ctx.db.read() as session:
        page = await list_queue(session, QueueFilters(), ctx.now(), ctx.policy, limit=100)
    return {item["external_id"]: item["text"] for item in page["items"]}


async def updates(ctx) -> list[tuple[str, bool]]:
    async with ctx.db.read() as session:
        events = (await session.exec(select(Event).where(Event.type == "mention.updated").order_by(Event.id))).scalars()
        return [(e.data["external_id"], e.data.get("removed")) for e in events]


async def test_a_deleted_post_leaves_the_queue_and_an_edited_one_shows_its_new_text(ctx, clock, http, channel):
    fake = channel.fake
    runner = SourceRunner(ctx, channel.source, build_connector(channel.source.connector_settings(), http))
    gone, edited, kept = fake.add_posts(3)
    assert (await runner.poll_once()).stored == 3
    assert set(await queue_texts(ctx)) == {gone, edited, kept}

    fake.delete(gone)
    fake.edit(edited, "Laat maar, het pakket is er!")
    clock.advance(seconds=channel.source.interval_seconds)
    assert (await runner.poll_once()).ok
    assert len(await queue_texts(ctx)) == 3  # polled, but the re-check waits for its turn

    clock.advance(seconds=RECHECK_INTERVAL.total_seconds())
    assert (await runner.poll_once()).ok
    queued = await queue_texts(ctx)
    assert set(queued) == {edited, kept}
    assert queued[edited] == "Laat maar, het pakket is er!"
    async with ctx.db.read() as session:
        row = (await session.exec(select(Mention).where(Mention.external_id == gone))).scalar_one()
        changed = (await session.exec(select(Mention).where(Mention.external_id == edited))).scalar_one()
    assert row.removed and row.status == "open"  # kept, marked removed, not dismissed by anyone
    if isinstance(fake, FakeBluesky):  # a reply must reference the version the customer sees now
        assert changed.raw["cid"] == fake.posts[edited]["cid"]
    assert sorted(await updates(ctx)) == sorted([(gone, True), (edited, False)])

    clock.advance(seconds=RECHECK_INTERVAL.total_seconds())
    assert (await runner.poll_once()).ok
    assert len(await updates(ctx)) == 2  # nothing changed since: no new events


# --- the turn, the window, the limits (a scripted connector) -------------------------------------

class Recheckable:
    """Fetches nothing new; `verify` records what it was asked and plays back its script."""

    kind = "mastodon"
    capabilities = Capabilities(can_reply=False, text_limit=500, verify_batch=2)

    def __init__(self, *script):
        self.script = list(script)
        self.asked: list[list[str]] = []
        self.fetches = 0

    async def fetch(self, cursor, *, since=None):
        self.fetches += 1
        return FetchResult([], {"c": 1})

    async def verify(self, posts):
        self.asked.append([p.external_id for p in posts])
        step = self.script.pop(0) if self.script else []
        if isinstance(step, Exception):
            raise step
        return step

    async def reply(self, request):
        raise NotImplementedError


def source() -> SourceConfig:
    return SourceConfig(name="masto", kind="mastodon", interval_seconds=60, hashtags=["acme"])


async def store(ctx, *posts: tuple[str, timedelta]) -> None:
    batch = [NewMention(external_id=i, posted_at=ctx.now() - age, author="klant", text=f"vraag {i}")
             for i, age in posts]
    await ingest_batch(ctx.db, ctx.source_ref(source()), batch, ctx.ingest_context(source()), now=ctx.now())


async def poll_after(runner: SourceRunner, clock: Clock, delta: timedelta) -> None:
    clock.advance(seconds=delta.total_seconds())
    async with runner.ctx.db.write() as session:  # due now, whatever the last outcome said
        await session.execute(update(SourceState).values(next_poll_at=None))
    await runner.poll_once()


async def test_waiting_posts_are_checked_in_turns_within_the_window(ctx, clock):
    await store(ctx, ("a", timedelta(hours=1)), ("b", timedelta(hours=2)), ("old", RECHECK_WINDOW + timedelta(hours=1)),
                ("c", timedelta(hours=3)), ("done", timedelta(hours=1)))
    async with ctx.db.write() as session:
        await session.execute(update(Mention).where(Mention.external_id == "done").values(status="answered"))
    conn = Recheckable()
    runner = SourceRunner(ctx, source(), conn, rng=random.Random(1))
    await runner.poll_once()
    for _ in range(3):
        await poll_after(runner, clock, RECHECK_INTERVAL)
    assert conn.asked == [["a", "b"], ["c", "a"], ["b", "c"], ["a", "b"]]


async def test_a_rate_limited_recheck_waits_for_the_reset_like_a_fetch(ctx, clock):
    await store(ctx, ("a", timedelta(hours=1)))
    reset = clock() + timedelta(minutes=7)
    conn = Recheckable(RateLimited("Mastodon rate limit reached (429)", reset))
    runner = SourceRunner(ctx, source(), conn)
    outcome = await runner.poll_once()
    assert not outcome.ok and outcome.next_poll_at == reset
    async with ctx.db.read() as session:
        state = await session.get(SourceState, "masto")
    assert "rate limited until" in state.last_error and state.consecutive_failures == 0
    clock.advance(minutes=6)
    assert (await runner.poll_once()).reason == "not due or another worker holds it"
    assert (conn.fetches, len(conn.asked)) == (1, 1)  # no request before the reset
    clock.advance(minutes=1)
    assert (await runner.poll_once()).ok and len(conn.asked) == 2


async def test_changes_for_posts_not_asked_about_are_ignored(ctx, clock):
    await store(ctx, ("a", timedelta(hours=1)), ("b", timedelta(hours=1)))
    async with ctx.db.write() as session:  # another source's post with the same channel
        await session.execute(update(Mention).where(Mention.external_id == "b").values(source="other"))
    stray = NewMention(external_id="b", posted_at=ctx.now(), author="klant", deleted=True, text="")
    runner = SourceRunner(ctx, source(), Recheckable([stray]))
    assert (await runner.poll_once()).ok
    async with ctx.db.read() as session:
        assert not (await session.exec(select(Mention).where(Mention.external_id == "b"))).scalar_one().removed


async def test_workers_taking_turns_at_the_lease_share_one_rotation(ctx, clock):
    """Two worker processes polling one source in turn re-check once per interval between
    them, each going on where the other stopped."""
    await store(ctx, ("a", timedelta(hours=1)), ("b", timedelta(hours=2)), ("c", timedelta(hours=3)))
    conn = Recheckable()
    first = SourceRunner(ctx, source(), conn, owner="worker-1")
    second = SourceRunner(ctx, source(), conn, owner="worker-2")
    await first.poll_once()
    half = RECHECK_INTERVAL / 2
    for runner in (second, second, first, first):
        await poll_after(runner, clock, half)
    assert conn.fetches == 5
    assert conn.asked == [["a", "b"], ["c", "a"], ["b", "c"]]
