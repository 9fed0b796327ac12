"""The daily purge: texts and author data of mentions posted more than `[privacy]
retention_days` ago are removed everywhere they were copied to; every figure stays.

Safe with any number of workers: candidates are read without a lock, then purged in short
write transactions of at most BATCH mentions, each touching only rows not purged yet (and, on
PostgreSQL, skipping rows another worker holds). The scan walks forward by (posted_at, id), so
rows purged long ago are passed once per run, not once per batch."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select

from app.core.db import Database
from app.core.models import Mention
from app.mentions import identities
from app.privacy.ledger import record
from app.privacy.scrub import Counts, scrub_mentions

log = logging.getLogger(__name__)
BATCH = 500
SYSTEM = "system"


def cutoff(now: datetime, retention_days: int) -> datetime:
    return now - timedelta(days=retention_days)


async def purge_expired(db: Database, key: bytes, retention_days: int, now: datetime, *,
                        batch: int = BATCH) -> Counts:
    """Purge every mention posted before now − retention_days; returns what was removed."""
    before = cutoff(now, retention_days)
    total = Counts()
    after: tuple[datetime, int] | None = None
    while True:
        query = (select(Mention.id, Mention.posted_at)
                 .where(Mention.posted_at < before, Mention.purged_at.is_(None))
                 .order_by(Mention.posted_at, Mention.id).limit(batch))
        if after is not None:
            query = query.where(or_(Mention.posted_at > after[0],
                                    and_(Mention.posted_at == after[0], Mention.id > after[1])))
        async with db.read() as session:
            found = (await session.execute(query)).all()
        if not found:
            break
        async with db.write() as session:
            counts = await scrub_mentions(session, [i for i, _ in found], key, now)
            if counts.items:
                record(session, "retention", SYSTEM, counts, now)
        total.add(counts)
        after = (found[-1].posted_at, found[-1].id)
        if len(found) < batch:
            break
    async with db.write() as session:
        total.identities = await identities.expire(session, before)
        if total.identities:
            record(session, "retention", SYSTEM, Counts(identities=total.identities), now)
    if total.items:
        await db.truncate_wal()
        log.info("retention: purged %d mentions posted before %s (%d items)", total.mentions,
                 before.date().isoformat(), total.items)
    return total
