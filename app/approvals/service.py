"""Reply approval: the replies of a user whose replies need approval wait for a lead.

- Asking: the author keeps the mention (their claim does not run out while it waits), the
  proposed text is stored, `approval_waiting` is raised; the SLA clock keeps running.
- Approving (as is, or edited): one conditional UPDATE takes the approval (pending → sending),
  so of two leads approving at once exactly one goes on to post. The post goes through the
  one send path (app/mentions/send.py) in the author's name: the channel post, the first
  response time and the events are written there, once.
- Returning: the author gets the mention back with the lead's note, and their draft holds the
  returned text.
Approvals, returns and failed approvals leave audit lines.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import and_, or_, update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts.principal import Principal
from app.accounts.users import user_by_name
from app.approvals.records import latest_for_mention
from app.core.context import AppContext
from app.core.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from app.core.events import emit, mention_event_data
from app.core.models import Mention, ReplyApproval
from app.intake.sanitize import clean_text
from app.mentions import actions, drafts
from app.mentions.queries import is_open
from app.mentions.send import SendResult, check_reply, send_reply

# An approval stuck in `sending` this long (its process died mid-post) may be approved again:
# the reply row keeps its idempotency key, so a channel that has the post does not get it twice.
STUCK_SENDING = timedelta(minutes=5)


def needs_approval(who: Principal) -> bool:
    return who.user.replies_need_approval


@dataclass(frozen=True)
class Approved:
    approval: ReplyApproval
    sent: SendResult


async def _announce(session: AsyncSession, mention_id: int, who: str, action: str, now: datetime,
                    **detail: Any) -> Mention:
    """The audit line and the `mention.updated` event every approval step leaves."""
    m = await session.get(Mention, mention_id, populate_existing=True)
    assert m is not None  # approvals point at stored mentions
    actions.audit(session, who, action, mention_id, now, **detail)
    await emit(session, "mention.updated", mention_id=mention_id, source=m.source,
               data=mention_event_data(m, action=action, approval_id=detail.get("approval_id")))
    return m


async def request_approval(ctx: AppContext, mention_id: int, who: Principal, text: str, *, post: bool,
                           elsewhere_url: str | None = None) -> ReplyApproval:
    """The reply waits for a lead; checked now as the send will check it (private post, length)."""
    text = (await check_reply(ctx, mention_id, text, post=post)).text
    now = ctx.now()
    async with ctx.db.write() as session:
        await actions.claim(session, mention_id, who, now, ctx.config.replies.claim_idle_minutes)
        # Held while it waits: no expiry, so nobody else answers it meanwhile (a lead can release it).
        await session.exec(_hold(mention_id, who.username, None))
        earlier = await latest_for_mention(session, mention_id)
        if earlier is not None and earlier.state == "sending":
            raise Conflict("a lead is sending the reply to this mention already")
        if earlier is not None and earlier.state == "pending":
            earlier.state = "closed"  # replaced by the new text
        approval = ReplyApproval(mention_id=mention_id, author=who.username, text=text, post=post,
                                 elsewhere_url=elsewhere_url, created_at=now)
        session.add(approval)
        await session.flush()
        await drafts.clear_draft(session, mention_id, who)
        m = await _announce(session, mention_id, who.username, "approval_requested", now, approval_id=approval.id)
        await emit(session, "approval_waiting", mention_id=mention_id, source=m.source,
                   data=mention_event_data(m, approval_id=approval.id, author=who.username))
    return approval


async def _decidable(session: AsyncSession, approval_id: int, lead: Principal) -> ReplyApproval:
    approval = await session.get(ReplyApproval, approval_id, populate_existing=True)
    if approval is None:
        raise NotFound("no such approval")
    if approval.author == lead.username:
        raise Forbidden("a lead other than the author approves a reply")
    return approval


async def _take(session: AsyncSession, approval_id: int, lead: Principal, now: datetime, values: dict[str, Any],
                *, stuck_too: bool = False) -> ReplyApproval:
    """pending → the decision in `values`, by one conditional UPDATE: one lead wins, the rest hear why."""
    state = col(ReplyApproval.state)
    takeable = or_(state == "pending", and_(state == "sending", col(ReplyApproval.decided_at) <= now - STUCK_SENDING)) \
        if stuck_too else state == "pending"
    approval = await _decidable(session, approval_id, lead)
    taken = await session.exec(update(ReplyApproval).where(col(ReplyApproval.id) == approval_id, takeable)
                               .values(decided_by=lead.username, decided_at=now, **values)
                               .execution_options(synchronize_session=False))
    await session.refresh(approval)
    if taken.rowcount != 1:
        raise Conflict(f"this reply is already {approval.state}"
                       + (f" (by {approval.decided_by})" if approval.decided_by else ""))
    return approval


def _hold(mention_id: int, author: str, expires_at: datetime | None):
    """SQL: the author's claim on the mention, running out at `expires_at` (None: held while it waits)."""
    return (update(Mention).where(col(Mention.id) == mention_id, col(Mention.status) == "claimed",
                                  col(Mention.claimed_by) == author)
            .values(claim_expires_at=expires_at).execution_options(synchronize_session=False))


async def _author(session: AsyncSession, username: str) -> Principal:
    user = await user_by_name(session, username)
    if user is None:
        raise NotFound(f"the author {username!r} no longer exists")
    return Principal(user=user, via="approval")


async def approve(ctx: AppContext, client: httpx.AsyncClient, approval_id: int, lead: Principal,
                  text: str | None = None) -> Approved:
    """Send the reply (as edited, when `text` is given) in its author's name."""
    edited = None if text is None else clean_text(text)
    if edited == "":
        raise Invalid("the reply text is empty")
    async with ctx.db.write() as session:  # committed before the post: the other leads see it taken
        approval = await _take(session, approval_id, lead, ctx.now(), {"state": "sending", "error": None},
                               stuck_too=True)
    final = edited or approval.text
    async with ctx.db.read() as session:
        author = await _author(session, approval.author)
    try:
        sent = await send_reply(ctx, client, approval.mention_id, author, final, post=approval.post,
                                elsewhere_url=approval.elsewhere_url)
    except DomainError as exc:
        await _unsent(ctx, approval, lead, exc)
        raise
    now = ctx.now()
    async with ctx.db.write() as session:
        row = await session.get(ReplyApproval, approval_id)
        assert row is not None
        row.state, row.sent_text, row.reply_id = "approved", final, sent.reply.id
        await _announce(session, approval.mention_id, lead.username, "approval_approved", now,
                        approval_id=approval_id, author=approval.author, edited=final != approval.text,
                        reply_id=sent.reply.id)
    return Approved(approval=row, sent=sent)


async def _unsent(ctx: AppContext, approval: ReplyApproval, lead: Principal, exc: DomainError) -> None:
    """The send was refused or failed: back in the queue with the reason, or closed when the
    mention was answered or dismissed meanwhile."""
    now = ctx.now()
    async with ctx.db.write() as session:
        row = await session.get(ReplyApproval, approval.id)
        mention = await session.get(Mention, approval.mention_id)
        assert row is not None and mention is not None
        row.state = "pending" if is_open(mention) else "closed"
        row.error = ctx.redact(exc.message)
        if row.state == "pending":  # the send's claim runs out; waiting again, it is held again
            await session.exec(_hold(approval.mention_id, approval.author, None))
        await _announce(session, approval.mention_id, lead.username, "approval_failed", now,
                        approval_id=approval.id, state=row.state, error=row.error)


async def return_reply(ctx: AppContext, approval_id: int, lead: Principal, note: str) -> ReplyApproval:
    """Back to the author with the lead's note: their draft holds the text, the mention is theirs again."""
    note = clean_text(note)
    if not note:
        raise Invalid("say what to change: the note is empty")
    now = ctx.now()
    async with ctx.db.write() as session:
        approval = await _take(session, approval_id, lead, now, {"state": "returned", "note": note})
        author = await _author(session, approval.author)
        await drafts.save_draft(session, approval.mention_id, author, now, approval.text[:drafts.MAX_DRAFT], None)
        # The claim runs again from now, so a returned reply does not hold the mention forever.
        await session.exec(_hold(approval.mention_id, approval.author,
                                 now + timedelta(minutes=ctx.config.replies.claim_idle_minutes)))
        await _announce(session, approval.mention_id, lead.username, "approval_returned", now,
                        approval_id=approval_id, author=approval.author, note=note)
    return approval
