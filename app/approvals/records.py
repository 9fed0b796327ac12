"""One mention's approval, as its page and API show it. Apart from the queue's queries
(app/approvals/queries.py) because the mention's own detail (app/mentions/queries.py) reads it."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.models import ReplyApproval


async def latest_for_mention(session: AsyncSession, mention_id: int) -> ReplyApproval | None:
    return (await session.exec(select(ReplyApproval).where(col(ReplyApproval.mention_id) == mention_id)
                               .order_by(col(ReplyApproval.id).desc()))).first()


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def brief(a: ReplyApproval) -> dict[str, Any]:
    """The approval as the mention shows it to its author (awaiting, returned with a note, sent)."""
    return {"id": a.id, "state": a.state, "author": a.author, "text": a.text, "created_at": a.created_at.isoformat(),
            "decided_by": a.decided_by, "decided_at": iso(a.decided_at), "note": a.note, "error": a.error}
