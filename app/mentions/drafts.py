"""Reply drafts: one per responder and mention, saved on the server as they type, so a refused
send, a reload, a tone switch or a lost connection never costs the text. Sending clears it."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts.principal import Principal
from app.core.errors import NotFound
from app.core.models import Mention, ReplyDraft

MAX_DRAFT = 20_000  # as long as a reply may be


def view(draft: ReplyDraft | None) -> dict[str, Any]:
    if draft is None:
        return {"text": "", "tone": None, "updated_at": None}
    return {"text": draft.text, "tone": draft.tone, "updated_at": draft.updated_at.isoformat()}


async def get_draft(session: AsyncSession, mention_id: int, who: Principal) -> ReplyDraft | None:
    return (await session.exec(select(ReplyDraft).where(
        col(ReplyDraft.mention_id) == mention_id, col(ReplyDraft.user_id) == who.user.id))).first()


async def save_draft(session: AsyncSession, mention_id: int, who: Principal, now: datetime, text: str,
                     tone: str | None) -> ReplyDraft | None:
    """Keep the text as typed (blank: nothing to keep, the draft goes)."""
    mention = await session.get(Mention, mention_id)
    if mention is None or mention.direction != "inbound":
        raise NotFound("no such mention")
    draft = await get_draft(session, mention_id, who)
    if not text.strip():
        if draft is not None:
            await session.delete(draft)
        return None
    if draft is None:
        assert who.user.id is not None  # a signed-in user is a stored row
        draft = ReplyDraft(mention_id=mention_id, user_id=who.user.id, text=text, tone=tone, updated_at=now)
        session.add(draft)
    else:
        draft.text, draft.updated_at = text, now
        draft.tone = tone or draft.tone
    await session.flush()
    return draft


async def clear_draft(session: AsyncSession, mention_id: int, who: Principal) -> None:
    """The reply went out: the sender's draft has done its job."""
    await session.exec(delete(ReplyDraft).where(col(ReplyDraft.mention_id) == mention_id,
                                                col(ReplyDraft.user_id) == who.user.id))
