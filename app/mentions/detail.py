"""One mention with everything around it: its conversation, replies, notes, follow-up
promises, approval and the customer panel (`GET /api/mentions/{id}`, the mention page)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app import sla
from app.approvals.records import brief as approval_brief
from app.approvals.records import latest_for_mention
from app.core.errors import NotFound
from app.core.models import FollowUp, Mention, Note, Reply
from app.mentions import identities
from app.mentions.followups import follow_up_view
from app.mentions.profiles import profile_url
from app.mentions.queries import mention_view

HISTORY_LIMIT = 20  # earlier mentions in the customer panel


async def mention_detail(session: AsyncSession, mention_id: int, now: datetime,
                         policy: sla.SlaPolicy) -> dict[str, Any]:
    """The mention with everything around it (`GET /api/mentions/{id}`, the mention page), or NotFound."""
    m = await session.get(Mention, mention_id)
    if m is None:
        raise NotFound("no such mention")
    view = mention_view(m, now, policy)
    view.update({
        "direction": m.direction, "answered_at": m.answered_at and m.answered_at.isoformat(),
        "answered_by": m.answered_by, "first_response_seconds": m.first_response_seconds,
        "within_target": m.within_target, "dismiss_reason": m.dismiss_reason, "dismissed_by": m.dismissed_by,
        "dismissed_at": m.dismissed_at and m.dismissed_at.isoformat(),
        "removed": m.removed, "in_reply_to": m.in_reply_to,
    })
    root = m.conversation_id or m.id
    thread = (await session.exec(select(Mention)
                                 .where(or_(col(Mention.id) == root, col(Mention.conversation_id) == root))
                                 .order_by(col(Mention.posted_at)))).all()
    view["conversation"] = [{"id": t.id, "direction": t.direction, "author": t.author, "text": t.text,
                             "posted_at": t.posted_at.isoformat(), "status": t.status, "url": t.url}
                            for t in thread]
    replies = (await session.exec(select(Reply).where(col(Reply.mention_id) == m.id)
                                  .order_by(col(Reply.created_at)))).all()
    view["replies"] = [{"id": r.id, "author": r.author, "text": r.text, "created_at": r.created_at.isoformat(),
                        "state": r.state, "url": r.remote_url or r.elsewhere_url, "error": r.error}
                       for r in replies]
    notes = await session.exec(select(Note).where(col(Note.mention_id) == m.id).order_by(col(Note.created_at)))
    view["notes"] = [{"id": n.id, "author": n.author, "text": n.text, "created_at": n.created_at.isoformat()}
                     for n in notes]
    follow_ups = await session.exec(select(FollowUp).where(col(FollowUp.mention_id) == m.id)
                                    .order_by(col(FollowUp.due_at)))
    view["follow_ups"] = [follow_up_view(f, now) for f in follow_ups]
    # The customer panel: the author's page, their other handles (linked by a lead), and
    # their earlier mentions on every one of those.
    handles = await identities.linked(session, m.channel, m.author)
    pairs = {(m.channel, m.author)} | {(h.channel, h.author) for h in handles}
    conversation = col(Mention.conversation_id)
    earlier = await session.exec(select(Mention).where(
        identities.handles_condition(pairs), col(Mention.id) != m.id,
        col(Mention.direction) == "inbound", or_(conversation.is_(None), conversation != root))
        .order_by(col(Mention.posted_at).desc()).limit(HISTORY_LIMIT))
    view["author_history"] = [{"id": e.id, "text": e.text, "posted_at": e.posted_at.isoformat(), "status": e.status,
                               "category": e.category, "answered_by": e.answered_by,
                               "dismiss_reason": e.dismiss_reason, "channel": e.channel, "author": e.author}
                              for e in earlier]
    view["profile_url"] = profile_url(m.channel, m.author, m.raw, m.url)
    own = identities.normalise(m.author)
    view["identities"] = [identities.view(h) for h in handles
                          if (h.channel, identities.normalise(h.author)) != (m.channel, own)]
    latest = await latest_for_mention(session, mention_id)
    view["approval"] = approval_brief(latest) if latest else None
    return view
