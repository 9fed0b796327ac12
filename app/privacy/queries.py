"""Finding one person's data: their posts by handle (optionally in one channel) and the
brand's own posts answering them, and counting what is held about those."""
from __future__ import annotations

from sqlalchemy import func, select, tuple_
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.models import AlertOutbox, AuditEntry, Event, FollowUp, Mention, Note, Reply, ReplyApproval
from app.privacy.scrub import SPIKE_LAG, Counts

CHUNK = 500  # ids per IN (...): SQLite takes at most 32,766 parameters per statement


def normalise_handle(author: str) -> str:
    """What people type: `@alice@server`, ` Alice ` → `alice@server`, `alice`."""
    return author.strip().removeprefix("@").lower()


def by_handle(author: str, channel: str | None = None):
    """SQL: posts by this handle, case-insensitively, with or without a leading @."""
    handle = normalise_handle(author)
    condition = func.lower(Mention.author).in_([handle, "@" + handle])
    return condition & (Mention.channel == channel) if channel else condition


def chunks(ids: list[int]) -> list[list[int]]:
    return [ids[i:i + CHUNK] for i in range(0, len(ids), CHUNK)]


async def person_mentions(session: AsyncSession, author: str, channel: str | None = None) -> list[Mention]:
    """Their posts (not purged yet), oldest first, then the brand's posts answering them:
    our replies quote and name the person."""
    if not normalise_handle(author):
        return []
    theirs = list((await session.exec(select(Mention).where(by_handle(author, channel), Mention.purged_at.is_(None))
                                      .order_by(Mention.posted_at, Mention.id))).scalars())
    keys = [(m.channel, m.external_id) for m in theirs]
    ours: list[Mention] = []
    for start in range(0, len(keys), CHUNK):
        ours += (await session.exec(select(Mention).where(
            Mention.direction == "outbound", Mention.purged_at.is_(None),
            tuple_(Mention.channel, Mention.in_reply_to).in_(keys[start:start + CHUNK]))
            .order_by(Mention.posted_at, Mention.id))).scalars()
    seen = {m.id for m in theirs}
    return theirs + [m for m in ours if m.id not in seen]


async def _count(session: AsyncSession, column, ids: list[int], *extra) -> int:
    total = 0
    for part in chunks(ids):
        total += (await session.execute(select(func.count()).where(column.in_(part), *extra))).scalar_one()
    return total


async def spikes_quoting(session: AsyncSession, mentions: list[Mention]) -> list[tuple[AlertOutbox, int]]:
    """Spike alerts (they have no mention_id) quoting one of these mentions as an example,
    with the id quoted: examples are posted in the quarter-hour before the alert."""
    if not mentions:
        return []
    ids = {m.id for m in mentions}
    rows = (await session.exec(select(AlertOutbox).where(
        AlertOutbox.kind == "spike", AlertOutbox.created_at >= min(m.posted_at for m in mentions),
        AlertOutbox.created_at <= max(m.posted_at for m in mentions) + SPIKE_LAG).order_by(AlertOutbox.id))).scalars()
    return [(row, example["id"]) for row in rows
            for example in ((row.payload.get("alert") or {}).get("extra") or {}).get("examples") or []
            if example.get("id") in ids]


async def held_counts(session: AsyncSession, mentions: list[Mention]) -> Counts:
    """How many rows of each kind hold something about these mentions."""
    ids = [m.id for m in mentions]
    spikes = {row.id for row, _ in await spikes_quoting(session, mentions)}
    replies = await _count(session, Reply.mention_id, ids) + await _count(session, ReplyApproval.mention_id, ids)
    return Counts(mentions=len(ids), replies=replies,
                  notes=await _count(session, Note.mention_id, ids),
                  follow_ups=await _count(session, FollowUp.mention_id, ids),
                  events=await _count(session, Event.mention_id, ids),
                  alerts=await _count(session, AlertOutbox.mention_id, ids) + len(spikes),
                  audit=await _count(session, AuditEntry.mention_id, ids))


async def known_channels(session: AsyncSession) -> list[str]:
    return list((await session.exec(select(Mention.channel).distinct().order_by(Mention.channel))).scalars())
