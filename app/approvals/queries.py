"""The approval queue's SQL and the views built from its rows: the leads' list, the tags in
the queue, and an author's own replies in approval."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exists
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app import sla
from app.approvals.records import brief, iso
from app.core.models import Mention, ReplyApproval
from app.core.prepared import core_rows, prepared
from app.mentions.queries import open_status

# Waiting for a lead: `sending` stays listed (greyed) until the post settles.
WAITING = ("pending", "sending")
# What an author sees of their own: waiting, or back with a note.
AUTHOR_SEES = (*WAITING, "returned")


def _with_mention(*mention_columns: Any):
    """SQL: approvals with their mention (or those of its columns), while the mention still
    waits for its answer (one answered or dismissed meanwhile drops out; approving it would
    close it)."""
    return (select(ReplyApproval, *(mention_columns or (Mention,)))
            .join(Mention, col(Mention.id) == col(ReplyApproval.mention_id)).where(open_status()))


async def waiting(session: AsyncSession, limit: int = 200) -> list[tuple[ReplyApproval, Mention]]:
    """Replies waiting for a lead, the mention with the least SLA time left first."""
    rows = await session.exec(_with_mention().where(col(ReplyApproval.state).in_(WAITING))
                              .order_by(col(Mention.due_at), col(ReplyApproval.id)).limit(limit))
    return list(rows.all())


# The reads of every dashboard and live update of the queue, built once.
_WAITING_IDS = sa.select(col(ReplyApproval.mention_id)).where(col(ReplyApproval.state).in_(WAITING))


async def awaiting_among(session: AsyncSession, mention_ids: list[int]) -> set[int]:
    """Which of these mentions have a reply waiting for a lead (the queue tags them): every
    waiting one read (a few: leads decide them) and matched here, not an IN list of 100 ids."""
    if not mention_ids:
        return set()
    return {mention_id for mention_id, in await core_rows(session, _WAITING_IDS)} & set(mention_ids)


@prepared
def _latest_of_author(limit: int):
    """SQL: an author's approvals (`author`, given when it runs) that are the latest of their
    mention, with the customer's name."""
    newer = aliased(ReplyApproval)
    superseded = exists().where(col(newer.mention_id) == col(ReplyApproval.mention_id),
                                col(newer.id) > col(ReplyApproval.id))
    return (_with_mention(col(Mention.id), col(Mention.author_name), col(Mention.author))
            .where(col(ReplyApproval.author) == sa.bindparam("author"), col(ReplyApproval.state).in_(AUTHOR_SEES),
                   ~superseded)
            .order_by(col(ReplyApproval.id).desc()).limit(limit))


async def my_approvals(session: AsyncSession, username: str, limit: int = 20) -> list[dict[str, Any]]:
    """The author's latest approval per mention still waiting for its answer, newest first:
    on their queue page, live, so a returned reply and the lead's note reach them."""
    rows = await session.exec(_latest_of_author(limit), params={"author": username})
    return [{**brief(a), "mention_id": mention_id, "customer": name or author} for a, mention_id, name, author in rows]


def approval_view(a: ReplyApproval, m: Mention, now: datetime, policy: sla.SlaPolicy) -> dict[str, Any]:
    """One item of `GET /api/approvals`: the proposed reply and its mention's SLA clock."""
    status = sla.evaluate(m.posted_at, now, policy)
    return {**brief(a), "mention_id": m.id, "post": a.post,
            "mention": {"id": m.id, "channel": m.channel, "source": m.source, "author": m.author,
                        "author_name": m.author_name, "text": m.text, "url": m.url, "language": m.language,
                        "posted_at": m.posted_at.isoformat(), "due_at": iso(m.due_at),
                        "seconds_left": status.seconds_left, "clock_running": status.clock_running,
                        "sla_state": status.sla_state, "status": m.status}}
