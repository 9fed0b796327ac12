"""Presence: who else has a mention open, and who is typing a reply to it.

Each open mention page sends a heartbeat every HEARTBEAT_SECONDS, and "typing" at most every
TYPING_THROTTLE_SECONDS while keys are pressed; leaving the page says goodbye. A row counts
while its heartbeat is fresh (FRESH), so a closed laptop disappears on its own. The rows live
in the database, so every web process on PostgreSQL answers the same; an event row
(`presence.changed`) is written only when someone arrives, starts typing or leaves, never
for a heartbeat that changes nothing, so the stream and the disk stay quiet."""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts.principal import Principal
from app.core.errors import NotFound
from app.core.events import emit, mention_event_data
from app.core.models import Mention, Presence
from app.core.prepared import at, core_rows

HEARTBEAT_SECONDS = 15               # the page's heartbeat (static/presence.js reads it from the page)
FRESH = timedelta(seconds=45)        # three heartbeats missed: gone
TYPING = timedelta(seconds=8)        # "typing" lasts this long after the last keystroke report
TYPING_THROTTLE_SECONDS = 4          # the page reports typing at most this often
MIN_WRITE = timedelta(seconds=10)    # a heartbeat within this of the last write writes nothing
SWEEP = timedelta(minutes=10)        # rows this stale are deleted (by any heartbeat)
EVENT = "presence.changed"


def _fresh(row: Presence | None, now: datetime) -> bool:
    return row is not None and row.seen_at > now - FRESH


def _typing(row: Presence | None, now: datetime) -> bool:
    return _fresh(row, now) and row is not None and row.typing_until is not None and row.typing_until > now


async def _mention(session: AsyncSession, mention_id: int) -> Mention:
    mention = await session.get(Mention, mention_id)
    if mention is None or mention.direction != "inbound":
        raise NotFound("no such mention")
    return mention


async def heartbeat(session: AsyncSession, mention_id: int, who: Principal, now: datetime, typing: bool) -> None:
    """`who` has the mention open (and is typing). Writes only what changes what others see,
    or what keeps the row fresh; announces arrivals and the start of typing."""
    mention = await _mention(session, mention_id)
    row = await session.get(Presence, (mention_id, who.username))
    arrived, started = not _fresh(row, now), typing and not _typing(row, now)
    # Typing extends a still-running "typing" only when it is about to run out.
    extend = typing and row is not None and row.typing_until is not None and row.typing_until - now < TYPING / 2
    if not (arrived or started or extend or (row is not None and row.seen_at <= now - MIN_WRITE)):
        return
    if row is None:
        row = Presence(mention_id=mention_id, username=who.username, seen_at=now)
        session.add(row)
    row.seen_at = now
    if typing:
        row.typing_until = now + TYPING
    elif arrived:
        row.typing_until = None
    await session.execute(delete(Presence).where(col(Presence.seen_at) < now - SWEEP))
    if arrived or started:
        await emit(session, EVENT, mention_id=mention_id,
                   data=mention_event_data(mention, username=who.username, typing=typing,
                                             typing_only=not arrived))


async def leave(session: AsyncSession, mention_id: int, who: Principal) -> None:
    """`who` closed the mention: gone for everyone at once."""
    row = await session.get(Presence, (mention_id, who.username))
    if row is None:
        return
    await session.delete(row)
    mention = await session.get(Mention, mention_id)
    if mention is not None:
        await emit(session, EVENT, mention_id=mention_id, data=mention_event_data(mention, username=who.username,
                                                                                  left=True))


def _view(row: Presence, now: datetime) -> dict[str, Any]:
    typing = _typing(row, now)
    # When the browser should look again for this person to change: typing stops, or they go.
    until = row.typing_until if typing and row.typing_until is not None else row.seen_at + FRESH
    return {"username": row.username, "typing": typing,
            "changes_in": max(0.0, round((until - now).total_seconds(), 1))}


async def others_on(session: AsyncSession, mention_id: int, me: str, now: datetime) -> list[dict[str, Any]]:
    """The colleagues who have the mention open now (not `me`), by name."""
    rows = await session.exec(select(Presence).where(
        col(Presence.mention_id) == mention_id, col(Presence.seen_at) > now - FRESH,
        col(Presence.username) != me).order_by(col(Presence.username)))
    return [_view(r, now) for r in rows]


# Built once: every dashboard and live update of the queue reads it.
_OTHERS_VIEWING = sa.select(col(Presence.mention_id), col(Presence.username)).where(
    col(Presence.seen_at) > at("fresh_since"), col(Presence.username) != sa.bindparam("me")
).order_by(col(Presence.username))


async def viewers(session: AsyncSession, mention_ids: list[int], me: str, now: datetime) -> dict[int, list[str]]:
    """For the queue's markers: who else has each of these mentions open. Every fresh row is
    read (a few: one per person and open mention) and matched here: an IN list of a page's 100
    ids cost more to build and send than the rows it would have left out."""
    if not mention_ids:
        return {}
    wanted = set(mention_ids)
    rows = await core_rows(session, _OTHERS_VIEWING, {"fresh_since": now - FRESH, "me": me})
    found: dict[int, list[str]] = defaultdict(list)
    for mention_id, username in rows:
        if mention_id in wanted:
            found[mention_id].append(username)
    return dict(found)
