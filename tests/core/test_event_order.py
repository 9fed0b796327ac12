"""Event rows are written as a transaction's last statements: in the order they were emitted,
never for a rollback, and on PostgreSQL under the event-order lock only from there to COMMIT,
so an open change does not hold up other writers and a tailer reading `id > last` skips
nothing."""
from __future__ import annotations

import asyncio

import pytest

from app.core.db import Database
from app.core.events import emit, emit_many, events_after, latest_event_id

pytestmark = pytest.mark.asyncio
ONLY_POSTGRES = pytest.mark.parametrize("db_url", [pytest.param("postgres", marks=pytest.mark.postgres)],
                                        indirect=True)


async def note(db: Database, text: str) -> None:
    async with db.write() as session:
        await emit(session, "note.added", data={"text": text})


async def test_a_transactions_events_are_written_at_commit_in_the_order_emitted(ctx):
    start = await latest_event_id(ctx.db)
    async with ctx.db.write() as session:
        await emit(session, "note.added", data={"text": "first"})
        await emit_many(session, [("note.added", None, None, {"text": "second"}),
                                  ("note.added", None, None, {"text": "third"})])
        assert await events_after(ctx.db, start) == []  # nothing before the commit
    events = await events_after(ctx.db, start)
    assert [e.data["text"] for e in events] == ["first", "second", "third"]
    assert [e.id for e in events] == sorted(e.id for e in events)


async def test_a_rolled_back_transaction_writes_no_events(ctx):
    start = await latest_event_id(ctx.db)
    async def failing_change() -> None:
        async with ctx.db.write() as session:
            await emit(session, "note.added", data={"text": "never"})
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        await failing_change()
    async with ctx.db._write() as session:  # one session: a rollback, then a commit
        await emit(session, "note.added", data={"text": "rolled back"})
        await session.rollback()
        await emit(session, "note.added", data={"text": "kept"})
        await session.commit()
    assert [e.data["text"] for e in await events_after(ctx.db, start)] == ["kept"]


@ONLY_POSTGRES
async def test_an_open_change_does_not_hold_up_another_writers_events(ctx, db_url):
    start = await latest_event_id(ctx.db)
    other = Database(db_url)
    try:
        async with ctx.db.write() as session:
            await emit(session, "note.added", data={"text": "slow"})
            # Before, the lock was taken here and held until this block ended: a deadlock.
            await asyncio.wait_for(note(other, "quick"), 5)
            assert [e.data["text"] for e in await events_after(ctx.db, start)] == ["quick"]
        events = await events_after(ctx.db, start)
        assert [e.data["text"] for e in events] == ["quick", "slow"]
    finally:
        await other.dispose()


@ONLY_POSTGRES
async def test_a_tailer_reading_id_after_last_skips_nothing_under_concurrent_writers(ctx, db_url):
    start = await latest_event_id(ctx.db)
    writers = [Database(db_url) for _ in range(4)]
    seen: list[int] = []
    done = asyncio.Event()

    async def write_many(db: Database, n: int) -> None:
        for i in range(40):
            await note(db, f"{n}-{i}")

    async def tail() -> None:
        last = start
        while not done.is_set() or (await latest_event_id(ctx.db)) > last:
            for event in await events_after(ctx.db, last):
                seen.append(event.id)
                last = event.id
            await asyncio.sleep(0)

    try:
        tailer = asyncio.create_task(tail())
        await asyncio.gather(*(write_many(db, n) for n, db in enumerate(writers)))
        done.set()
        await asyncio.wait_for(tailer, 30)
    finally:
        for db in writers:
            await db.dispose()
    everything = [e.id for e in await events_after(ctx.db, start)]
    assert len(everything) == 160 and seen == everything
