"""Reading the queue: open mentions, most urgent first, with their SLA clock.

`warning_at` and `due_at` are stored at ingest, so filtering and counting by SLA state is
plain SQL; the exact seconds left (open time only) are computed for the page being shown.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Index, and_, case, func, literal_column
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app import sla
from app.core import sqlite_hints  # noqa: F401  (renders the INDEXED BY below)
from app.core.failpoints import failpoint
from app.core.models import FollowUp, Mention
from app.core.prepared import NOW, Moment, at, core_rows, prepared

# Waiting for an answer: nobody has it yet, or someone is on it. The one definition of an
# open mention; everything that asks "is it still waiting?" uses the helpers below.
OPEN_STATUSES = ("open", "claimed")
SLA_STATES = ("ok", "warning", "breached")


def open_status():
    """SQL: the mention still waits for its answer."""
    return col(Mention.status).in_(OPEN_STATUSES)


def is_open(m: Mention) -> bool:
    """The same rule for a loaded row."""
    return m.status in OPEN_STATUSES


def waiting_inbound():
    """SQL: in the queue: a customer's post, still waiting, not deleted by its author.

    The partial indexes below are built on this very expression, and a planner uses one only
    for a query that states its condition, so queries ask through this function. The values
    are literals, not parameters: SQLite cannot match a partial index against a `?`."""
    return and_(col(Mention.status).in_([sql_literal(s) for s in OPEN_STATUSES]),
                col(Mention.direction) == sql_literal("inbound"), col(Mention.removed).is_(False))


def answered_inbound():
    """SQL: a customer's post that has its answer (the condition of ix_mentions_answered, so,
    as above, stated with literals)."""
    return and_(col(Mention.status) == sql_literal("answered"), col(Mention.direction) == sql_literal("inbound"))


def sql_literal(value: str):
    """`value` as an SQL string literal (only for the constants above, never for user input)."""
    return literal_column(f"'{value}'")


# Only waiting mentions are in these, so reading the queue costs the same at 100k or 10M
# stored mentions. They live beside the rule they are built on; migration 0010 creates them
# and app/migrations/env.py imports this module so the metadata knows them.
# The queue's order, then every column its counts read, the condition's own included: SQLite
# counts from a partial index only when it covers them, and would otherwise walk
# ix_mentions_queue's thousands of rows per status once statistics exist.
# The holder and the team too (migration 0015): the "Mine", "Unassigned" and team tabs count
# from it as "All open" does.
Index("ix_mentions_waiting_queue", col(Mention.due_minute), col(Mention.urgency).desc(), col(Mention.due_at),
      col(Mention.id), col(Mention.warning_at), col(Mention.backfill), col(Mention.status), col(Mention.direction),
      col(Mention.removed), col(Mention.claimed_by), col(Mention.team),
      sqlite_where=waiting_inbound(), postgresql_where=waiting_inbound())
# The oldest waiting mention inside the SLA (backfill is outside it).
Index("ix_mentions_waiting_posted", col(Mention.posted_at),
      sqlite_where=and_(waiting_inbound(), col(Mention.backfill).is_(False)),
      postgresql_where=and_(waiting_inbound(), col(Mention.backfill).is_(False)))
# "Answered today": the answers since midnight, latest first, whatever was answered before
# (migration 0015). Covering its count, the condition's columns included, as above.
Index("ix_mentions_answered", col(Mention.answered_at), col(Mention.status), col(Mention.direction),
      col(Mention.answered_by), col(Mention.team),
      sqlite_where=answered_inbound(), postgresql_where=answered_inbound())
# The languages the filter offers, one index seek per language (see app/mentions/choices.py); the
# channels and sources have theirs already (ix_mentions_author, ix_mentions_source).
Index("ix_mentions_inbound_language", col(Mention.language),
      sqlite_where=col(Mention.direction) == sql_literal("inbound"),
      postgresql_where=col(Mention.direction) == sql_literal("inbound"))


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
    team: str | None = None     # routed to this team

    def any_set(self) -> bool:
        return any(value is not None for value in self.__dict__.values())


def text_contains(column, needle: str):
    """`column` contains `needle`, case-insensitively, with `%`, `_` and `\\` taken literally
    (a search for "50%" or "user_id" means those characters)."""
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.ilike(f"%{escaped}%", escape="\\")


def _state_expr(now: Moment):
    return case((_breached(now), "breached"), (_warned(now), "warning"), else_="ok")


def _breached(now: Moment):
    return col(Mention.due_at) <= now


def _warned(now: Moment):
    """Past the warning moment (breached too, perhaps: the breach comes first, as above)."""
    return col(Mention.warning_at) <= now


def _about(filters: QueueFilters, person_column) -> list:
    """The filters on what a mention is about (any status); `person` matches `person_column`."""
    conds = []
    for column, value in ((col(Mention.channel), filters.channel), (col(Mention.language), filters.language),
                          (col(Mention.category), filters.category), (col(Mention.source), filters.source),
                          (col(Mention.team), filters.team), (person_column, filters.person)):
        if value:
            conds.append(column == value)
    if filters.q:
        conds.append(text_contains(col(Mention.text), filters.q))
    return conds


def _conditions(filters: QueueFilters, now: Moment) -> list:
    conds = [waiting_inbound(), *_about(filters, col(Mention.claimed_by))]
    if filters.claimed is not None:
        claimed_by = col(Mention.claimed_by)
        conds.append(claimed_by.is_not(None) if filters.claimed else claimed_by.is_(None))
    if filters.sla_state:
        conds.append(_state_expr(now) == filters.sla_state)
    return conds


def mention_view(m: Mention, now: datetime, policy: sla.SlaPolicy) -> dict[str, Any]:
    """One item of `GET /api/queue` (field names are part of the public API)."""
    return queue_item(m, sla.ClockAt(now, policy))


# What a queue item reads, loaded for a page as plain rows: no ORM objects to build, and not
# the columns the queue never shows (the connector's raw payload above all).
ITEM_FIELDS = ("id", "source", "channel", "external_id", "url", "author", "author_name", "text", "language",
               "category", "urgency", "urgency_reasons", "posted_at", "due_at", "status", "claimed_by",
               "claim_expires_at", "backfill", "visibility", "followers", "conversation_id", "team", "assigned_to")
ITEM_COLUMNS = tuple(col(getattr(Mention, name)) for name in ITEM_FIELDS)


class Item(dict):
    """A queue item: a dict whose fields a template reads as attributes (`item.text`), some 30
    per row: its own dict is its attribute dict, so Jinja's getattr finds each at once (through
    __getattr__ it failed first, an exception per field)."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.__dict__ = self


def queue_item(m: Any, clock: sla.ClockAt, make: type[dict] = Item) -> dict[str, Any]:
    """`mention_view` of a Mention or an ITEM_COLUMNS row, with the clock of the whole page
    (`make`: a plain dict for JSON, which pydantic checks in half the time of a dict subclass)."""
    item = make((f, getattr(m, f)) for f in ITEM_FIELDS) if isinstance(m, Mention) else make(zip(ITEM_FIELDS, m,
                                                                                                   strict=True))
    seconds_left, sla_state = clock.reading(item["posted_at"])
    expires, claimed = item.pop("claim_expires_at"), item["status"] == "claimed"
    holder = item["claimed_by"] if claimed and not _expired(expires, clock.now) else None
    item.update(posted_at=item["posted_at"].isoformat(), due_at=item["due_at"] and item["due_at"].isoformat(),
                seconds_left=seconds_left, clock_running=clock.running, sla_state=sla_state, claimed_by=holder,
                status="claimed" if holder else ("open" if claimed else item["status"]))
    return item


def claim_expired(m: Any, now: datetime) -> bool:
    return _expired(m.claim_expires_at, now)


def _expired(claim_expires_at: datetime | None, now: datetime) -> bool:
    return claim_expires_at is not None and claim_expires_at <= now


def _page_order(column, urgent_first: bool) -> list:
    """The queue's order (`column`: a column by its name), least time left first, in the order of
    ix_mentions_waiting_queue (`urgent_first`: the urgency before the clock)."""
    order = [column("due_minute"), column("urgency").desc(), column("due_at"), column("id")]
    return [column("urgency").desc(), *order] if urgent_first else order


def queue_rows(filters: QueueFilters, now: Moment, *, limit: int = 50, offset: int = 0,
               urgent_first: bool = False):
    """SQL: a page of the queue, in `_page_order`."""
    order = _page_order(lambda name: col(getattr(Mention, name)), urgent_first)
    return sa.select(*ITEM_COLUMNS).where(*_conditions(filters, now)).order_by(*order).limit(limit).offset(offset)


def beside_page(summary, page, urgent_first: bool = False):
    """SQL: the one row of `summary` (counts) beside each row of `page` (a `queue_rows`), in the
    page's order: both in one round trip. Joined LEFT, so an empty page brings the summary too
    (beside NULLs)."""
    counted = summary.subquery("summary")
    rows = page.add_columns(col(Mention.due_minute).label("page_due_minute")).subquery("page")
    order = _page_order(lambda name: rows.c["page_due_minute" if name == "due_minute" else name], urgent_first)
    return sa.select(counted, rows).select_from(counted.outerjoin(rows, sa.true())).order_by(*order)


async def summary_and_page(session: AsyncSession, statement, width: int, params: dict[str, Any], now: datetime,
                           policy: sla.SlaPolicy, make: type[dict] = Item) -> tuple[list[Any], list[dict[str, Any]]]:
    """The row of a summary `width` columns wide and the items of a page of the queue, read
    together (`statement`: a `beside_page`, run with `params`). Through the session's connection,
    as Core: plain rows, no ORM result to build."""
    failpoint("queue-read")
    rows = await core_rows(session, statement, params)
    clock = sla.ClockAt(now, policy)
    items = [queue_item(row[width:width + len(ITEM_FIELDS)], clock, make) for row in rows if row[width] is not None]
    return list(rows[0][:width]), items


TALLY_WIDTH = 4   # the columns of `_tally`


def _tally(own: list, sla_state: str | None, now: Moment) -> list:
    """Four counts of the waiting mentions that also meet `own`: the `total` (in `sla_state` if
    given, backfill included), then, without backfill (outside the SLA), all, breached and
    warning (ok: the rest). Aggregates in one row: a GROUP BY on the state sorted every waiting
    mention through a temporary B-tree on SQLite."""
    selected = [*own, _state_expr(now) == sla_state] if sla_state else own
    in_sla = and_(*own, col(Mention.backfill).is_(False))
    return [func.count(case((and_(*selected), 1))) if selected else func.count(),
            func.count(case((in_sla, 1))),
            func.count(case((in_sla, case((_breached(now), 1))))),
            func.count(case((in_sla, case((_breached(now), sa.null()), (_warned(now), 1)))))]


def queue_tally(filters: QueueFilters, now: Moment):
    """SQL: the filtered queue's `total` and counts per SLA state, in one pass over the index."""
    return sa.select(*_tally([], filters.sla_state, now)).where(*_conditions(replace(filters, sla_state=None), now))


async def list_queue(session: AsyncSession, filters: QueueFilters, now: datetime, policy: sla.SlaPolicy,
                     *, limit: int = 50, offset: int = 0, urgent_first: bool = False) -> dict[str, Any]:
    """Least time left first (the same minute: the most urgent first); `urgent_first` puts the
    urgency (threat to cancel, anger, reach, repeat contact) before the clock."""
    statement = _queue_statement(filters, limit, offset, urgent_first)
    counted, items = await summary_and_page(session, statement, TALLY_WIDTH, {NOW: now}, now, policy, dict)
    total, counts = tally_totals(counted)
    return {"items": items, "total": total, "counts": counts}


@prepared
def _queue_statement(filters: QueueFilters, limit: int, offset: int, urgent_first: bool):
    now = at(NOW)
    page = queue_rows(filters, now, limit=limit, offset=offset, urgent_first=urgent_first)
    return beside_page(queue_tally(filters, now), page, urgent_first)


async def queue_totals(session: AsyncSession, filters: QueueFilters, now: datetime) -> tuple[int, dict[str, int]]:
    """The `total` and `counts` of `list_queue` without its rows."""
    return tally_totals((await session.execute(queue_tally(filters, now))).one())


async def queue_page_ids(session: AsyncSession, filters: QueueFilters, now: datetime, *, limit: int,
                         urgent_first: bool = False) -> list[int]:
    """The ids of the queue's first page, in its order: the same query as `list_queue`'s rows,
    read from the index alone (what a live page needs to put its rows in order)."""
    page = queue_rows(filters, now, limit=limit, urgent_first=urgent_first).with_only_columns(col(Mention.id))
    return [row.id for row in (await session.exec(page)).all()]


async def queue_items(session: AsyncSession, ids: list[int], now: datetime, policy: sla.SlaPolicy) -> list[dict]:
    """`mention_view` of the mentions `ids` (any order; ids not found are left out)."""
    if not ids:
        return []
    rows = await session.execute(sa.select(*ITEM_COLUMNS).where(col(Mention.id).in_(ids)))
    clock = sla.ClockAt(now, policy)
    return [queue_item(m, clock) for m in rows]


def tally_totals(counted: Sequence[int]) -> tuple[int, dict[str, int]]:
    """`total`: every mention the filters select (an SLA state filter included, backfill too);
    `counts`: per SLA state, whatever the state filter, without backfill (outside the SLA).
    From the four counts of `_tally`."""
    total, in_sla, breached, warning = counted
    return total, {"ok": in_sla - breached - warning, "warning": warning, "breached": breached}


async def sla_counts(session: AsyncSession, filters: QueueFilters, now: datetime) -> dict[str, int]:
    """Open mentions per SLA state (backfill stays out: it is outside the SLA)."""
    return (await queue_totals(session, replace(filters, sla_state=None), now))[1]


def oldest_open_query():
    """SQL: the longest-waiting mention inside the SLA, first in ix_mentions_waiting_posted."""
    return (select(Mention).where(waiting_inbound(), col(Mention.backfill).is_(False))
            .order_by(col(Mention.posted_at)).limit(1))


def _answered_since(filters: QueueFilters, since: Moment) -> list:
    return [answered_inbound(), col(Mention.answered_at) >= since, *_about(filters, col(Mention.answered_by))]


def _follow_ups_due(filters: QueueFilters, due_by: Moment) -> list:
    return [col(FollowUp.state) == "pending", col(FollowUp.due_at) <= due_by,
            *_about(filters, col(FollowUp.created_by))]


def _by_answered_at(query):
    """`query` read through ix_mentions_answered. With a filter the index does not hold (channel,
    language...) SQLite's estimate prefers ix_mentions_queue's `status = 'answered'`, every answer
    ever given; since midnight is never more than that, SQLite is told (PostgreSQL finds it)."""
    return query.with_hint(Mention.__table__, "INDEXED BY ix_mentions_answered", "sqlite")


def answered_count_query(filters: QueueFilters, since: Moment):
    """SQL: how many were answered since `since`."""
    return _by_answered_at(select(func.count()).select_from(Mention).where(*_answered_since(filters, since)))


def answered_query(filters: QueueFilters, since: datetime, limit: int):
    """SQL: answered since `since`, the latest first (the index backwards)."""
    return _by_answered_at(select(Mention).where(*_answered_since(filters, since))
                           .order_by(col(Mention.answered_at).desc()).limit(limit))


def follow_ups_count_query(filters: QueueFilters, due_by: Moment):
    """SQL: how many pending promises are due by `due_by`."""
    return (select(func.count()).select_from(FollowUp).join(Mention, col(Mention.id) == col(FollowUp.mention_id))
            .where(*_follow_ups_due(filters, due_by)))


async def count_answered(session: AsyncSession, filters: QueueFilters, since: datetime) -> int:
    return (await session.exec(answered_count_query(filters, since))).one()


async def list_answered(session: AsyncSession, filters: QueueFilters, since: datetime, limit: int) -> list[Mention]:
    """Answered since `since`, the latest first."""
    return list((await session.exec(answered_query(filters, since, limit))).all())


async def count_follow_ups_due(session: AsyncSession, filters: QueueFilters, due_by: datetime) -> int:
    return (await session.exec(follow_ups_count_query(filters, due_by))).one()


async def list_follow_ups_due(session: AsyncSession, filters: QueueFilters, due_by: datetime,
                              limit: int) -> list[tuple[FollowUp, Mention]]:
    """Pending promises due by `due_by`, the soonest first, with their mention."""
    return list((await session.exec(select(FollowUp, Mention)
                                    .join(Mention, col(Mention.id) == col(FollowUp.mention_id))
                                    .where(*_follow_ups_due(filters, due_by))
                                    .order_by(col(FollowUp.due_at)).limit(limit))).all())


# What a waiting tab sets on the filters ("Mine" the holder, "Unassigned" claimed, a team's tab
# the team); everything else a tab shares with the others.
TAB_FIELDS = ("person", "team", "claimed")


def tabs_count_query(tabs: Sequence[QueueFilters], now: Moment, shown: QueueFilters | None = None,
                     extra: Sequence[Any] = ()):
    """SQL, one row: how many waiting mentions each of `tabs` selects (one column per tab), then
    the four counts of `_tally` for `shown` (one of the tabs) and the `extra` scalar subqueries,
    in one pass over the waiting index. The tabs may differ only in TAB_FIELDS."""
    shared = {replace(tab, **dict.fromkeys(TAB_FIELDS)) for tab in tabs}
    assert len(shared) == 1, "the tabs differ in more than their own fields"
    common = shared.pop()
    in_state = [_state_expr(now) == common.sla_state] if common.sla_state else []

    def own(tab: QueueFilters) -> list:
        return _conditions(QueueFilters(**{field: getattr(tab, field) for field in TAB_FIELDS}), now)[1:]

    def counted(conds: list):
        return func.count(case((and_(*conds), 1))) if conds else func.count()
    tallied = _tally(own(shown), common.sla_state, now) if shown is not None else []
    return (sa.select(*(counted([*own(tab), *in_state]) for tab in tabs), *tallied, *extra)
            .where(*_conditions(replace(common, sla_state=None), now)))


async def count_tabs(session: AsyncSession, tabs: Sequence[QueueFilters], now: datetime) -> list[int]:
    """How many waiting mentions each of `tabs` selects, in their order."""
    return list((await session.execute(tabs_count_query(tabs, now))).one())


async def known_channels(session: AsyncSession) -> list[str]:
    """The channels mentions came from."""
    return list(await session.exec(select(Mention.channel).distinct().order_by(col(Mention.channel))))


async def oldest_open(session: AsyncSession) -> Mention | None:
    return (await session.exec(oldest_open_query())).first()
