"""The change stream: event rows written with each change, tailed by every web process.

Writers call `emit()` inside their own transaction. On PostgreSQL a transaction-scoped
advisory lock is taken first, so event ids commit in id order and a tailer reading
`id > last` can never skip a row that commits late (SQLite's BEGIN IMMEDIATE already
serialises writers). Each process runs one `EventHub` that polls for new rows and fans them
out to its SSE clients; a reconnecting browser replays from `Last-Event-ID`.
"""
from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, literal, select, text
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db import Database
from app.models import Event, Mention, UTCDateTime, utcnow

log = logging.getLogger(__name__)

EVENTS_LOCK_ID = 0x57EBE7E5
POLL_SECONDS = 0.3
REPLAY_LIMIT = 2000


@dataclass(frozen=True)
class StreamEvent:
    id: int
    type: str
    data: dict[str, Any]

    def sse(self) -> str:
        return f"id: {self.id}\nevent: {self.type}\ndata: {json.dumps(self.data, default=str)}\n\n"


def mention_event_data(mention, **extra: Any) -> dict[str, Any]:
    return {"id": mention.id, "external_id": mention.external_id, "status": mention.status,
            "channel": mention.channel, "source": mention.source,
            "claimed_by": mention.claimed_by, **extra}


async def emit(session: AsyncSession, type_: str, *, mention_id: int | None = None,
               source: str | None = None, data: dict[str, Any] | None = None) -> None:
    await emit_many(session, [(type_, mention_id, source, data or {})])


async def emit_many(session: AsyncSession, events: Iterable[tuple[str, int | None, str | None, dict]]) -> None:
    rows = [{"created_at": utcnow(), "type": t, "mention_id": m, "source": s, "data": d}
            for t, m, s, d in events]
    if not rows:
        return
    connection = await session.connection()
    await _lock_event_order(connection)
    await connection.execute(insert(Event.__table__), rows)


async def _lock_event_order(connection) -> None:
    if connection.dialect.name == "postgresql":
        await connection.execute(text(f"SELECT pg_advisory_xact_lock({EVENTS_LOCK_ID})"))


async def emit_mentions_created(session: AsyncSession, mention_ids: list[int]) -> None:
    """`mention.created` for freshly inserted inbound mentions, as one INSERT ... SELECT.

    Ingest is the hot path: building the event rows in the database costs one statement per
    batch instead of one parameter set per mention (see bench/ingest.py)."""
    if not mention_ids:
        return
    connection = await session.connection()
    m = Mention.__table__
    json_object = func.json_build_object if connection.dialect.name == "postgresql" else func.json_object
    data = json_object("id", m.c.id, "external_id", m.c.external_id, "status", m.c.status,
                       "channel", m.c.channel, "source", m.c.source)
    rows = (select(literal(utcnow(), UTCDateTime()), literal("mention.created"), m.c.id, m.c.source, data)
            .where(m.c.id.in_(mention_ids), m.c.direction == "inbound").order_by(m.c.id))
    await _lock_event_order(connection)
    await connection.execute(insert(Event.__table__).from_select(
        ["created_at", "type", "mention_id", "source", "data"], rows))


def _to_stream(row: Event) -> StreamEvent:
    return StreamEvent(id=row.id, type=row.type, data=row.data)


async def events_after(db: Database, last_id: int, limit: int = REPLAY_LIMIT) -> list[StreamEvent]:
    async with db.read() as session:
        rows = await session.exec(select(Event).where(Event.id > last_id).order_by(Event.id).limit(limit))
        return [_to_stream(r) for r in rows.scalars()]


async def latest_event_id(db: Database) -> int:
    async with db.read() as session:
        return (await session.exec(select(func.coalesce(func.max(Event.id), 0)))).scalar_one()


class EventHub:
    """One per process: tails the events table and hands new rows to every subscriber."""

    def __init__(self, db: Database, poll_seconds: float = POLL_SECONDS):
        self.db = db
        self.poll_seconds = poll_seconds
        self.last_id = 0
        self._subscribers: set[asyncio.Queue[StreamEvent | None]] = set()
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        self.last_id = await latest_event_id(self.db)
        self._task = asyncio.create_task(self._tail(), name="event-hub")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        for queue in list(self._subscribers):
            queue.put_nowait(None)

    async def _tail(self) -> None:
        while True:
            try:
                for event in await events_after(self.db, self.last_id, limit=500):
                    self.last_id = event.id
                    self._publish(event)
            except asyncio.CancelledError:
                raise
            except Exception:  # the database may be briefly away; keep tailing
                log.exception("event tailer failed; retrying")
            await asyncio.sleep(self.poll_seconds)

    def _publish(self, event: StreamEvent) -> None:
        for queue in list(self._subscribers):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                # A client this far behind reconnects and replays from Last-Event-ID.
                self._subscribers.discard(queue)
                while not queue.empty():
                    queue.get_nowait()
                queue.put_nowait(None)

    def subscribe(self, last_event_id: int | None) -> "Subscription":
        """Events after `last_event_id` (None: only new ones); close() when done."""
        queue: asyncio.Queue[StreamEvent | None] = asyncio.Queue(maxsize=5000)
        self._subscribers.add(queue)  # before the replay query, so nothing falls in between
        return Subscription(self, queue, self.last_id if last_event_id is None else last_event_id,
                            replay=last_event_id is not None)


class Subscription:
    def __init__(self, hub: EventHub, queue: asyncio.Queue, after: int, replay: bool):
        self._hub, self._queue, self.sent, self._replay = hub, queue, after, replay

    async def backlog(self) -> list[StreamEvent]:
        """What happened since the client's Last-Event-ID, read from the table."""
        if not self._replay:
            return []
        events = await events_after(self._hub.db, self.sent)
        if events:
            self.sent = events[-1].id
        return events

    async def next(self) -> StreamEvent | None:
        """The next new event; None when the hub closed this subscription (client must reconnect)."""
        while True:
            event = await self._queue.get()
            if event is None or event.id > self.sent:
                if event is not None:
                    self.sent = event.id
                return event

    def close(self) -> None:
        self._hub._subscribers.discard(self._queue)
