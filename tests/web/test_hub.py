"""The event hub is woken, not polled: by a commit in its own process, and on PostgreSQL by
LISTEN/NOTIFY from other processes, over a connection made again when it is lost. Every hub
here polls once a minute, so an event that arrives within seconds came by a wake-up."""
from __future__ import annotations

import asyncio
import time

import asyncpg
import pytest

from app.accounts.principal import Principal
from app.core.db import Database
from app.core.events import NOTIFY_CHANNEL, emit
from app.core.models import User
from app.web.hub import EventHub
from app.web.listen import APPLICATION_NAME, Listener, asyncpg_dsn
from tests.support.app import POSTGRES_ONLY

pytestmark = pytest.mark.asyncio
SLOW_POLL = 60.0
WITHIN = 2.0


def viewer() -> Principal:
    return Principal(user=User(id=1, username="viewer", role="responder", password_hash="x"), via="token",
                     token_id=1)


async def write_event(db: Database, text: str) -> None:
    async with db.write() as session:
        await emit(session, "note.added", data={"text": text})


async def wait_until(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        await asyncio.sleep(0.05)


async def started_hub(db: Database) -> EventHub:
    hub = EventHub(db, poll_seconds=SLOW_POLL, fallback_seconds=SLOW_POLL)
    await hub.start()
    if not db.sqlite:
        await wait_until(lambda: hub.listening)
    return hub


async def test_a_commit_wakes_its_own_processes_hub(ctx):
    hub = await started_hub(ctx.db)
    try:
        subscription = hub.subscribe(viewer(), None)
        await write_event(ctx.db, "same process")
        event = await asyncio.wait_for(subscription.next(), WITHIN)
        assert event.type == "note.added" and event.data == {"text": "same process"}
    finally:
        await hub.stop()


@POSTGRES_ONLY
async def test_a_commit_in_another_process_wakes_the_hub_through_notify(ctx, db_url):
    hub = await started_hub(ctx.db)
    other = Database(db_url)  # its commits wake its own hooks only, as in another process
    try:
        subscription = hub.subscribe(viewer(), None)
        for n in range(3):
            await write_event(other, f"elsewhere {n}")
            event = await asyncio.wait_for(subscription.next(), WITHIN)
            assert event.data == {"text": f"elsewhere {n}"}
    finally:
        await hub.stop()
        await other.dispose()


@POSTGRES_ONLY
async def test_the_listen_connection_is_made_again_when_it_is_killed(ctx, db_url):
    hub = await started_hub(ctx.db)
    other = Database(db_url)
    admin = await asyncpg.connect(asyncpg_dsn(db_url))
    try:
        subscription = hub.subscribe(viewer(), None)
        killed = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = $1 AND datname = current_database()", APPLICATION_NAME)
        assert killed == 1
        await wait_until(lambda: not hub.listening)
        # Written while nobody listens: read as soon as the connection is back, not a minute later.
        await write_event(other, "while away")
        assert (await asyncio.wait_for(subscription.next(), 10)).data == {"text": "while away"}
        await wait_until(lambda: hub.listening)
        await write_event(other, "after")
        assert (await asyncio.wait_for(subscription.next(), WITHIN)).data == {"text": "after"}
    finally:
        await admin.close()
        await hub.stop()
        await other.dispose()


async def test_a_listener_skips_the_notifications_of_its_own_database():
    woken: list[str] = []
    listener = Listener("postgresql+asyncpg://u@127.0.0.1/db", NOTIFY_CHANNEL, lambda: woken.append("woken"),
                        own_payload="this-database")
    listener._notified(None, 1, NOTIFY_CHANNEL, "this-database")  # its commit woke the hub already
    listener._notified(None, 1, NOTIFY_CHANNEL, "another-database")
    assert woken == ["woken"]


@POSTGRES_ONLY
async def test_a_commit_notifies_in_the_name_of_its_database(ctx, db_url):
    listening = await asyncpg.connect(asyncpg_dsn(db_url))
    payloads: asyncio.Queue[str] = asyncio.Queue()
    try:
        await listening.add_listener(NOTIFY_CHANNEL, lambda *args: payloads.put_nowait(args[3]))
        await write_event(ctx.db, "named")
        assert await asyncio.wait_for(payloads.get(), WITHIN) == ctx.db.origin
    finally:
        await listening.close()
