"""Changing a mention: claim, release, reply, dismiss. Each is one conditional UPDATE (so two
responders racing get exactly one winner), an audit row and an event, in one transaction."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app import sla
from app.accounts.principal import Principal
from app.core.bounds import within_years
from app.core.db import Database
from app.core.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from app.core.events import emit, emit_many, mention_event_data
from app.core.models import DISMISS_REASONS, AuditEntry, FollowUp, Mention, Note, Reply
from app.intake.sanitize import clean_text, safe_url
from app.mentions import drafts
from app.mentions.queries import claim_expired, is_open, open_status


@dataclass(frozen=True)
class ReplyOutcome:
    mention: Mention
    reply: Reply
    first_response_seconds: int
    within_target: bool


def audit(session: AsyncSession, actor: str, action: str, mention_id: int | None, now: datetime,
          **detail: Any) -> None:
    session.add(AuditEntry(at=now, actor=actor, action=action, mention_id=mention_id, detail=detail))


def _free_for(username: str, now: datetime):
    """Nobody holds it, the caller does, or the holder's claim ran out."""
    claimed_by = col(Mention.claimed_by)
    return or_(claimed_by.is_(None), claimed_by == username, col(Mention.claim_expires_at) <= now)


async def _conditional_update(session: AsyncSession, mention_id: int, condition, values: dict[str, Any]) -> bool:
    result = await session.exec(update(Mention).where(col(Mention.id) == mention_id, condition)
                                .values(**values).execution_options(synchronize_session=False))
    return result.rowcount == 1


async def _why_refused(session: AsyncSession, mention_id: int, now: datetime, username: str) -> DomainError:
    m = await session.get(Mention, mention_id, populate_existing=True)
    if m is None or m.direction != "inbound":
        return NotFound("no such mention")
    if not is_open(m):
        return Conflict(f"this mention is already {m.status}")
    if m.claimed_by and m.claimed_by != username and not claim_expired(m, now):
        return Conflict(f"{m.claimed_by} is handling this mention")
    return Conflict("the mention changed meanwhile; reload and try again")


async def _finish(session: AsyncSession, mention_id: int, who: Principal, action: str, now: datetime,
                  **detail: Any) -> Mention:
    m = await session.get(Mention, mention_id, populate_existing=True)
    assert m is not None  # the update before matched it
    audit(session, who.username, action, mention_id, now, **detail)
    await emit(session, "mention.updated", mention_id=mention_id, source=m.source,
               data=mention_event_data(m, action=action))
    return m


async def claim(session: AsyncSession, mention_id: int, who: Principal, now: datetime, idle_minutes: int) -> Mention:
    ok = await _conditional_update(
        session, mention_id,
        and_(open_status(), col(Mention.direction) == "inbound", _free_for(who.username, now)),
        {"status": "claimed", "claimed_by": who.username, "claimed_at": now,
         "claim_expires_at": now + timedelta(minutes=idle_minutes)})
    if not ok:
        raise await _why_refused(session, mention_id, now, who.username)
    return await _finish(session, mention_id, who, "claim", now)


async def release(session: AsyncSession, mention_id: int, who: Principal, now: datetime) -> Mention:
    claimed_by = col(Mention.claimed_by)
    holder = claimed_by.is_not(None) if who.has_role("lead") else claimed_by == who.username
    ok = await _conditional_update(session, mention_id, and_(col(Mention.status) == "claimed", holder),
                                   {"status": "open", "claimed_by": None, "claimed_at": None,
                                    "claim_expires_at": None})
    if not ok:
        raise await _why_refused(session, mention_id, now, who.username)
    return await _finish(session, mention_id, who, "release", now)


async def mark_answered(session: AsyncSession, mention_id: int, who: Principal, now: datetime,
                        policy: sla.SlaPolicy, reply_row: Reply) -> ReplyOutcome:
    """The mention is answered now: record the first-response time (SLA seconds)."""
    m = await session.get(Mention, mention_id)
    if m is None or m.direction != "inbound":
        raise NotFound("no such mention")
    seconds = sla.first_response_seconds(m.posted_at, now, policy)
    within = seconds <= policy.target_minutes * 60
    ok = await _conditional_update(
        session, mention_id, and_(open_status(), _free_for(who.username, now)),
        {"status": "answered", "answered_at": now, "answered_by": who.username, "claimed_by": None,
         "claim_expires_at": None, "first_response_seconds": seconds, "within_target": within})
    if not ok:
        raise await _why_refused(session, mention_id, now, who.username)
    if reply_row.id is None:
        session.add(reply_row)
        await session.flush()
    await drafts.clear_draft(session, mention_id, who)
    m = await _finish(session, mention_id, who, "reply", now, reply_id=reply_row.id, state=reply_row.state,
                      first_response_seconds=seconds)
    return ReplyOutcome(mention=m, reply=reply_row, first_response_seconds=seconds, within_target=within)


async def reply(session: AsyncSession, mention_id: int, who: Principal, now: datetime, policy: sla.SlaPolicy,
                text: str, *, elsewhere_url: str | None = None) -> ReplyOutcome:
    """Record a reply made outside this tool (the channel's own app), optionally with its link."""
    text = clean_text(text)
    if not text:
        raise Invalid("the reply text is empty")
    record = Reply(mention_id=mention_id, author=who.username, text=text, created_at=now,
                   state="recorded", elsewhere_url=safe_url(elsewhere_url))
    return await mark_answered(session, mention_id, who, now, policy, record)


async def dismiss(session: AsyncSession, mention_id: int, who: Principal, now: datetime, reason: str) -> Mention:
    if reason not in DISMISS_REASONS:
        raise Invalid(f"reason must be one of {', '.join(DISMISS_REASONS)}")
    free = _free_for(who.username, now) if not who.has_role("lead") else col(Mention.id).is_not(None)
    ok = await _conditional_update(
        session, mention_id, and_(open_status(), free),
        {"status": "dismissed", "dismissed_at": now, "dismissed_by": who.username, "dismiss_reason": reason,
         "claimed_by": None, "claim_expires_at": None})
    if not ok:
        raise await _why_refused(session, mention_id, now, who.username)
    return await _finish(session, mention_id, who, "dismiss", now, reason=reason)


# How long the one who dismissed a mention may take it back (the toast offers it as long).
UNDO_DISMISS_SECONDS = 30


async def undo_dismiss(session: AsyncSession, mention_id: int, who: Principal, now: datetime) -> Mention:
    """Take back one's own dismissal within the window: the mention is open again, as before."""
    ok = await _conditional_update(
        session, mention_id,
        and_(col(Mention.status) == "dismissed", col(Mention.dismissed_by) == who.username,
             col(Mention.dismissed_at) >= now - timedelta(seconds=UNDO_DISMISS_SECONDS)),
        {"status": "open", "dismissed_at": None, "dismissed_by": None, "dismiss_reason": None})
    if not ok:
        m = await session.get(Mention, mention_id, populate_existing=True)
        if m is None or m.direction != "inbound":
            raise NotFound("no such mention")
        raise Conflict("this dismissal can no longer be undone")
    return await _finish(session, mention_id, who, "undo_dismiss", now)


@dataclass(frozen=True)
class BulkDismissal:
    dismissed: list[int]
    refused: list[dict[str, Any]]  # {"id", "status", "detail"} per mention left as it was


async def dismiss_each(db: Database, mention_ids: list[int], who: Principal, now: datetime,
                       reason: str) -> BulkDismissal:
    """Dismiss many, each in its own transaction: one refusal (someone else holds it, already
    handled) does not undo the others, and says why."""
    if reason not in DISMISS_REASONS:
        raise Invalid(f"reason must be one of {', '.join(DISMISS_REASONS)}")
    dismissed, refused = [], []
    for mention_id in mention_ids:
        try:
            async with db.write() as session:
                await dismiss(session, mention_id, who, now, reason)
            dismissed.append(mention_id)
        except DomainError as exc:
            refused.append({"id": mention_id, "status": exc.status, "detail": exc.message})
    return BulkDismissal(dismissed, refused)


@dataclass(frozen=True)
class BulkUndo:
    undone: list[int]
    refused: list[dict[str, Any]]


async def undo_each(db: Database, mention_ids: list[int], who: Principal, now: datetime) -> BulkUndo:
    """Undo many dismissals (a bulk dismiss taken back), each on its own."""
    undone, refused = [], []
    for mention_id in mention_ids:
        try:
            async with db.write() as session:
                await undo_dismiss(session, mention_id, who, now)
            undone.append(mention_id)
        except DomainError as exc:
            refused.append({"id": mention_id, "status": exc.status, "detail": exc.message})
    return BulkUndo(undone, refused)


async def assign(session: AsyncSession, mention_id: int, who: Principal, now: datetime, idle_minutes: int,
                 username: str) -> Mention:
    """A lead hands a mention to a person (taking it over from whoever held it)."""
    from app.accounts.users import user_by_name

    if not who.has_role("lead"):
        raise Forbidden("assigning needs the lead role")
    target = await user_by_name(session, username)
    if target is None or target.disabled:
        raise Invalid(f"no active user named {username!r}")
    ok = await _conditional_update(
        session, mention_id, and_(open_status(), col(Mention.direction) == "inbound"),
        {"status": "claimed", "claimed_by": target.username, "assigned_to": target.username, "claimed_at": now,
         "claim_expires_at": now + timedelta(minutes=idle_minutes)})
    if not ok:
        raise await _why_refused(session, mention_id, now, who.username)
    return await _finish(session, mention_id, who, "assign", now, to=target.username)


async def add_note(session: AsyncSession, mention_id: int, who: Principal, now: datetime, text: str) -> Note:
    text = clean_text(text)
    if not text:
        raise Invalid("the note is empty")
    m = await session.get(Mention, mention_id)
    if m is None:
        raise NotFound("no such mention")
    note = Note(mention_id=mention_id, author=who.username, text=text, created_at=now)
    session.add(note)
    await session.flush()
    await _finish(session, mention_id, who, "note", now, note_id=note.id)
    return note


async def promise_follow_up(session: AsyncSession, mention_id: int, who: Principal, now: datetime,
                            due_at: datetime, note: str | None) -> FollowUp:
    if due_at.tzinfo is None:
        raise Invalid("due_at needs a timezone (ISO 8601 with offset)")
    if due_at <= now:
        raise Invalid("due_at must be in the future")
    try:
        within_years(due_at)
    except ValueError as exc:  # a form's moment; the API's FollowUpIn refuses it earlier
        raise Invalid(f"due_at {exc}") from None
    m = await session.get(Mention, mention_id)
    if m is None or m.direction != "inbound":
        raise NotFound("no such mention")
    follow_up = FollowUp(mention_id=mention_id, created_by=who.username, note=clean_text(note or "") or None,
                         created_at=now, due_at=due_at)
    session.add(follow_up)
    await session.flush()
    await _finish(session, mention_id, who, "follow_up", now, follow_up_id=follow_up.id, due_at=due_at.isoformat())
    return follow_up


async def complete_follow_up(session: AsyncSession, follow_up_id: int, who: Principal, now: datetime) -> FollowUp:
    """Done: kept when before the promised moment, missed after it (recorded either way)."""
    follow_up = await session.get(FollowUp, follow_up_id)
    if follow_up is None:
        raise NotFound("no such follow-up")
    if follow_up.state != "pending":
        raise Conflict(f"this follow-up is already {follow_up.state}")
    follow_up.state = "kept" if now <= follow_up.due_at else "missed"
    follow_up.done_at, follow_up.done_by = now, who.username
    await _finish(session, follow_up.mention_id, who, "follow_up_done", now, follow_up_id=follow_up.id,
                  state=follow_up.state)
    return follow_up


async def expire_idle_claims(session: AsyncSession, now: datetime) -> int:
    """Claims idle past `claim_idle_minutes` go back to the queue, visibly for everyone."""
    status, expires_at = col(Mention.status), col(Mention.claim_expires_at)
    # SKIP LOCKED (PostgreSQL): claims another worker is expiring right now, or a responder is
    # acting on, are left to them; without it both workers would audit the same expiry.
    expired = (await session.exec(select(Mention).where(status == "claimed", expires_at <= now)
                                  .with_for_update(skip_locked=True))).all()
    if not expired:
        return 0
    ids = [m.id for m in expired]
    await session.exec(update(Mention).where(col(Mention.id).in_(ids), status == "claimed", expires_at <= now)
                       .values(status="open", claimed_by=None, claimed_at=None, claim_expires_at=None)
                       .execution_options(synchronize_session=False))
    events = []
    for m in expired:
        audit(session, "system", "claim_expired", m.id, now, holder=m.claimed_by)
        await session.refresh(m)
        events.append(("mention.updated", m.id, m.source, mention_event_data(m, action="claim_expired")))
    await emit_many(session, events)
    return len(ids)
