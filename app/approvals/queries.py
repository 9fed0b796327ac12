"""The approval queue's SQL and the views built from its rows."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app import sla
from app.core.models import Mention, ReplyApproval

# Waiting for a lead: `sending` stays listed (greyed) until the post settles.
WAITING = ("pending", "sending")


async def waiting(session: AsyncSession, limit: int = 200) -> list[tuple[ReplyApproval, Mention]]:
    """Replies waiting for a lead, the mention with the least SLA time left first."""
    rows = await session.exec(
        select(ReplyApproval, Mention).join(Mention, col(Mention.id) == col(ReplyApproval.mention_id))
        .where(col(ReplyApproval.state).in_(WAITING))
        .order_by(col(Mention.due_at), col(ReplyApproval.id)).limit(limit))
    return list(rows.all())


async def awaiting_among(session: AsyncSession, mention_ids: list[int]) -> set[int]:
    """Which of these mentions have a reply waiting for a lead (the queue tags them)."""
    if not mention_ids:
        return set()
    rows = await session.exec(select(ReplyApproval.mention_id).where(
        col(ReplyApproval.mention_id).in_(mention_ids), col(ReplyApproval.state).in_(WAITING)))
    return set(rows.all())


async def latest_for_mention(session: AsyncSession, mention_id: int) -> ReplyApproval | None:
    return (await session.exec(select(ReplyApproval).where(col(ReplyApproval.mention_id) == mention_id)
                               .order_by(col(ReplyApproval.id).desc()))).first()


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def brief(a: ReplyApproval) -> dict[str, Any]:
    """The approval as the mention shows it to its author (awaiting, returned with a note, sent)."""
    return {"id": a.id, "state": a.state, "author": a.author, "text": a.text, "created_at": a.created_at.isoformat(),
            "decided_by": a.decided_by, "decided_at": _iso(a.decided_at), "note": a.note, "error": a.error}


def approval_view(a: ReplyApproval, m: Mention, now: datetime, policy: sla.SlaPolicy) -> dict[str, Any]:
    """One item of `GET /api/approvals`: the proposed reply and its mention's SLA clock."""
    status = sla.evaluate(m.posted_at, now, policy)
    return {**brief(a), "mention_id": m.id, "post": a.post,
            "mention": {"id": m.id, "channel": m.channel, "source": m.source, "author": m.author,
                        "author_name": m.author_name, "text": m.text, "url": m.url, "language": m.language,
                        "posted_at": m.posted_at.isoformat(), "due_at": _iso(m.due_at),
                        "seconds_left": status.seconds_left, "clock_running": status.clock_running,
                        "sla_state": status.sla_state, "status": m.status}}
