"""Looking recent waiting posts up again: timelines, searches and notifications never show
that a post was edited or deleted, and a deleted post must leave the queue.

A source whose connector can `verify` re-checks, at most every RECHECK_INTERVAL and inside
its poll (under the source's lease and the same rate-limit and backoff handling as fetching),
up to the connector's `verify_batch` open or claimed mentions posted within RECHECK_WINDOW.
They are taken in id order after the last one checked, wrapping round, so a long queue is
covered in turns. The turn's time and place are kept in the source's state row: workers that
take turns at the lease share one rotation. Changes go through ingest like any edit or
deletion.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import col, select

from app.core.config import SourceConfig
from app.core.context import AppContext
from app.core.db import Database
from app.core.models import Mention, SourceState
from app.intake.store import apply_changes
from app.mentions.queries import waiting_inbound
from connectors.base import KnownPost, Verifying

RECHECK_INTERVAL = timedelta(minutes=5)
RECHECK_WINDOW = timedelta(hours=48)  # older posts still waiting are rare; deleting late rarer


async def waiting_posts(db: Database, source: str, since: datetime, *, limit: int,
                        after_id: int = 0) -> list[Mention]:
    """Up to `limit` inbound open or claimed, not removed mentions of `source` posted since
    `since`: ids after `after_id` first, then from the start again."""
    # An erased post keeps its place in the figures but has no id the channel knows any more.
    mention_id = col(Mention.id)
    query = (select(Mention).where(col(Mention.source) == source, waiting_inbound(), col(Mention.posted_at) >= since,
                                   col(Mention.purged_at).is_(None))
             .order_by(mention_id))
    async with db.read() as session:
        rows = list((await session.exec(query.where(mention_id > after_id).limit(limit))).all())
        if len(rows) < limit and after_id:
            rows += (await session.exec(query.where(mention_id <= after_id).limit(limit - len(rows)))).all()
    return rows


def known_post(m: Mention) -> KnownPost:
    return KnownPost(external_id=m.external_id, posted_at=m.posted_at, author=m.author, text=m.text,
                     edited_at=m.edited_at, raw=m.raw or {})


class Rechecker:
    """The re-check turn of one source."""

    def __init__(self, ctx: AppContext, source: SourceConfig, connector: Verifying):
        self.ctx = ctx
        self.source = source
        self.connector = connector

    @staticmethod
    def due(state: SourceState, now: datetime) -> bool:
        return state.recheck_next_at is None or now >= state.recheck_next_at

    async def run(self, state: SourceState) -> list[int]:
        """Check one batch; the ids of mentions that changed. Connector errors propagate.
        `state`: the source's row, read when its lease was taken."""
        now = self.ctx.now()
        rows = await waiting_posts(self.ctx.db, self.source.name, now - RECHECK_WINDOW,
                                   limit=type(self.connector).capabilities.verify_batch,
                                   after_id=state.recheck_after_id)
        # Saved before calling out: a failing check waits for its next turn instead of being
        # retried at every (backed-off) poll, which would slow the polling itself.
        last_id = rows[-1].id if rows else None
        await self._save_turn(now + RECHECK_INTERVAL, state.recheck_after_id if last_id is None else last_id)
        if not rows:
            return []
        changes = await self.connector.verify([known_post(m) for m in rows])
        channels = {m.external_id: m.channel for m in rows}
        # Only posts we asked about, on the channel they are stored under.
        ours = [replace(c, channel=channels[c.external_id]) for c in changes if c.external_id in channels]
        return await apply_changes(self.ctx.db, self.ctx.source_ref(self.source), ours)

    async def _save_turn(self, next_at: datetime, after_id: int) -> None:
        async with self.ctx.db.write() as session:
            await session.exec(update(SourceState).where(col(SourceState.source) == self.source.name)
                               .values(recheck_next_at=next_at, recheck_after_id=after_id)
                               .execution_options(synchronize_session=False))
