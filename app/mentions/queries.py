"""Reading the queue: open mentions, most urgent first, with their SLA clock.

`warning_at` and `due_at` are stored at ingest, so filtering and counting by SLA state is
plain SQL; the exact seconds left (open time only) are computed for the page being shown.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app import sla
from app.core.errors import NotFound
from app.core.models import FollowUp, Mention, Note, Reply
from app.mentions.followups import follow_up_view

# Waiting for an answer: nobody has it yet, or someone is on it. The one definition of an
# open mention; everything that asks "is it still waiting?" uses the helpers below.
OPEN_STATUSES = ("open", "claimed")
SLA_STATES = ("ok", "warning", "breached")


def open_status():
    """SQL: the mention still waits for its answer."""
    return Mention.status.in_(OPEN_STATUSES)


def is_open(m: Mention) -> bool:
    """The same rule for a loaded row."""
    return m.status in OPEN_STATUSES


def waiting_inbound():
    """SQL: in the queue: a customer's post, still waiting, not deleted by its author."""
    return and_(open_status(), Mention.direction == "inbound", Mention.removed.is_(False))


@dataclass(frozen=True)
class QueueFilters:
    channel: str | None = None
    sla_state: str | None = None
    language: str | None = None
    category: str | None = None
    claimed: bool | None = None
    source: str | None = None
    q: str | None = None        # text contains (case-insensitive); a spike's term links here
    person: str | None = None   # whose: holding it (waiting), answered it, or promised (follow-ups)

    def any_set(self) -> bool:
        return any(value is not None for value in self.__dict__.values())


def text_contains(column, needle: str):
    """`column` contains `needle`, case-insensitively, with `%`, `_` and `\\` taken literally
    (a search for "50%" or "user_id" means those characters)."""
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.ilike(f"%{escaped}%", escape="\\")


def _state_expr(now: datetime):
    return case((Mention.due_at <= now, "breached"), (Mention.warning_at <= now, "warning"), else_="ok")


def _about(filters: QueueFilters, person_column) -> list:
    """The filters on what a mention is about (any status); `person` matches `person_column`."""
    conds = []
    for column, value in ((Mention.channel, filters.channel), (Mention.language, filters.language),
                          (Mention.category, filters.category), (Mention.source, filters.source),
                          (person_column, filters.person)):
        if value:
            conds.append(column == value)
    if filters.q:
        conds.append(text_contains(Mention.text, filters.q))
    return conds


def _conditions(filters: QueueFilters, now: datetime) -> list:
    conds = [waiting_inbound(), *_about(filters, Mention.claimed_by)]
    if filters.claimed is not None:
        conds.append(Mention.claimed_by.is_not(None) if filters.claimed else Mention.claimed_by.is_(None))
    if filters.sla_state:
        conds.append(_state_expr(now) == filters.sla_state)
    return conds


def mention_view(m: Mention, now: datetime, policy: sla.SlaPolicy) -> dict[str, Any]:
    """One item of `GET /api/queue` (field names are part of the public API)."""
    status = sla.evaluate(m.posted_at, now, policy)
    claimed_by = m.claimed_by if m.status == "claimed" and not claim_expired(m, now) else None
    return {
        "id": m.id, "source": m.source, "channel": m.channel, "external_id": m.external_id,
        "url": m.url, "author": m.author, "author_name": m.author_name, "text": m.text,
        "language": m.language, "category": m.category, "urgency": m.urgency,
        "urgency_reasons": m.urgency_reasons, "posted_at": m.posted_at.isoformat(),
        "due_at": m.due_at.isoformat() if m.due_at else None,
        "seconds_left": status.seconds_left, "clock_running": status.clock_running,
        "sla_state": status.sla_state,
        "status": "claimed" if claimed_by else ("open" if m.status == "claimed" else m.status),
        "claimed_by": claimed_by, "backfill": m.backfill, "visibility": m.visibility,
        "followers": m.followers, "conversation_id": m.conversation_id,
    }


def claim_expired(m: Mention, now: datetime) -> bool:
    return m.claim_expires_at is not None and m.claim_expires_at <= now


async def list_queue(session: AsyncSession, filters: QueueFilters, now: datetime, policy: sla.SlaPolicy,
                     *, limit: int = 50, offset: int = 0, urgent_first: bool = False) -> dict[str, Any]:
    """Least time left first (the same minute: the most urgent first); `urgent_first` puts the
    urgency (threat to cancel, anger, reach, repeat contact) before the clock."""
    conds = _conditions(filters, now)
    order = (Mention.due_minute, Mention.urgency.desc(), Mention.due_at, Mention.id)
    if urgent_first:
        order = (Mention.urgency.desc(), *order)
    rows = (await session.exec(select(Mention).where(*conds).order_by(*order)
                               .limit(limit).offset(offset))).scalars().all()
    return {"items": [mention_view(m, now, policy) for m in rows], "total": await count_waiting(session, filters, now),
            "counts": await sla_counts(session, filters, now)}


async def sla_counts(session: AsyncSession, filters: QueueFilters, now: datetime) -> dict[str, int]:
    """Open mentions per SLA state (backfill stays out: it is outside the SLA)."""
    conds = _conditions(QueueFilters(**{**filters.__dict__, "sla_state": None}), now)
    state = _state_expr(now)
    result = await session.exec(select(state, func.count()).where(*conds, Mention.backfill.is_(False)).group_by(state))
    counts = dict.fromkeys(SLA_STATES, 0)
    counts.update({k: v for k, v in result.all()})
    return counts


def _answered_since(filters: QueueFilters, since: datetime) -> list:
    return [Mention.direction == "inbound", Mention.status == "answered", Mention.answered_at >= since,
            *_about(filters, Mention.answered_by)]


def _follow_ups_due(filters: QueueFilters, due_by: datetime) -> list:
    return [FollowUp.state == "pending", FollowUp.due_at <= due_by, *_about(filters, FollowUp.created_by)]


async def count_answered(session: AsyncSession, filters: QueueFilters, since: datetime) -> int:
    return (await session.exec(select(func.count()).select_from(Mention)
                               .where(*_answered_since(filters, since)))).scalar_one()


async def list_answered(session: AsyncSession, filters: QueueFilters, since: datetime, limit: int) -> list[Mention]:
    """Answered since `since`, the latest first."""
    return list((await session.exec(select(Mention).where(*_answered_since(filters, since))
                                    .order_by(Mention.answered_at.desc()).limit(limit))).scalars())


async def count_follow_ups_due(session: AsyncSession, filters: QueueFilters, due_by: datetime) -> int:
    return (await session.exec(select(func.count()).select_from(FollowUp)
                               .join(Mention, Mention.id == FollowUp.mention_id)
                               .where(*_follow_ups_due(filters, due_by)))).scalar_one()


async def list_follow_ups_due(session: AsyncSession, filters: QueueFilters, due_by: datetime,
                              limit: int) -> list[tuple[FollowUp, Mention]]:
    """Pending promises due by `due_by`, the soonest first, with their mention."""
    return list((await session.exec(select(FollowUp, Mention).join(Mention, Mention.id == FollowUp.mention_id)
                                    .where(*_follow_ups_due(filters, due_by))
                                    .order_by(FollowUp.due_at).limit(limit))).all())


async def count_waiting(session: AsyncSession, filters: QueueFilters, now: datetime) -> int:
    return (await session.exec(select(func.count()).select_from(Mention)
                               .where(*_conditions(filters, now)))).scalar_one()


async def filter_choices(session: AsyncSession) -> dict[str, list[str]]:
    """The values the dashboard's drop-downs offer: what the stored mentions hold."""
    async def distinct(column) -> list[str]:
        rows = await session.exec(select(column).where(Mention.direction == "inbound", column.is_not(None))
                                  .distinct().order_by(column))
        return [value for value in rows.scalars() if value]
    return {"channel": await distinct(Mention.channel), "source": await distinct(Mention.source),
            "language": await distinct(Mention.language)}


async def count_mentions(session: AsyncSession) -> int:
    """Every mention stored, whatever its state."""
    return (await session.exec(select(func.count()).select_from(Mention))).scalar_one()


async def oldest_open(session: AsyncSession) -> Mention | None:
    return (await session.exec(select(Mention).where(waiting_inbound(), Mention.backfill.is_(False))
                               .order_by(Mention.posted_at).limit(1))).scalars().first()


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
    thread = (await session.exec(select(Mention).where(or_(Mention.id == root, Mention.conversation_id == root))
                                 .order_by(Mention.posted_at))).scalars().all()
    view["conversation"] = [{"id": t.id, "direction": t.direction, "author": t.author, "text": t.text,
                             "posted_at": t.posted_at.isoformat(), "status": t.status, "url": t.url}
                            for t in thread]
    replies = (await session.exec(select(Reply).where(Reply.mention_id == m.id)
                                  .order_by(Reply.created_at))).scalars().all()
    view["replies"] = [{"id": r.id, "author": r.author, "text": r.text, "created_at": r.created_at.isoformat(),
                        "state": r.state, "url": r.remote_url or r.elsewhere_url, "error": r.error}
                       for r in replies]
    notes = (await session.exec(select(Note).where(Note.mention_id == m.id).order_by(Note.created_at))).scalars()
    view["notes"] = [{"id": n.id, "author": n.author, "text": n.text, "created_at": n.created_at.isoformat()}
                     for n in notes]
    follow_ups = (await session.exec(select(FollowUp).where(FollowUp.mention_id == m.id)
                                     .order_by(FollowUp.due_at))).scalars()
    view["follow_ups"] = [follow_up_view(f, now) for f in follow_ups]
    earlier = (await session.exec(select(Mention).where(
        Mention.channel == m.channel, Mention.author == m.author, Mention.id != m.id,
        Mention.direction == "inbound", or_(Mention.conversation_id.is_(None), Mention.conversation_id != root))
        .order_by(Mention.posted_at.desc()).limit(10))).scalars()
    view["author_history"] = [{"id": e.id, "text": e.text, "posted_at": e.posted_at.isoformat(), "status": e.status,
                               "category": e.category, "answered_by": e.answered_by,
                               "dismiss_reason": e.dismiss_reason} for e in earlier]
    return view
