"""What an author sees of their own replies in approval: on the queue page, live, so a
returned reply and the lead's note reach them without opening the mention."""
from __future__ import annotations

from typing import Any

from sqlalchemy import exists
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.approvals.queries import brief
from app.core.models import Mention, ReplyApproval
from app.mentions.queries import open_status

SHOWN = ("pending", "sending", "returned")


async def my_approvals(session: AsyncSession, username: str, limit: int = 20) -> list[dict[str, Any]]:
    """The author's latest approval per mention still waiting for its answer, newest first."""
    newer = aliased(ReplyApproval)
    superseded = exists().where(col(newer.mention_id) == col(ReplyApproval.mention_id),
                                col(newer.id) > col(ReplyApproval.id))
    rows = await session.exec(
        select(ReplyApproval, Mention).join(Mention, col(Mention.id) == col(ReplyApproval.mention_id))
        .where(col(ReplyApproval.author) == username, col(ReplyApproval.state).in_(SHOWN), ~superseded,
               open_status())
        .order_by(col(ReplyApproval.id).desc()).limit(limit))
    return [{**brief(a), "mention_id": m.id, "customer": m.author_name or m.author} for a, m in rows.all()]
