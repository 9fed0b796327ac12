"""Changing a mention: claim, release, reply, dismiss. Each is one conditional UPDATE (so two
responders racing get exactly one winner), an audit row and an event, in one transaction."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, update
from sqlmodel.ext.asyncio.session import AsyncSession

from app import sla
from app.auth import Principal
from app.events import emit, mention_event_data
from app.models import DISMISS_REASONS, AuditEntry, Mention, Reply
from app.sanitize import clean_text, safe_url


class ActionError(Exception):
    """Refused; `status` is the HTTP status that says why (404, 409, 403, 422)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


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
    return or_(Mention.claimed_by.is_(None), Mention.claimed_by == username, Mention.claim_expires_at <= now)


async def _conditional_update(session: AsyncSession, mention_id: int, condition, values: dict[str, Any]) -> bool:
    result = await session.execute(update(Mention).where(Mention.id == mention_id, condition)
                                   .values(**values).execution_options(synchronize_session=False))
    return result.rowcount == 1


async def _why_refused(session: AsyncSession, mention_id: int, now: datetime, username: str) -> ActionError:
    m = await session.get(Mention, mention_id, populate_existing=True)
    if m is None or m.direction != "inbound":
        return ActionError(404, "no such mention")
    if m.status in ("answered", "dismissed"):
        return ActionError(409, f"this mention is already {m.status}")
    if m.claimed_by and m.claimed_by != username and not (m.claim_expires_at and m.claim_expires_at <= now):
        return ActionError(409, f"{m.claimed_by} is handling this mention")
    return ActionError(409, "the mention changed meanwhile; reload and try again")


async def _finish(session: AsyncSession, mention_id: int, who: Principal, action: str, now: datetime,
                  **detail: Any) -> Mention:
    m = await session.get(Mention, mention_id, populate_existing=True)
    audit(session, who.username, action, mention_id, now, **detail)
    await emit(session, "mention.updated", mention_id=mention_id, source=m.source,
               data=mention_event_data(m, action=action))
    return m


async def claim(session: AsyncSession, mention_id: int, who: Principal, now: datetime, idle_minutes: int) -> Mention:
    ok = await _conditional_update(
        session, mention_id,
        and_(Mention.status.in_(("open", "claimed")), Mention.direction == "inbound", _free_for(who.username, now)),
        {"status": "claimed", "claimed_by": who.username, "claimed_at": now,
         "claim_expires_at": now + timedelta(minutes=idle_minutes)})
    if not ok:
        raise await _why_refused(session, mention_id, now, who.username)
    return await _finish(session, mention_id, who, "claim", now)


async def release(session: AsyncSession, mention_id: int, who: Principal, now: datetime) -> Mention:
    holder = Mention.claimed_by == who.username
    if who.has_role("lead"):
        holder = Mention.claimed_by.is_not(None)
    ok = await _conditional_update(session, mention_id, and_(Mention.status == "claimed", holder),
                                   {"status": "open", "claimed_by": None, "claimed_at": None,
                                    "claim_expires_at": None})
    if not ok:
        raise await _why_refused(session, mention_id, now, who.username)
    return await _finish(session, mention_id, who, "release", now)


async def reply(session: AsyncSession, mention_id: int, who: Principal, now: datetime, policy: sla.SlaPolicy,
                text: str, *, post: bool, elsewhere_url: str | None = None) -> ReplyOutcome:
    text = clean_text(text)
    if not text:
        raise ActionError(422, "the reply text is empty")
    m = await session.get(Mention, mention_id)
    if m is None or m.direction != "inbound":
        raise ActionError(404, "no such mention")
    seconds = sla.first_response_seconds(m.posted_at, now, policy)
    within = seconds <= policy.target_minutes * 60
    ok = await _conditional_update(
        session, mention_id, and_(Mention.status.in_(("open", "claimed")), _free_for(who.username, now)),
        {"status": "answered", "answered_at": now, "answered_by": who.username, "claimed_by": None,
         "claim_expires_at": None, "first_response_seconds": seconds, "within_target": within})
    if not ok:
        raise await _why_refused(session, mention_id, now, who.username)
    record = Reply(mention_id=mention_id, author=who.username, text=text, created_at=now,
                   state="pending" if post else "recorded", elsewhere_url=safe_url(elsewhere_url))
    session.add(record)
    await session.flush()
    m = await _finish(session, mention_id, who, "reply", now, reply_id=record.id, post=post,
                      first_response_seconds=seconds)
    return ReplyOutcome(mention=m, reply=record, first_response_seconds=seconds, within_target=within)


async def dismiss(session: AsyncSession, mention_id: int, who: Principal, now: datetime, reason: str) -> Mention:
    if reason not in DISMISS_REASONS:
        raise ActionError(422, f"reason must be one of {', '.join(DISMISS_REASONS)}")
    free = _free_for(who.username, now) if not who.has_role("lead") else Mention.id.is_not(None)
    ok = await _conditional_update(
        session, mention_id, and_(Mention.status.in_(("open", "claimed")), free),
        {"status": "dismissed", "dismissed_at": now, "dismissed_by": who.username, "dismiss_reason": reason,
         "claimed_by": None, "claim_expires_at": None})
    if not ok:
        raise await _why_refused(session, mention_id, now, who.username)
    return await _finish(session, mention_id, who, "dismiss", now, reason=reason)
