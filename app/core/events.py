"""The change stream: event rows written with each change, tailed by every web process.

Writers call `emit()` inside their own transaction. The rows are not written there: they
wait in the session and are written as the transaction's very last statements, right before
COMMIT (`_write_pending`, a `before_commit` hook). On PostgreSQL those statements take a
transaction-scoped advisory lock first, so event ids commit in id order and a tailer reading
`id > last` can never skip a row that commits late; because the lock is taken only then, it is
held for one INSERT and the COMMIT, not for the whole change (at 50 pushes a second, writers
holding it through their transactions queued behind each other for minutes). SQLite's
BEGIN IMMEDIATE already serialises writers. Each web process tails the rows
(app/web/hub.py) and fans them out to its SSE clients; a reconnecting browser replays from
`Last-Event-ID`.

Tailers do not wait for a poll: the commit wakes the writer's own process (app/core/db.py),
and on PostgreSQL a `NOTIFY` sent in the same transaction (delivered at commit, never for a
rollback) wakes every other process that LISTENs (app/web/listen.py). The rows stay the truth:
a notification carries nothing but "look again".
"""
from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import func, insert, literal
from sqlalchemy.orm import Session, SessionTransaction
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.db import EVENTS_WRITTEN, ORIGIN, Database
from app.core.models import Event, Mention, UTCDateTime, utcnow

EVENTS_LOCK_ID = 0x57EBE7E5
REPLAY_LIMIT = 2000
NOTIFY_CHANNEL = "webcare_events"
# A transaction's events, kept in its session until commit.
PENDING_EVENTS = "webcare_pending_events"
EVENT_COLUMNS = ["created_at", "type", "mention_id", "source", "data"]


def _order_lock(origin: str) -> sa.Select:
    """The event-order lock with the wake-up of every other process: the NOTIFY is delivered
    at commit (never for a rollback), and PostgreSQL folds a transaction's repeats into one. Its
    payload names the writing Database, whose own hub its commit wakes directly (app/core/db.py)."""
    return sa.select(sa.literal_column(f"pg_advisory_xact_lock({EVENTS_LOCK_ID})").label("locked"),
                     sa.func.pg_notify(NOTIFY_CHANNEL, origin).label("notified"))


@dataclass(frozen=True)
class StreamEvent:
    id: int
    type: str
    data: dict[str, Any]

    def sse(self) -> str:
        return self._sse

    @functools.cached_property
    def _sse(self) -> str:
        # Once per event, not once per stream: a process fans each event out to all its clients.
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
    if rows:
        await session.connection()  # in a transaction, so a rollback drops them (_drop_pending)
        _pending(session).append(rows)


async def emit_mentions_created(session: AsyncSession, mention_ids: list[int]) -> None:
    """`mention.created` for freshly inserted inbound mentions, as one INSERT ... SELECT.

    Ingest is the hot path: building the event rows in the database costs one statement per
    batch instead of one parameter set per mention (see bench/ingest.py). The SELECT runs at
    commit, so the data is the mention as the transaction leaves it."""
    if not mention_ids:
        return
    connection = await session.connection()
    json_object = func.json_build_object if connection.dialect.name == "postgresql" else func.json_object
    mention_id, source = col(Mention.id), col(Mention.source)
    data = json_object("id", mention_id, "external_id", Mention.external_id, "status", Mention.status,
                       "channel", Mention.channel, "source", source)
    # Five columns: sqlalchemy's select (sqlmodel's types at most four).
    rows = (sa.select(literal(utcnow(), UTCDateTime()), literal("mention.created"), mention_id, source, data)
            .where(mention_id.in_(mention_ids), col(Mention.direction) == "inbound").order_by(mention_id))
    _pending(session).append(rows)


def _pending(session: AsyncSession) -> list[list[dict] | sa.Select]:
    """The transaction's events, in the order they were emitted: rows, or a SELECT of them."""
    session.info[EVENTS_WRITTEN] = True  # the process's own hub is woken at commit (app/core/db.py)
    return session.info.setdefault(PENDING_EVENTS, [])


@sa.event.listens_for(Session, "before_commit")
def _write_pending(session: Session) -> None:
    """Write the transaction's events as its last statements, so that on PostgreSQL the
    event-order lock is held only from here to COMMIT. Runs inside AsyncSession.commit's
    greenlet, so the synchronous calls here are the async driver's, awaited."""
    if session.in_nested_transaction():  # a savepoint: the events wait for the real commit
        return
    pending = session.info.pop(PENDING_EVENTS, None)
    if not pending:
        return
    session.flush()  # the change's own rows first, outside the lock window
    connection = session.connection()
    locked = connection.dialect.name != "postgresql"  # SQLite: BEGIN IMMEDIATE serialises writers
    order_lock = _order_lock(session.info.get(ORIGIN, ""))
    for n, events in enumerate(pending):
        if isinstance(events, list):
            if not locked:
                connection.execute(order_lock)
                locked = True
            connection.execute(insert(Event), events)
            continue
        if not locked and n < len(pending) - 1:
            connection.execute(order_lock)
            locked = True
        if not locked:
            # The last INSERT takes the lock itself: held then for one round trip less (on a
            # busy event loop, each is milliseconds). Its rows, and so their ids, follow the
            # lock; a SELECT finding no rows may skip it, but then nothing is written.
            events = events.join(order_lock.subquery("event_order"), sa.true())
        connection.execute(insert(Event).from_select(EVENT_COLUMNS, events))


@sa.event.listens_for(Session, "after_transaction_end")
def _drop_pending(session: Session, transaction: SessionTransaction) -> None:
    """Events of a rolled-back transaction are never written, nor left for the next one."""
    if transaction.parent is None:
        session.info.pop(PENDING_EVENTS, None)


def _to_stream(row: Event) -> StreamEvent:
    assert row.id is not None  # a stored row
    return StreamEvent(id=row.id, type=row.type, data=row.data)


async def events_after(db: Database, last_id: int, limit: int = REPLAY_LIMIT) -> list[StreamEvent]:
    async with db.quick_read() as session:
        event_id = col(Event.id)
        rows = await session.exec(select(Event).where(event_id > last_id).order_by(event_id).limit(limit))
        return [_to_stream(r) for r in rows]


async def latest_event_id(db: Database) -> int:
    async with db.quick_read() as session:
        return (await session.exec(select(func.coalesce(func.max(Event.id), 0)))).one() or 0
