"""Removing the personal data of given mentions from every table, keeping every SLA figure.

One function, used by the daily retention purge and by an erasure: it runs inside the caller's
write transaction and touches only mentions not purged yet, so running it twice (two workers,
a retried job) changes nothing the second time.

What goes: the post's text, author handle and display name, URL, the connector's raw data, the
follower count, and what was copied from them: reply texts and links, replies that waited
for approval (with the lead's note), internal notes, follow-up notes, the author and text in
alert payloads (spike examples too), and event and audit details beyond ids and states. The
external id (and `in_reply_to` pointing at it) becomes a keyed hash (app/privacy/pseudonym.py).
What stays: ids, channel, source, category, language, urgency, every timestamp, status,
first-response seconds, within-target, responders (staff, not data subjects), dismiss reasons,
backfill: all a report needs.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, delete, or_, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.models import (
    AlertOutbox,
    AuditEntry,
    Event,
    FollowUp,
    Mention,
    Note,
    Reply,
    ReplyApproval,
    ReplyDraft,
)
from app.privacy.pseudonym import erased_id

# Event and audit details that hold no personal data (ids, states, staff names, times). Any
# other key is dropped from a purged mention's rows: new kinds of detail are safe by default.
EVENT_KEYS = frozenset({"id", "external_id", "status", "channel", "source", "claimed_by", "action", "removed",
                        "follow_up_id", "due_at", "created_by", "approval_id"})
AUDIT_KEYS = frozenset({"reply_id", "state", "first_response_seconds", "reason", "to", "holder", "note_id",
                        "follow_up_id", "due_at", "approval_id", "edited"})
# The follow-up alert's summary ends with the promise's note (app/alerts/messages.py).
NOTE_MARK = " Note: "
# Spike alerts name their examples (posted in the 15 minutes before) without a mention_id.
SPIKE_LAG = timedelta(hours=1)


@dataclass
class Counts:
    """How many rows held personal data of the purged mentions, per kind."""

    mentions: int = 0
    replies: int = 0
    notes: int = 0
    follow_ups: int = 0
    events: int = 0
    alerts: int = 0
    audit: int = 0
    identities: int = 0  # links of their handles to other handles (app/mentions/identities.py)

    @property
    def items(self) -> int:
        return sum(asdict(self).values())

    def add(self, other: Counts) -> None:
        for name, value in asdict(other).items():
            setattr(self, name, getattr(self, name) + value)

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def _scrub_event(data: Mapping[str, Any], key: bytes) -> dict[str, Any]:
    kept = {k: v for k, v in data.items() if k in EVENT_KEYS}
    if isinstance(kept.get("external_id"), str):
        kept["external_id"] = erased_id(key, kept["external_id"])
    return kept


def _scrub_alert(payload: Mapping[str, Any], ids: set[int], about_purged: bool) -> dict[str, Any]:
    """The payload without the purged mentions' author, text and link. `about_purged`: the row
    is about one of them (its own mention_id)."""
    alert = dict(payload.get("alert") or {})
    mention = alert.get("mention")
    if mention and (about_purged or mention.get("id") in ids):
        alert["mention"] = {**mention, "author": "", "text": "", "url": None}
    if about_purged and NOTE_MARK in (alert.get("summary") or ""):
        alert["summary"] = alert["summary"].split(NOTE_MARK)[0]
    extra = dict(alert.get("extra") or {})
    if examples := extra.get("examples"):
        extra["examples"] = [{**e, "author": "", "text": ""} if e.get("id") in ids else e for e in examples]
        alert["extra"] = extra
    return {**payload, "alert": alert} if "alert" in payload else dict(payload)


async def _rewrite(session: AsyncSession, column, changes: list[tuple[int, Any]]) -> None:
    """Set `column` per row id (JSON values computed in Python), as one executemany."""
    if not changes:
        return
    table = column.table
    stmt = (update(table).where(table.c.id == bindparam("b_id"))
            .values({column.name: bindparam("b_value", type_=column.type)}))
    connection = await session.connection()
    await connection.execute(stmt, [{"b_id": i, "b_value": v} for i, v in changes])


async def _scrub_mention_rows(session: AsyncSession, rows: Sequence, key: bytes, now: datetime) -> None:
    m = Mention.__table__
    connection = await session.connection()
    await connection.execute(
        update(m).where(m.c.id == bindparam("b_id"), m.c.purged_at.is_(None))
        .values(external_id=bindparam("b_ext"), in_reply_to=bindparam("b_reply"), text="", author="",
                author_name=None, url=None, raw=None, followers=None, purged_at=now),
        [{"b_id": r.id, "b_ext": erased_id(key, r.external_id),
          "b_reply": None if r.in_reply_to is None else erased_id(key, r.in_reply_to)} for r in rows])
    # Posts answering these keep their thread link, under the same stand-in id.
    await connection.execute(
        update(m).where(m.c.channel == bindparam("b_channel"), m.c.in_reply_to == bindparam("b_old"))
        .values(in_reply_to=bindparam("b_new")),
        [{"b_channel": r.channel, "b_old": r.external_id, "b_new": erased_id(key, r.external_id)} for r in rows])


async def _scrub_alerts(session: AsyncSession, ids: set[int], first: datetime, last: datetime) -> int:
    spikes = and_(AlertOutbox.kind == "spike", AlertOutbox.created_at >= first,
                  AlertOutbox.created_at <= last + SPIKE_LAG)
    rows = (await session.execute(select(AlertOutbox.id, AlertOutbox.mention_id, AlertOutbox.payload)
                                  .where(or_(AlertOutbox.mention_id.in_(ids), spikes)))).all()
    changes = []
    for row_id, mention_id, payload in rows:
        scrubbed = _scrub_alert(payload, ids, mention_id in ids)
        if scrubbed != payload or mention_id in ids:
            changes.append((row_id, scrubbed))
    await _rewrite(session, AlertOutbox.__table__.c.payload, changes)
    return len(changes)


async def _scrub_json_rows(session: AsyncSession, column, mention_column, ids: set[int], scrub) -> int:
    rows = (await session.execute(select(column.table.c.id, column).where(mention_column.in_(ids)))).all()
    scrubbed = [(row_id, value, scrub(value)) for row_id, value in rows]
    await _rewrite(session, column, [(row_id, new) for row_id, old, new in scrubbed if new != old])
    return len(rows)


async def scrub_mentions(session: AsyncSession, mention_ids: Iterable[int], key: bytes, now: datetime) -> Counts:
    """Purge the personal data of these mentions (those not purged yet) everywhere; returns
    how many rows of each kind held some. Inside the caller's write transaction."""
    wanted = sorted(set(mention_ids))
    if not wanted:
        return Counts()
    # SKIP LOCKED (PostgreSQL): a second worker purging at the same moment takes other rows.
    rows = (await session.execute(
        select(Mention.id, Mention.channel, Mention.external_id, Mention.in_reply_to, Mention.posted_at)
        .where(Mention.id.in_(wanted), Mention.purged_at.is_(None))
        .with_for_update(skip_locked=True))).all()
    if not rows:
        return Counts()
    ids = {r.id for r in rows}
    await _scrub_mention_rows(session, rows, key, now)
    counts = Counts(mentions=len(rows))
    counts.replies = (await session.execute(
        update(Reply).where(Reply.mention_id.in_(ids))
        .values(text="", remote_url=None, elsewhere_url=None, error=None))).rowcount
    # Replies that waited for approval count as replies: the proposed and sent text, the lead's note.
    counts.replies += (await session.execute(
        update(ReplyApproval).where(ReplyApproval.mention_id.in_(ids))
        .values(text="", sent_text=None, note=None, elsewhere_url=None, error=None))).rowcount
    counts.notes = (await session.execute(update(Note).where(Note.mention_id.in_(ids)).values(text=""))).rowcount
    # Unsent drafts quote and address the person: they go entirely.
    await session.execute(delete(ReplyDraft).where(ReplyDraft.mention_id.in_(ids)))
    counts.follow_ups = (await session.execute(
        update(FollowUp).where(FollowUp.mention_id.in_(ids)).values(note=None))).rowcount
    counts.events = await _scrub_json_rows(session, Event.__table__.c.data, Event.mention_id, ids,
                                           lambda data: _scrub_event(data, key))
    counts.audit = await _scrub_json_rows(session, AuditEntry.__table__.c.detail, AuditEntry.mention_id, ids,
                                          lambda detail: {k: v for k, v in detail.items() if k in AUDIT_KEYS})
    counts.alerts = await _scrub_alerts(session, ids, min(r.posted_at for r in rows), max(r.posted_at for r in rows))
    return counts
