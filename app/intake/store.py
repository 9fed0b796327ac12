"""The one way mentions enter the database, for every connector and the push route.

A batch and the source's new cursor are written in one transaction together with their event
rows. The unique key on (channel, external_id) absorbs overlap and redelivery, so a crash
before commit just means the batch is fetched again: nothing lost, nothing twice.
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import String, TextualSelect, and_, bindparam, column, or_, text, tuple_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app import sla
from app.core import metrics
from app.core.db import Database, insert_ignoring_conflicts
from app.core.events import emit_many, emit_mentions_created, mention_event_data
from app.core.failpoints import failpoint
from app.core.models import Mention, SourceState, UTCDateTime, table_of, utcnow
from app.core.sources import default_channel
from app.intake.enrich import Enrichment, enrich_default
from app.intake.health import set_health, source_state
from app.intake.routing import assign_new, route_rows
from app.intake.sanitize import clean_text, html_to_text, safe_url
from app.intake.validate import checked
from app.mentions.queries import is_open
from app.privacy.pseudonym import erased_id
from connectors.base import NewMention

if TYPE_CHECKING:
    from app.core.config import Config

REPEAT_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class SourceRef:
    """What ingest needs to know about the source that brought a batch."""

    name: str
    kind: str

    @property
    def default_channel(self) -> str:
        return default_channel(self.kind, self.name)


@dataclass
class IngestContext:
    policy: sla.SlaPolicy
    own_accounts: frozenset[str] = frozenset()
    enrich: Callable[..., Enrichment] = enrich_default
    exclude_terms: tuple[str, ...] = ()
    mute_authors: frozenset[str] = frozenset()
    # Keyword searches: a post must contain at least `min_terms` of these words.
    query_terms: tuple[str, ...] = ()
    min_terms: int = 1
    # Key of the stand-in ids of purged and erased posts (app/privacy/pseudonym.py); None: no check.
    erased_key: bytes | None = None
    # Teams and routing rules ([[teams]], [[routing]]); None: nothing is routed.
    config: Config | None = None


@dataclass
class IngestResult:
    accepted: int = 0
    duplicates: int = 0
    filtered: int = 0
    invalid: int = 0   # skipped: could not be stored as sent (absurd dates, no id)
    ids: list[int] = field(default_factory=list)


def _is_own(m: NewMention, own: frozenset[str]) -> bool:
    return m.outbound or m.author.lower() in own


def _row(m: NewMention, source: SourceRef, ctx: IngestContext, now: datetime,
         backfill_before: datetime | None, repeat: bool) -> dict[str, Any]:
    if m.posted_at.tzinfo is None:
        raise ValueError(f"{m.external_id}: posted_at must be timezone-aware")
    text = html_to_text(m.html) if m.html is not None else clean_text(m.text or "")
    outbound = _is_own(m, ctx.own_accounts)
    enrichment = ctx.enrich(text=text, language_tag=m.language, followers=m.followers, repeat=repeat)
    backfill = not outbound and backfill_before is not None and m.posted_at < backfill_before
    due = None if outbound else sla.due_at(m.posted_at, ctx.policy)
    return {
        "source": source.name,
        "channel": m.channel or source.default_channel,
        "external_id": m.external_id,
        "direction": "outbound" if outbound else "inbound",
        "url": safe_url(m.url),
        "author": m.author,
        "author_name": m.author_name,
        "text": text,
        "language": enrichment.language,
        "category": enrichment.category,
        "urgency": enrichment.urgency,
        "urgency_reasons": list(enrichment.urgency_reasons),
        "followers": m.followers,
        "visibility": m.visibility,
        "in_reply_to": m.in_reply_to,
        "raw": m.raw or None,
        "posted_at": m.posted_at,
        "fetched_at": now,
        "due_at": due,
        "due_minute": None if due is None else int(due.timestamp() // 60),
        "warning_at": None if outbound else sla.warning_at(m.posted_at, ctx.policy),
        "backfill": backfill,
        "removed": m.deleted,
        "edited_at": m.edited_at,
        "status": "answered" if outbound else "open",
    }


def _filtered_out(m: NewMention, ctx: IngestContext) -> bool:
    if m.author.lower() in ctx.mute_authors:
        return True
    body = (m.text or m.html or "").lower()
    if any(term.lower() in body for term in ctx.exclude_terms):
        return True
    if ctx.min_terms > 1 and ctx.query_terms:
        return sum(term in body for term in ctx.query_terms) < ctx.min_terms
    return False


def _insert_ignoring_duplicates(dialect: str):
    table = table_of(Mention)
    return (insert_ignoring_conflicts(dialect, table, "channel", "external_id")
            .returning(table.c.id, table.c.channel, table.c.external_id))


async def _insert(session: AsyncSession, rows: list[dict[str, Any]]) -> list[tuple[int, str, str]]:
    """Insert-or-ignore; returns (id, channel, external_id) of the rows actually inserted.

    Executemany with RETURNING lets SQLAlchemy batch the rows ("insertmanyvalues") with one
    cached statement, instead of compiling a fresh multi-row VALUES clause per batch."""
    if not rows:
        return []
    connection = await session.connection()
    result = await connection.execute(_insert_ignoring_duplicates(connection.dialect.name), rows)
    return [tuple(r) for r in result.all()]


AUTHORS_PER_READ = 500


@functools.lru_cache(maxsize=16)
def _latest_per_author(n: int) -> TextualSelect:
    """Each of `n` (channel, author) pairs with its latest post in [since, first).

    One index seek per author on (channel, author, posted_at), a VALUES table driving a
    correlated max(), so the read does not grow with the history (a range scan on posted_at
    did). Plain SQL, cached per batch size: SQLAlchemy compiles a VALUES construct anew for
    every batch, which cost more than the query. No filter on direction: it would make the
    database visit rows instead of reading the index's last entry, and the brand's accounts
    (the only outbound authors) are not customers anyway."""
    pairs = ", ".join(f"(:channel_{i}, :author_{i})" for i in range(n))
    return (text(f"WITH batch_authors (channel, author) AS (VALUES {pairs}) "
                 "SELECT channel, author, (SELECT max(m.posted_at) FROM mentions m "
                 "WHERE m.channel = batch_authors.channel AND m.author = batch_authors.author "
                 "AND m.posted_at >= :since AND m.posted_at < :first) AS latest FROM batch_authors")
            .bindparams(bindparam("since", type_=UTCDateTime()), bindparam("first", type_=UTCDateTime()))
            .columns(column("channel", String), column("author", String), column("latest", UTCDateTime())))


async def _repeat_contacts(session: AsyncSession, batch: Sequence[NewMention],
                           source: SourceRef) -> set[tuple[str, str]]:
    """Keys of posts whose author wrote to us before within REPEAT_WINDOW: repeated contacts
    about the same problem point at a structural cause, and the customer is waiting again.

    Two bounded reads instead of every earlier post of every author: for posts older than the
    whole batch only the latest per author matters (it is the closest one before any post in
    the batch); posts inside the batch's own time span (redeliveries, late arrivals) are read
    one by one, and there are few of them."""
    if not batch:
        return set()
    def channel(m: NewMention) -> str:
        return m.channel or source.default_channel
    authors = list({(channel(m), m.author) for m in batch})
    first, last = min(m.posted_at for m in batch), max(m.posted_at for m in batch)
    latest_before: dict[tuple[str, str], datetime] = {}
    channel_, author_, posted_at_ = col(Mention.channel), col(Mention.author), col(Mention.posted_at)
    earlier: dict[tuple[str, str], list[tuple[datetime, str]]] = {}
    # In chunks: a firehose batch can hold thousands of authors, and SQLite takes at most
    # 32,766 parameters per statement.
    for start in range(0, len(authors), AUTHORS_PER_READ):
        chunk = authors[start:start + AUTHORS_PER_READ]
        latest_before.update({(ch, author): at for ch, author, at in await session.execute(
            _latest_per_author(len(chunk)),
            {"since": first - REPEAT_WINDOW, "first": first,
             **{f"channel_{i}": ch for i, (ch, _) in enumerate(chunk)},
             **{f"author_{i}": author for i, (_, author) in enumerate(chunk)}})})
        if first == last:  # only posts before one in the batch count: none here (a single post)
            continue
        for ch, author, posted_at, ext in await session.exec(
                select(channel_, author_, posted_at_, col(Mention.external_id))
                .where(tuple_(channel_, author_).in_(chunk), col(Mention.direction) == "inbound",
                       posted_at_ >= first, posted_at_ < last)):
            earlier.setdefault((ch, author), []).append((posted_at, ext))
    for m in batch:
        earlier.setdefault((channel(m), m.author), []).append((m.posted_at, m.external_id))

    def repeated(m: NewMention) -> bool:
        key, since = (channel(m), m.author), m.posted_at - REPEAT_WINDOW
        before = latest_before.get(key)
        return (before is not None and before >= since) or any(
            since <= at < m.posted_at and ext != m.external_id for at, ext in earlier[key])
    return {(channel(m), m.external_id) for m in batch if repeated(m)}


async def _erased_before(session: AsyncSession, batch: Sequence[NewMention], channel_of,
                         key: bytes | None) -> set[tuple[str, str]]:
    """Keys of posts we held and purged or erased: a post still public (or its edit) fetched
    again must not come back. They are stored under a keyed hash of their external id."""
    if key is None or not batch:
        return set()
    hashed = {(channel_of(m), erased_id(key, m.external_id)): (channel_of(m), m.external_id) for m in batch}
    pairs, found = list(hashed), set()
    for start in range(0, len(pairs), AUTHORS_PER_READ):
        channel, external_id = col(Mention.channel), col(Mention.external_id)
        rows = await session.exec(select(channel, external_id).where(
            tuple_(channel, external_id).in_(pairs[start:start + AUTHORS_PER_READ])))
        found |= {hashed[(ch, ext)] for ch, ext in rows}
    return found


async def _apply_updates(session: AsyncSession, batch: Sequence[NewMention], channel_of) -> list[int]:
    """Edits and deletions of posts we already hold (the same external id seen again).
    Returns the ids that changed: a deletion seen twice or an edit not newer changes nothing."""
    changed: list[int] = []
    for m in batch:
        if not (m.deleted or m.edited_at):
            continue
        cond = and_(col(Mention.channel) == channel_of(m), col(Mention.external_id) == m.external_id)
        if m.deleted:
            values: dict[str, Any] = {"removed": True}
            cond = and_(cond, col(Mention.removed).is_(False))
        else:
            values = {"text": html_to_text(m.html) if m.html is not None else clean_text(m.text or ""),
                      "edited_at": m.edited_at}
            if m.raw:  # e.g. a new Bluesky cid: replies must reference the current version
                values["raw"] = m.raw
            edited_at = col(Mention.edited_at)
            cond = and_(cond, or_(edited_at.is_(None), edited_at < m.edited_at))
        result = await session.exec(update(Mention).where(cond).values(**values).returning(col(Mention.id)))
        changed.extend(result.scalars())
    return changed


async def _link_conversations(session: AsyncSession, ids: list[int], policy: sla.SlaPolicy) -> list[int]:
    """Thread new rows (`ids`: those answering another post) onto what they answer; our own
    reply closes the mention it answers.

    Returns the ids of mentions closed by a reply the team made in the channel's own app."""
    if not ids:
        return []
    # Oldest first: a reply and the answer to it can arrive in one batch, and the answer must
    # find its parent already threaded.
    new_rows = (await session.exec(select(Mention).where(col(Mention.id).in_(ids))
                                   .order_by(col(Mention.posted_at), col(Mention.id)))).all()
    keys = {(r.channel, r.in_reply_to) for r in new_rows}
    parents: dict[tuple[str, str | None], Mention] = {(p.channel, p.external_id): p for p in await session.exec(
        select(Mention).where(tuple_(col(Mention.channel), col(Mention.external_id)).in_(list(keys))))}
    closed: list[int] = []
    for row in new_rows:
        parent = parents.get((row.channel, row.in_reply_to))
        if parent is None:
            continue
        row.conversation_id = parent.conversation_id or parent.id
        if row.direction == "outbound" and parent.direction == "inbound" and is_open(parent):
            parent.status = "answered"
            parent.answered_at = row.posted_at
            parent.answered_by = f"{row.author} (in {row.channel})"
            parent.first_response_seconds = sla.first_response_seconds(parent.posted_at, row.posted_at, policy)
            parent.within_target = parent.first_response_seconds <= policy.target_minutes * 60
            parent.claimed_by = None
            assert parent.id is not None  # a stored row
            closed.append(parent.id)
    await session.flush()
    return closed


async def store_batch(session: AsyncSession, source: SourceRef, batch: Sequence[NewMention],
                      ctx: IngestContext, *, now: datetime | None = None,
                      backfill_before: datetime | None = None) -> IngestResult:
    """Insert a batch inside the caller's transaction and write its events. Posts that
    cannot be stored (see app/intake/validate.py) are skipped and counted as `invalid`."""
    now = now or utcnow()
    valid = [c for m in batch if (c := checked(m, now)) is not None]
    invalid, batch = len(batch) - len(valid), valid
    def channel_of(m: NewMention) -> str:
        return m.channel or source.default_channel

    # A deletion is never a new row, and noise filters judge new posts only: the edit or
    # deletion of a post we already hold must reach it even when it no longer matches.
    kept, changes_only = [], []
    for m in batch:
        if not m.deleted and not _filtered_out(m, ctx):
            kept.append(m)
        elif m.deleted or m.edited_at:
            changes_only.append(m)
    erased = await _erased_before(session, kept, channel_of, ctx.erased_key)
    fresh = [m for m in kept if (channel_of(m), m.external_id) not in erased]  # erased ones count as duplicates
    repeats = await _repeat_contacts(session, fresh, source)
    rows = [_row(m, source, ctx, now, backfill_before, (channel_of(m), m.external_id) in repeats) for m in fresh]
    assignees = await route_rows(session, ctx.config, rows)
    inserted = await _insert(session, rows)
    inserted_keys = {(channel, ext) for _, channel, ext in inserted}
    ids = [i for i, _, _ in inserted]

    redelivered = [m for m in fresh if (channel_of(m), m.external_id) not in inserted_keys]
    updated = await _apply_updates(session, redelivered + changes_only, channel_of)
    threaded = {(r["channel"], r["external_id"]) for r in rows if r["in_reply_to"]}
    closed = await _link_conversations(session, [i for i, ch, ext in inserted if (ch, ext) in threaded], ctx.policy)
    await assign_new(session, ctx.config, assignees, inserted, rows, now)

    await emit_mentions_created(session, ids)
    await _emit_updated(session, source, set(updated) | set(closed))
    metrics.observe_intake(source.name, ((now - r["posted_at"]).total_seconds() for r in rows
                                         if (r["channel"], r["external_id"]) in inserted_keys
                                         and r["direction"] == "inbound" and not r["backfill"]))
    return IngestResult(accepted=len(inserted), duplicates=len(kept) - len(inserted),
                        filtered=len(batch) - len(kept) - len(changes_only), invalid=invalid, ids=ids)


async def _emit_updated(session: AsyncSession, source: SourceRef, mention_ids: set[int]) -> None:
    events = []
    for mention_id in sorted(mention_ids):
        m = await session.get(Mention, mention_id, populate_existing=True)
        assert m is not None  # mentions are deleted only by erasure, never during ingest
        events.append(("mention.updated", mention_id, source.name, mention_event_data(m, removed=m.removed)))
    await emit_many(session, events)


async def apply_changes(db: Database, source: SourceRef, changes: Sequence[NewMention]) -> list[int]:
    """Edits and deletions found by looking posts up again (a connector's `verify`), with their
    events, in one transaction. Nothing is inserted, no filter applies (the posts are ours
    already) and the source's cursor and counters stay as they are. Returns the changed ids;
    a removed mention leaves the queue, and the event tells every open dashboard."""
    now = utcnow()
    changes = [c for m in changes if (c := checked(m, now)) is not None]
    async with db.write() as session:
        changed = await _apply_updates(session, changes, lambda m: m.channel or source.default_channel)
        await _emit_updated(session, source, set(changed))
    return changed


async def save_cursor(session: AsyncSession, source: SourceRef, cursor: dict[str, Any] | None, *,
                      now: datetime, fetched: int, skipped: int = 0, reads: int = 0) -> None:
    state = await source_state(session, source.name, source.kind, now)
    if cursor is not None:
        state.cursor = cursor
    state.last_poll_at = state.last_success_at = now
    state.last_error = state.last_error_kind = None
    state.consecutive_failures = 0
    state.down_since = None
    await set_health(session, state, "ok", None)
    state.fetched_total += fetched
    state.skipped_total += skipped
    state.reads_total += reads
    await session.flush()


def is_settled(state: SourceState | None) -> bool:
    """A source whose state row a success would not change but for its times and counters."""
    return (state is not None and state.health == "ok" and state.last_error is None
            and state.last_error_kind is None and state.down_since is None and state.consecutive_failures == 0)


async def ingest_batch(db: Database, source: SourceRef, batch: Sequence[NewMention], ctx: IngestContext,
                       *, cursor: dict[str, Any] | None = None, skipped: int = 0, reads: int = 0,
                       first_poll: bool = False, backfill_hours: int | None = None,
                       now: datetime | None = None) -> IngestResult:
    """Batch, cursor and events in one transaction (the crash rule: a crash before commit refetches,
    nothing lost, nothing twice).

    On a source's first poll, items older than the target are marked `backfill`."""
    now = now or utcnow()
    backfill_before = now - timedelta(minutes=ctx.policy.target_minutes) if first_poll else None
    if first_poll and backfill_hours is not None:
        oldest = now - timedelta(hours=backfill_hours)
        batch = [m for m in batch if m.posted_at >= oldest]
    async with db.write() as session:
        result = await store_batch(session, source, batch, ctx, now=now, backfill_before=backfill_before)
        await save_cursor(session, source, cursor, now=now, fetched=len(batch), skipped=skipped + result.invalid,
                          reads=reads)
        failpoint("ingest-before-commit")
    return result
