"""One person across channels: a lead links the handle of the mention in front of them to a
handle on another channel, and the customer panel then shows that person's earlier mentions
everywhere. Rows with the same `person_id` are one person.

This is personal data about people who never signed up: erasure removes their rows (and a
group left with one handle, which then links nothing) and the access export lists them. The
audit trail says who linked or unlinked, when, on which mention and channels, but never copies
the handles themselves, so erasing a person leaves no handle behind in it."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts.principal import Principal
from app.core.errors import Invalid, NotFound
from app.core.models import AuditEntry, IdentityLink, Mention
from app.mentions.profiles import profile_url

MAX_HANDLE, MAX_CHANNEL = 512, 64


def normalise(handle: str) -> str:
    """What people type and what channels store: `@Alice`, ` alice ` are `alice`."""
    return handle.strip().removeprefix("@").lower()


def same_handle(channel_column, author_column, channel: str, author: str):
    """SQL: this handle on this channel, case-insensitively, with or without a leading @."""
    handle = normalise(author)
    return and_(channel_column == channel, func.lower(author_column).in_([handle, "@" + handle]))


async def _row(session: AsyncSession, channel: str, author: str) -> IdentityLink | None:
    return (await session.exec(select(IdentityLink).where(
        same_handle(col(IdentityLink.channel), col(IdentityLink.author), channel, author)))).first()


async def linked(session: AsyncSession, channel: str, author: str) -> list[IdentityLink]:
    """Every handle of the person with this handle (this one included); [] when it is linked to none."""
    row = await _row(session, channel, author)
    if row is None:
        return []
    return list(await session.exec(select(IdentityLink).where(col(IdentityLink.person_id) == row.person_id)
                                   .order_by(col(IdentityLink.channel), col(IdentityLink.author))))


def spellings(author: str) -> list[str]:
    """The ways a channel may have stored a handle typed as `author` (exact values, so the
    mentions' (channel, author) index answers)."""
    bare = author.strip().removeprefix("@")
    return sorted({v for b in (bare, bare.lower()) for v in (b, "@" + b)})


def handles_condition(handles: Iterable[tuple[str, str]]):
    """SQL: a mention by any of these (channel, handle) pairs."""
    return or_(*(and_(col(Mention.channel) == c, col(Mention.author).in_(spellings(a))) for c, a in handles))


def _audit(session: AsyncSession, who: Principal, action: str, mention_id: int | None, now: datetime,
           channels: list[str]) -> None:
    session.add(AuditEntry(at=now, actor=who.username, action=action, mention_id=mention_id,
                           detail={"channels": channels}))


def view(row: IdentityLink) -> dict[str, Any]:
    return {"id": row.id, "channel": row.channel, "author": row.author,
            "profile_url": profile_url(row.channel, row.author), "linked_by": row.created_by,
            "linked_at": row.created_at.isoformat()}


async def _add(session: AsyncSession, channel: str, author: str, person_id: int, who: Principal,
               now: datetime) -> IdentityLink:
    row = IdentityLink(person_id=person_id, channel=channel, author=author, created_by=who.username, created_at=now)
    session.add(row)
    await session.flush()
    return row


async def link(session: AsyncSession, mention_id: int, who: Principal, now: datetime, channel: str,
               author: str) -> list[IdentityLink]:
    """The mention's author and `author` on `channel` are one person (merging the people they
    were linked to before). Returns the person's handles."""
    mention = await session.get(Mention, mention_id)
    if mention is None or mention.direction != "inbound":
        raise NotFound("no such mention")
    channel, author = channel.strip().lower(), author.strip()
    if not channel or not normalise(author) or len(channel) > MAX_CHANNEL or len(author) > MAX_HANDLE:
        raise Invalid("give the channel and the handle of the same person there")
    if channel == mention.channel and normalise(author) == normalise(mention.author):
        raise Invalid("that is the handle of this mention")
    here, there = await _row(session, mention.channel, mention.author), await _row(session, channel, author)
    if here is None:
        # The first row of a new person names the person: its own id.
        here = await _add(session, mention.channel, mention.author, 0, who, now)
        assert here.id is not None
        here.person_id = here.id
    person_id = here.person_id
    if there is None:
        await _add(session, channel, author, person_id, who, now)
    elif there.person_id != person_id:  # two people known so far are one
        await session.exec(update(IdentityLink).where(col(IdentityLink.person_id) == there.person_id)
                           .values(person_id=person_id))
    _audit(session, who, "identity.link", mention_id, now, sorted({mention.channel, channel}))
    await session.flush()
    return await linked(session, mention.channel, mention.author)


async def unlink(session: AsyncSession, link_id: int, who: Principal, now: datetime,
                 mention_id: int | None) -> None:
    """This handle is not (or no longer) the same person as the others in its group."""
    row = await session.get(IdentityLink, link_id)
    if row is None:
        raise NotFound("no such link")
    await session.delete(row)
    await session.flush()
    await _drop_lonely(session, [row.person_id])
    _audit(session, who, "identity.unlink", mention_id, now, [row.channel])


async def _drop_lonely(session: AsyncSession, person_ids: Iterable[int]) -> int:
    """A person with one handle left links nothing: that row goes too."""
    dropped = 0
    for person_id in set(person_ids):
        rest = list(await session.exec(select(IdentityLink).where(col(IdentityLink.person_id) == person_id)))
        if len(rest) == 1:
            await session.delete(rest[0])
            dropped += 1
    await session.flush()
    return dropped


def _of_handle(author: str, channel: str | None):
    """SQL: the handle's rows on `channel`, or on every channel (as erasure and export ask)."""
    handle = normalise(author)
    conditions: list[ColumnElement[bool]] = [func.lower(col(IdentityLink.author)).in_([handle, "@" + handle])]
    if channel:
        conditions.append(col(IdentityLink.channel) == channel)
    return and_(*conditions)


async def forget(session: AsyncSession, author: str, channel: str | None) -> int:
    """Erasure: the handle's links (on `channel`, or on every channel) and what only they held
    together. Returns how many rows went."""
    rows = list(await session.exec(select(IdentityLink).where(_of_handle(author, channel))))
    if not rows:
        return 0
    await session.exec(delete(IdentityLink).where(col(IdentityLink.id).in_([r.id for r in rows])))
    return len(rows) + await _drop_lonely(session, [r.person_id for r in rows])


async def expire(session: AsyncSession, before: datetime) -> int:
    """Retention: links made before `before` whose handle has no mention left unpurged go (the
    person's posts are gone, so is the knowledge that they were theirs). Returns how many."""
    gone = []
    for row in await session.exec(select(IdentityLink).where(col(IdentityLink.created_at) < before)):
        kept = (await session.exec(select(Mention.id).where(
            handles_condition([(row.channel, row.author)]), col(Mention.purged_at).is_(None)).limit(1))).first()
        if kept is None:
            gone.append(row)
    for row in gone:
        await session.delete(row)
    await session.flush()
    return len(gone) + await _drop_lonely(session, [r.person_id for r in gone])


async def for_export(session: AsyncSession, author: str, channel: str | None) -> list[dict[str, Any]]:
    """The access export: each link of the handle, with the other handles of the same person."""
    persons = {r.person_id for r in await session.exec(select(IdentityLink).where(_of_handle(author, channel)))}
    if not persons:
        return []
    rows = await session.exec(select(IdentityLink).where(col(IdentityLink.person_id).in_(persons))
                              .order_by(col(IdentityLink.person_id), col(IdentityLink.channel)))
    return [{"channel": r.channel, "author": r.author, "linked_by": r.created_by,
             "linked_at": r.created_at.isoformat()} for r in rows]
