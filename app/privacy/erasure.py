"""Erasure by person (GDPR art. 17): everything held about one author, wherever it lives, in
one transaction; then a record that an erasure happened (when, by whom, how many items).

On SQLite the old bytes must not survive in the file either: every connection runs with
`secure_delete` (app/core/db.py), which zeroes what is deleted or overwritten, and the WAL,
which still holds the pages as they were, is checkpointed into the file and truncated."""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime

from app.core.db import Database
from app.core.errors import Invalid
from app.core.events import emit_many, mention_event_data
from app.core.models import Mention
from app.mentions import identities
from app.privacy.ledger import record
from app.privacy.queries import chunks, held_counts, normalise_handle, person_mentions
from app.privacy.scrub import Counts, scrub_mentions

log = logging.getLogger(__name__)
WAL_TRIES = 5


class ErasureError(Invalid):
    """The request cannot be carried out as asked (an empty handle)."""


@dataclass(frozen=True)
class Person:
    author: str
    channel: str | None = None

    def __post_init__(self) -> None:
        if not normalise_handle(self.author):
            raise ErasureError("give the author's handle")
        object.__setattr__(self, "channel", self.channel or None)


async def preview(db: Database, person: Person) -> Counts:
    """What an erasure of this person would remove now."""
    async with db.read() as session:
        counts = await held_counts(session, await person_mentions(session, person.author, person.channel))
        counts.identities = len(await identities.for_export(session, person.author, person.channel))
        return counts


async def erase(db: Database, key: bytes, person: Person, actor: str, now: datetime) -> Counts:
    """Remove the person's data everywhere, record the erasure, and leave no copy in the
    SQLite WAL. Returns how many rows of each kind held some of it."""
    async with db.write() as session:
        found = await person_mentions(session, person.author, person.channel)
        counts = Counts()
        for part in chunks([m.id for m in found]):
            counts.add(await scrub_mentions(session, part, key, now))
        counts.identities = await identities.forget(session, person.author, person.channel)
        record(session, "erasure", actor, counts, now, channel=person.channel)
        # Open dashboards reload the erased mentions (the queue may still list one).
        erased = [await session.get(Mention, m.id, populate_existing=True) for m in found]
        await emit_many(session, [("mention.updated", m.id, m.source, mention_event_data(m, action="erased"))
                                  for m in erased])
    for attempt in range(WAL_TRIES):
        if await db.truncate_wal():
            break
        await asyncio.sleep(0.2 * (attempt + 1))
    else:
        log.warning("erasure: readers kept the WAL from being truncated; it is on the next checkpoint")
    return counts
