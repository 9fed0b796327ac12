"""The event stream over a real uvicorn: live pushes, resume with Last-Event-ID, mentions
written by a separate `webcare worker` process, and on PostgreSQL a push to one web process
reaching a stream on another at once (LISTEN/NOTIFY, not the fallback poll)."""
from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from app.web.hub import FALLBACK_SECONDS
from tests.support.accounts import open_stream, serve_process
from tests.support.app import POSTGRES_ONLY, add_user, bearer
from tests.support.push import mention, push

pytestmark = pytest.mark.asyncio


async def read_events(client: httpx.AsyncClient, token: str, *, want: int, last_event_id: int | None = None,
                      timeout: float = 15.0, started: asyncio.Event | None = None,
                      types: tuple[str, ...] = ("mention.created", "mention.updated")) -> list[dict]:
    """Collect `want` SSE events (id, event, data) of the given types from /api/events."""
    headers = bearer(token)
    if last_event_id is not None:
        headers["Last-Event-ID"] = str(last_event_id)
    events: list[dict] = []
    current: dict = {}

    async def consume():
        async with client.stream("GET", "/api/events", headers=headers, timeout=timeout) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            async for line in response.aiter_lines():
                if started and not started.is_set():
                    started.set()
                if line.startswith("id: "):
                    current["id"] = int(line[4:])
                elif line.startswith("event: "):
                    current["event"] = line[7:]
                elif line.startswith("data: "):
                    current["data"] = json.loads(line[6:])
                elif line == "" and "id" in current:
                    if current.get("event") in types:
                        events.append(dict(current))
                    current.clear()
                    if len(events) >= want:
                        return

    await asyncio.wait_for(consume(), timeout)
    return events


async def test_pushed_mention_reaches_a_connected_client(live_server, ctx):
    token = await add_user(ctx, "viewer")
    async with httpx.AsyncClient(base_url=live_server) as client:
        started = asyncio.Event()
        reader = asyncio.create_task(read_events(client, token, want=1, started=started))
        await asyncio.wait_for(started.wait(), 10)
        assert (await push(client, [mention("live-1", 1)])).status_code == 202
        events = await reader
    assert events[0]["event"] == "mention.created"
    assert events[0]["data"]["external_id"] == "live-1" and events[0]["data"]["status"] == "open"
    assert isinstance(events[0]["data"]["id"], int)


async def test_reconnect_with_last_event_id_resumes_without_gaps(live_server, ctx):
    token = await add_user(ctx, "viewer")
    async with httpx.AsyncClient(base_url=live_server) as client:
        await push(client, [mention("e-1", 3)])
        first = await read_events(client, token, want=1, last_event_id=0)
        seen = first[0]["id"]
        # While disconnected: one new mention and a claim on the first one.
        await push(client, [mention("e-2", 2)])
        await client.post(f"/api/mentions/{first[0]['data']['id']}/claim", headers=bearer(token))
        resumed = await read_events(client, token, want=2, last_event_id=seen)
    assert [(e["event"], e["data"]["external_id"]) for e in resumed] == [
        ("mention.created", "e-2"), ("mention.updated", "e-1")]
    assert resumed[1]["data"]["status"] == "claimed" and resumed[0]["id"] > seen


async def test_mentions_from_a_separate_worker_process_reach_the_stream(live_server, ctx, tmp_path):
    token = await add_user(ctx, "viewer")
    config = tmp_path / "worker.toml"
    config.write_text('[[sources]]\nname = "demo"\nkind = "demo"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEBCARE_")}
    env.update(WEBCARE_DATABASE_URL=ctx.db.url, WEBCARE_CONFIG=str(config), WEBCARE_DATA_DIR=str(tmp_path),
               WEBCARE_SECRET_KEY="k" * 40)
    webcare = Path(sys.executable).parent / "webcare"
    proc = subprocess.Popen([str(webcare), "worker"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        async with httpx.AsyncClient(base_url=live_server) as client:
            events = await read_events(client, token, want=3, timeout=30)
    finally:
        proc.terminate()
        output = proc.communicate(timeout=15)[0].decode()
    assert proc.returncode in (0, -15), output
    assert [e["event"] for e in events] == ["mention.created"] * 3
    assert {e["data"]["source"] for e in events} == {"demo"}


@POSTGRES_ONLY
async def test_a_push_to_one_web_process_reaches_a_stream_on_another_well_before_the_fallback_poll(
        ctx, tmp_path, db_url):
    token = await add_user(ctx, "viewer")
    arrivals: asyncio.Queue[tuple[str, float]] = asyncio.Queue()

    async def listen(client: httpx.AsyncClient, started: asyncio.Event) -> None:
        async with client.stream("GET", "/api/events", headers=bearer(token), timeout=60) as response:
            assert response.status_code == 200
            async for line in response.aiter_lines():
                started.set()
                if line.startswith("data: ") and "external_id" in (data := json.loads(line[6:])):
                    arrivals.put_nowait((data["external_id"], time.monotonic()))

    with serve_process(tmp_path, db_url, "--no-worker", "--no-migrate") as pushed_to, \
            serve_process(tmp_path, db_url, "--no-worker", "--no-migrate") as watched:
        async with httpx.AsyncClient(base_url=pushed_to) as writer, httpx.AsyncClient(base_url=watched) as reader:
            started = asyncio.Event()
            stream = asyncio.create_task(listen(reader, started))
            try:
                await asyncio.wait_for(started.wait(), 10)
                # The first push of a process loads the language model: not what is measured.
                assert (await push(writer, [mention("warm-up")])).status_code == 202
                assert (await asyncio.wait_for(arrivals.get(), 3 * FALLBACK_SECONDS))[0] == "warm-up"
                lags = []
                for n in range(5):  # one by chance inside a fallback poll's window, five not
                    sent = time.monotonic()
                    assert (await push(writer, [mention(f"across-{n}")])).status_code == 202
                    external_id, arrived = await asyncio.wait_for(arrivals.get(), 3 * FALLBACK_SECONDS)
                    assert external_id == f"across-{n}"
                    lags.append(arrived - sent)
            finally:
                stream.cancel()
                await asyncio.gather(stream, return_exceptions=True)
    assert FALLBACK_SECONDS >= 5 and max(lags) < 2.0, lags


async def test_open_streams_hold_no_database_connection(live_server, ctx):
    token = await add_user(ctx, "viewer")
    async with httpx.AsyncClient(base_url=live_server) as client, contextlib.AsyncExitStack() as streams:
        for _ in range(5):
            await streams.enter_async_context(open_stream(client, bearer(token)))
        # At most the hub's own short read can be under way at any moment.
        assert ctx.db.engine.pool.checkedout() <= 1
        assert (await push(client, [mention("with-five-open")])).status_code == 202
        assert ctx.db.engine.pool.checkedout() <= 1
