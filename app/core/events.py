"""The change stream: event rows written with each change, tailed by every web process.

Writers call `emit()` inside their own transaction. On PostgreSQL a transaction-scoped
advisory lock is taken first, so event ids commit in id order and a tailer reading
`id > last` can never skip a row that commits late (SQLite's BEGIN IMMEDIATE already
serialises writers). Each web process tails the rows (app/web/hub.py) and fans them out to
its SSE clients; a reconnecting browser replays from `Last-Event-ID`.

Tailers do not wait for a poll: the commit wakes the writer's own process (app/core/db.py),
and on PostgreSQL a `NOTIFY` sent in the same transaction (delivered at commit, never for a
rollback) wakes every other process that LISTENs (app/web/listen.py). The rows stay the truth:
a notification carries nothing but "look again".
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import func, insert, literal, text
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.db import EVENTS_WRITTEN, Database
from app.core.models import Event, Mention, UTCDateTime, utcnow

EVENTS_LOCK_ID = 0x57EBE7E5
REPLAY_LIMIT = 2000
NOTIFY_CHANNEL = "webcare_events"


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
    await _before_event_rows(session, connection)
    await connection.execute(insert(Event), rows)


async def _before_event_rows(session: AsyncSession, connection) -> None:
    """Order the rows (PostgreSQL) and have every tailer woken when they commit."""
    session.info[EVENTS_WRITTEN] = True
    if connection.dialect.name == "postgresql":
        # One round trip; PostgreSQL folds repeated notifications of a transaction into one.
        await connection.execute(text(f"SELECT pg_advisory_xact_lock({EVENTS_LOCK_ID}), "
                                      f"pg_notify('{NOTIFY_CHANNEL}', '')"))


async def emit_mentions_created(session: AsyncSession, mention_ids: list[int]) -> None:
    """`mention.created` for freshly inserted inbound mentions, as one INSERT ... SELECT.

    Ingest is the hot path: building the event rows in the database costs one statement per
    batch instead of one parameter set per mention (see bench/ingest.py)."""
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
    await _before_event_rows(session, connection)
    await connection.execute(insert(Event).from_select(
        ["created_at", "type", "mention_id", "source", "data"], rows))


def _to_stream(row: Event) -> StreamEvent:
    assert row.id is not None  # a stored row
    return StreamEvent(id=row.id, type=row.type, data=row.data)


async def events_after(db: Database, last_id: int, limit: int = REPLAY_LIMIT) -> list[StreamEvent]:
    async with db.read() as session:
        event_id = col(Event.id)
        rows = await session.exec(select(Event).where(event_id > last_id).order_by(event_id).limit(limit))
        return [_to_stream(r) for r in rows]


async def latest_event_id(db: Database) -> int:
    async with db.read() as session:
        return (await session.exec(select(func.coalesce(func.max(Event.id), 0)))).one() or 0
