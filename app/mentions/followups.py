"""Follow-up promises: reading them, and raising `follow_up_due` before a promise passes."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.errors import Invalid
from app.core.events import emit
from app.core.models import FollowUp, Mention

# Warn this long before the promised moment, so the team can still keep it.
DUE_WARNING = timedelta(minutes=10)


def local_moment(text: str, timezone: str) -> datetime:
    """A promised moment typed into a form: a datetime-local field has no zone, so a time
    without an offset is the team's local time."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise Invalid("not a date and time") from None
    return moment.replace(tzinfo=ZoneInfo(timezone)) if moment.tzinfo is None else moment


def follow_up_view(f: FollowUp, now: datetime) -> dict[str, Any]:
    return {"id": f.id, "mention_id": f.mention_id, "created_by": f.created_by, "note": f.note,
            "due_at": f.due_at.isoformat(), "seconds_left": int((f.due_at - now).total_seconds()),
            "state": f.state, "done_at": f.done_at and f.done_at.isoformat(), "done_by": f.done_by}


async def list_follow_ups(session: AsyncSession, state: str, limit: int) -> list[FollowUp]:
    return list((await session.exec(select(FollowUp).where(col(FollowUp.state) == state)
                                    .order_by(col(FollowUp.due_at)).limit(limit))).all())


async def raise_due_follow_ups(session: AsyncSession, now: datetime) -> list[int]:
    """`follow_up_due` once per pending promise whose moment is near or past."""
    due = (await session.exec(select(FollowUp).where(
        col(FollowUp.state) == "pending", col(FollowUp.alerted_at).is_(None),
        col(FollowUp.due_at) <= now + DUE_WARNING)
        # PostgreSQL: rows another worker is raising right now are its own; SQLite: serialised.
        .order_by(col(FollowUp.due_at)).with_for_update(skip_locked=True))).all()
    for f in due:
        f.alerted_at = now
        mention = await session.get(Mention, f.mention_id)
        assert mention is not None  # the foreign key keeps it
        await emit(session, "follow_up_due", mention_id=f.mention_id, source=mention.source,
                   data={"id": f.mention_id, "external_id": mention.external_id, "status": mention.status,
                         "follow_up_id": f.id, "due_at": f.due_at.isoformat(), "note": f.note,
                         "created_by": f.created_by})
    return [f.id for f in due if f.id is not None]  # stored rows: always
