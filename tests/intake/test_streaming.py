"""A streaming Mastodon source run by the worker's runners against a fake Mastodon streaming
over server-sent events and WebSocket (tests/support/connectors/fake_mastodon_stream.py), on
both databases: posts arrive live, disconnects, a heartbeat gap and a server restart lose
nothing (the REST catch-up after each reconnect reads the gap) and store nothing twice, edits
and deletions apply at once, and polling slows to a safety net while the stream is live."""
from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
import pytest_asyncio
import uvicorn
from sqlalchemy import func, select

from app.core.config import SourceConfig
from app.core.models import Event, Mention, SourceState
from app.intake import streamer
from app.intake.health import health_view, stream_is_live
from app.intake.scheduler import SourceRunner
from app.intake.streamer import StreamRunner
from app.intake.worker import Worker
from connectors.mastodon import MastodonConnector
from connectors.streaming import StreamSettings
from tests.support.app import free_port
from tests.support.connectors.fake_mastodon import TAG, TOKEN
from tests.support.connectors.fake_mastodon_stream import FakeMastodonStreaming

pytestmark = pytest.mark.asyncio
QUICK = StreamSettings(idle_seconds=1.0, batch_seconds=0.05)


class RestartableServer:
    """The fake in a real uvicorn on a fixed port, so it can be stopped and started again."""

    def __init__(self, fake: FakeMastodonStreaming):
        self.fake, self.port = fake, free_port()
        self.server: uvicorn.Server | None = None
        self.task: asyncio.Task | None = None
        fake.base_url = f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self.server = uvicorn.Server(uvicorn.Config(self.fake.app(), host="127.0.0.1", port=self.port,
                                                    log_level="critical", lifespan="off",
                                                    timeout_graceful_shutdown=1))
        self.task = asyncio.create_task(self.server.serve())
        while not self.server.started:
            if self.task.done():
                self.task.result()
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        self.fake.drop_streams()
        self.server.should_exit = True
        await asyncio.wait_for(self.task, 15)


@pytest_asyncio.fixture
async def server() -> AsyncIterator[RestartableServer]:
    handle = RestartableServer(FakeMastodonStreaming())
    await handle.start()
    yield handle
    with contextlib.suppress(Exception):
        await handle.stop()


@pytest.fixture(params=["sse", "websocket"])
def transport(request) -> str:
    return request.param


@pytest.fixture(autouse=True)
def quick_reconnects(monkeypatch) -> None:
    monkeypatch.setattr(streamer, "RECONNECT_BASE_SECONDS", 0.1)
    monkeypatch.setattr(streamer, "RENEW_SECONDS", 0.5)


class Running:
    """A source's poller and streamer, as the worker runs them."""

    def __init__(self, ctx, source: SourceConfig):
        self.source = source
        connector = MastodonConnector(source.connector_settings(ctx.config.brand.own_accounts), ctx.http(),
                                      stream_settings=QUICK)
        self.poller = SourceRunner(ctx, source, connector, rng=random.Random(1))
        self.streamer = StreamRunner(ctx, source, connector, self.poller, rng=random.Random(2))
        self.tasks = [asyncio.create_task(self.poller.run()), asyncio.create_task(self.streamer.run())]

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


@contextlib.asynccontextmanager
async def started(ctx, server, transport) -> AsyncIterator[Running]:
    source = SourceConfig(name="masto", kind="mastodon", base_url=server.fake.base_url, hashtags=[TAG],
                          notifications=True, token_env="MASTO_TOKEN", stream=True, stream_transport=transport,
                          interval_seconds=3600)
    run = Running(ctx, source)
    try:
        yield run
    finally:
        await run.stop()


@pytest.fixture(autouse=True)
def token(monkeypatch) -> None:
    monkeypatch.setenv("MASTO_TOKEN", TOKEN)


@pytest_asyncio.fixture
async def running(ctx, server, transport) -> AsyncIterator[Running]:
    async with started(ctx, server, transport) as run:
        yield run


async def stored(ctx, source: str = "masto") -> dict[str, Mention]:
    async with ctx.db.read() as session:
        rows = (await session.exec(select(Mention).where(Mention.source == source))).scalars().all()
    return {row.external_id: row for row in rows}


async def until(predicate, timeout: float = 20.0) -> None:
    async def wait() -> None:
        while not await predicate():
            await asyncio.sleep(0.05)
    await asyncio.wait_for(wait(), timeout)


async def holds(ctx, *uris: str, source: str = "masto") -> None:
    async def all_there() -> bool:
        return set(uris) <= set(await stored(ctx, source))
    await until(all_there)


async def created_events(ctx) -> int:
    async with ctx.db.read() as session:
        return (await session.execute(select(func.count()).select_from(Event)
                                      .where(Event.type == "mention.created"))).scalar_one()


async def connected(streaming: StreamRunner, times: int) -> None:
    async def enough() -> bool:
        return streaming.connects >= times
    await until(enough)


async def test_a_gap_while_disconnected_is_filled_from_rest_and_nothing_arrives_twice(ctx, server, running):
    fake = server.fake
    before = fake.add_posts(1)[0]  # posted before anyone listened: the first catch-up reads it
    await connected(running.streamer, 1)
    await holds(ctx, before)
    await fake.wait_for_listeners(1)
    await asyncio.sleep(0.3)  # the WebSocket's second stream is subscribed by a message
    live = fake.add_posts(1)[0]
    await holds(ctx, live)

    fake.refuse_streams = True  # a cut mid-stream, and nobody may listen for a while
    fake.drop_streams()
    await asyncio.sleep(0.3)
    gap = fake.add_posts(1)[0]
    gap_mention = fake.mention_brand(fake.customers[2], "Mijn factuur klopt niet")["uri"]
    fake.refuse_streams = False
    await connected(running.streamer, 2)
    await holds(ctx, gap, gap_mention)

    await fake.wait_for_listeners(1)
    await asyncio.sleep(0.3)
    fake.edit(live, "Pakket is er toch")
    fake.delete(before)

    async def edited_and_removed() -> bool:
        rows = await stored(ctx)
        return rows[live].edited_at is not None and rows[before].removed
    await until(edited_and_removed)
    rows = await stored(ctx)
    assert "Pakket is er toch" in rows[live].text
    assert len(rows) == 4 and await created_events(ctx) == 4  # each post stored and announced once
    async with ctx.db.read() as session:
        state = await session.get(SourceState, "masto")
    assert state.stream_seen_at is not None and state.health == "ok" and state.stream_error is None


async def test_a_heartbeat_gap_reconnects_and_reads_what_the_silence_hid(ctx, server):
    """Server-sent events only: Mastodon's WebSocket sends no heartbeat messages (pings watch
    the line there, answered by the WebSocket library itself)."""
    fake = server.fake
    fake.heartbeat_seconds = 0.2
    async with started(ctx, server, "sse") as running:
        await connected(running.streamer, 1)
        fake.silent = True  # the line stays open but nothing comes through, not even :thump
        hidden = fake.add_posts(1)[0]
        await asyncio.sleep(1.5)  # longer than the stream's idle limit (1 s)
        fake.silent = False
        await connected(running.streamer, 2)
        await holds(ctx, hidden)
    async with ctx.db.read() as session:
        assert (await session.get(SourceState, "masto")).stream_error is None  # cleared on reconnect


async def test_a_server_restart_loses_nothing(ctx, server, running):
    fake = server.fake
    await connected(running.streamer, 1)
    await fake.wait_for_listeners(1)
    await asyncio.sleep(0.3)
    first = fake.add_posts(1)[0]
    await holds(ctx, first)
    await server.stop()
    during = fake.add_posts(1)[0]  # the server keeps its data across the restart
    await asyncio.sleep(0.5)
    async with ctx.db.read() as session:
        assert (await session.get(SourceState, "masto")).stream_error  # the break is visible meanwhile
    await server.start()
    await connected(running.streamer, 2)
    await holds(ctx, during)
    await fake.wait_for_listeners(1)
    await asyncio.sleep(0.3)
    after = fake.add_posts(1)[0]
    await holds(ctx, after)
    assert len(await stored(ctx)) == 3 and await created_events(ctx) == 3


async def test_polling_is_a_safety_net_while_the_stream_is_live(ctx, server, running):
    await connected(running.streamer, 1)

    async def polled() -> bool:
        async with ctx.db.read() as session:
            state = await session.get(SourceState, "masto")
        return state is not None and state.last_success_at is not None and state.next_poll_at is not None
    await until(polled)
    await asyncio.sleep(0.6)  # the stream renewed its lease: it is live
    assert (await running.poller.catch_up()).ok
    async with ctx.db.read() as session:
        state = await session.get(SourceState, "masto")
    wait = state.next_poll_at - ctx.now()
    assert timedelta(seconds=500) < wait <= timedelta(seconds=600)  # stream_poll_seconds, not 3600
    assert health_view(running.source, state, ctx.now())["stream"] == "live"
    await running.stop()
    async with ctx.db.read() as session:
        state = await session.get(SourceState, "masto")
    assert health_view(running.source, state, ctx.now())["stream"] == "reconnecting"  # released on stop


async def test_the_worker_holds_the_stream_of_a_source_that_streams(ctx, server, transport):
    source = SourceConfig(name="masto", kind="mastodon", base_url=server.fake.base_url, hashtags=[TAG],
                          token_env="MASTO_TOKEN", stream=True, stream_transport=transport, interval_seconds=3600)
    job = asyncio.create_task(Worker(ctx)._poll(source))
    try:
        async def live() -> bool:
            async with ctx.db.read() as session:
                state = await session.get(SourceState, "masto")
            return stream_is_live(state, ctx.now()) and state.last_success_at is not None
        await until(live)
        await server.fake.wait_for_listeners(1)
        post = server.fake.add_posts(1)[0]  # the next poll is an hour away: only the stream brings it
        await holds(ctx, post)
    finally:
        job.cancel()
        await asyncio.gather(job, return_exceptions=True)


# --- a stream that replays from its cursor: Jetstream ----------------------------------------------

async def test_jetstream_held_open_replays_a_cut_from_its_cursor_and_is_not_polled_while_live(ctx):
    from connectors.jetstream import JetstreamConnector
    from tests.support.connectors.fake_jetstream import BRAND_DID, QUERY, FakeJetstream
    from tests.support.connectors.fake_jetstream import running as jetstream_running

    async with jetstream_running(FakeJetstream()) as fake:
        source = SourceConfig(name="firehose", kind="jetstream", base_url=fake.base_url, query=QUERY, stream=True)
        connector = JetstreamConnector(source.connector_settings((BRAND_DID,)), ctx.http(), stream_settings=QUICK)
        poller = SourceRunner(ctx, source, connector, rng=random.Random(1))
        runner = StreamRunner(ctx, source, connector, poller, rng=random.Random(2))
        task = asyncio.create_task(runner.run())
        try:
            first = fake.create("did:plc:klant1", "acme: waar is mijn pakket")
            await connected(runner, 1)
            await holds(ctx, first["uri"], source="firehose")
            fake.drop_after = 1  # the live stream is cut after its next frame …
            cut = fake.create("did:plc:klant2", "acme 2")
            missed = fake.create("did:plc:klant3", "acme 3")  # … so this one was never sent
            await connected(runner, 2)
            await holds(ctx, cut["uri"], missed["uri"], source="firehose")  # replayed from the cursor
            fake.update(first, "acme: pakket gevonden")
            fake.delete(cut)

            async def applied() -> bool:
                rows = await stored(ctx, "firehose")
                return rows[first["uri"]].edited_at is not None and rows[cut["uri"]].removed
            await until(applied)
            assert await created_events(ctx) == 3

            connections = len(fake.requests)
            async with ctx.db.write() as session:  # due now: a poll would open a connection
                (await session.get(SourceState, "firehose")).next_poll_at = ctx.now()
            outcome = await poller.poll_once()
            assert outcome.ok and outcome.stored == 0 and len(fake.requests) == connections
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

