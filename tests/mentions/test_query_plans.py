"""The queue is read from the partial indexes on waiting mentions, on both databases and with
statistics gathered: its page, its counts, every tab's count and the oldest waiting mention
never scan the mentions table, so their cost follows the open queue, not the history; nor do
"Answered today", the follow-ups due or the filter's choices."""
from __future__ import annotations

from datetime import timedelta

import pytest
import pytest_asyncio
from sqlalchemy import insert, select
from sqlmodel import col

from app.core.models import FollowUp, Mention, utcnow
from app.mentions.choices import choices_query, distinct_values, filter_choices
from app.mentions.queries import (
    QueueFilters,
    answered_count_query,
    answered_query,
    beside_page,
    count_tabs,
    follow_ups_count_query,
    list_queue,
    oldest_open_query,
    queue_rows,
    queue_tally,
    queue_totals,
    tabs_count_query,
    tally_totals,
)
from tests.support.plans import gather_statistics, mention_row, plan

pytestmark = pytest.mark.asyncio
HANDLED, WAITING = 4000, 40


@pytest_asyncio.fixture
async def history(ctx):
    """Mostly handled mentions, a few waiting (some backfill), statistics gathered."""
    now = utcnow()
    rows = [mention_row(n, "answered" if n % 2 else "dismissed", now) for n in range(HANDLED)]
    for n, row in enumerate(rows):   # answered over 100 days, a few today
        if row["status"] == "answered":
            row.update(answered_at=now - timedelta(hours=n % 2400), answered_by=f"agent{n % 5}")
    rows += [mention_row(HANDLED + n, "claimed" if n % 4 == 0 else "open", now, backfill=n % 10 == 0)
             for n in range(WAITING)]
    for n, row in enumerate(rows):
        row.update(language=("nl", "en", "de")[n % 3], team=("billing", None)[n % 2],
                   claimed_by="ann" if row["status"] == "claimed" else None)
    async with ctx.db.write() as session:
        await session.execute(insert(Mention.__table__), rows)
        ids = (await session.execute(select(col(Mention.id)))).scalars().all()
        # Promises kept or missed long ago, a few still pending.
        await session.execute(insert(FollowUp.__table__), [
            {"mention_id": i, "created_by": "ann", "created_at": now - timedelta(hours=n % 2400),
             "due_at": now - timedelta(hours=n % 2400) + timedelta(hours=4),
             "state": "pending" if n % 100 == 0 else ("kept" if n % 2 else "missed")}
            for n, i in enumerate(ids[:HANDLED // 2])])
    async with ctx.db.write() as session:
        await gather_statistics(session)
    return now


def assert_uses(found: str, index: str) -> None:
    assert index in found, found
    assert "Seq Scan on mentions" not in found, found                      # PostgreSQL
    assert not any(line.strip() == "SCAN mentions" for line in found.splitlines()), found   # SQLite


async def test_the_queue_page_walks_the_partial_index_in_its_order(ctx, history):
    async with ctx.db.read() as session:
        found = await plan(session, queue_rows(QueueFilters(), history, limit=100))
    assert_uses(found, "ix_mentions_waiting_queue")
    assert "TEMP B-TREE FOR ORDER BY" not in found and "Sort" not in found, found  # no sort: index order


async def test_the_queue_counts_come_from_the_partial_index(ctx, history):
    async with ctx.db.read() as session:
        found = await plan(session, queue_tally(QueueFilters(), history))
    assert_uses(found, "ix_mentions_waiting_queue")


async def test_the_oldest_waiting_mention_is_the_first_entry_of_its_index(ctx, history):
    async with ctx.db.read() as session:
        found = await plan(session, oldest_open_query())
    assert_uses(found, "ix_mentions_waiting_posted")
    assert "TEMP B-TREE" not in found and "Sort" not in found, found


async def test_every_waiting_tab_is_counted_in_one_pass_over_the_partial_index(ctx, history):
    tabs = [QueueFilters(), QueueFilters(person="ann"), QueueFilters(claimed=False), QueueFilters(team="billing")]
    async with ctx.db.read() as session:
        found = await plan(session, tabs_count_query(tabs, history))
        counted = await count_tabs(session, tabs, history)
        mine = await plan(session, queue_tally(tabs[1], history))
    assert_uses(found, "ix_mentions_waiting_queue")
    assert_uses(mine, "ix_mentions_waiting_queue")
    # 40 waiting, every fourth claimed by ann, every second in billing.
    assert counted == [WAITING, WAITING // 4, WAITING - WAITING // 4, WAITING // 2]


async def test_answered_today_is_counted_and_listed_from_its_index(ctx, history):
    today = history - timedelta(hours=10)
    async with ctx.db.read() as session:
        count = await plan(session, answered_count_query(QueueFilters(), today))
        listed = await plan(session, answered_query(QueueFilters(), today, 100))
        mine = await plan(session, answered_count_query(QueueFilters(person="agent1"), today))
        team = await plan(session, answered_count_query(QueueFilters(team="billing"), today))
        channel = await plan(session, answered_count_query(QueueFilters(channel="push"), today))
    for found in (count, listed, mine, team, channel):
        assert_uses(found, "ix_mentions_answered")
    assert "TEMP B-TREE" not in listed and "Sort" not in listed, listed   # the index's order, backwards


async def test_follow_ups_due_are_counted_without_reading_the_mentions(ctx, history):
    async with ctx.db.read() as session:
        found = await plan(session, follow_ups_count_query(QueueFilters(), history + timedelta(hours=1)))
    assert "Seq Scan on follow_ups" not in found, found
    assert not any(line.strip() == "SCAN follow_ups" for line in found.splitlines()), found
    assert_uses(found, "ix_follow_ups_")


# The channel leads two indexes (the unique one with external_id, ix_mentions_author): either will do.
@pytest.mark.parametrize(("column", "index"), [(col(Mention.channel), "mentions_"),
                                                (col(Mention.source), "ix_mentions_source"),
                                                (col(Mention.language), "ix_mentions_inbound_language")])
async def test_the_filter_choices_jump_through_an_index(ctx, history, column, index):
    async with ctx.db.read() as session:
        found = await plan(session, distinct_values(column))
        values = (await session.execute(distinct_values(column))).scalars().all()
    assert_uses(found, index)
    expected = {"channel": ["push"], "source": ["push"], "language": ["de", "en", "nl"]}[column.key]
    assert values == expected


async def test_the_dashboard_counts_every_tab_its_queue_and_oldest_wait_in_one_pass(ctx, history):
    """Tabs, the shown queue's SLA counts, follow-ups due, answered today and the oldest wait:
    one statement, the same figures as asked one by one, and still no scan of the table."""
    tabs = [QueueFilters(), QueueFilters(person="ann"), QueueFilters(claimed=False), QueueFilters(team="billing")]
    today = history - timedelta(hours=10)
    extra = (follow_ups_count_query(QueueFilters(), history).scalar_subquery(),
             answered_count_query(QueueFilters(), today).scalar_subquery(),
             oldest_open_query().with_only_columns(col(Mention.posted_at)).scalar_subquery())
    query = tabs_count_query(tabs, history, tabs[2], extra)
    async with ctx.db.read() as session:
        found = await plan(session, query)
        row = list((await session.execute(query)).one())
        one_by_one = [*await count_tabs(session, tabs, history), await queue_totals(session, tabs[2], history),
                      (await session.execute(follow_ups_count_query(QueueFilters(), history))).scalar_one(),
                      (await session.execute(answered_count_query(QueueFilters(), today))).scalar_one(),
                      (await session.execute(oldest_open_query())).scalars().first().posted_at]
    assert_uses(found, "ix_mentions_waiting_queue")
    for index in ("ix_mentions_waiting_posted", "ix_mentions_answered", "ix_follow_ups_"):
        assert index in found, found
    assert [*row[:4], tally_totals(row[4:8]), *row[8:]] == one_by_one
    # 40 waiting: 30 unclaimed, of which 28 inside the SLA (2 of the backfill, every tenth).
    assert one_by_one[4][0] == 30 and sum(one_by_one[4][1].values()) == 28, one_by_one


async def test_the_filter_choices_are_read_in_one_statement_through_their_indexes(ctx, history):
    async with ctx.db.read() as session:
        found = await plan(session, choices_query())
        choices = await filter_choices(session)
    for index in ("ix_mentions_source", "ix_mentions_inbound_language"):
        assert index in found, found
    assert "Seq Scan on mentions" not in found, found
    assert choices == {"channel": ["push"], "source": ["push"], "language": ["de", "en", "nl"]}


async def test_the_queue_page_comes_with_its_counts_in_one_statement(ctx, history):
    """The page's rows in their order, each beside the counts, from the waiting index; an empty
    page still brings its counts."""
    tally, page = queue_tally(QueueFilters(), history), queue_rows(QueueFilters(), history, limit=100)
    async with ctx.db.read() as session:
        found = await plan(session, beside_page(tally, page))
        rows = (await session.execute(beside_page(tally, page))).all()
        alone = (await session.execute(page)).all()
        counted = tuple((await session.execute(tally)).one())
        empty = await list_queue(session, QueueFilters(channel="nowhere"), history, ctx.policy)
    assert_uses(found, "ix_mentions_waiting_queue")
    assert len(alone) == WAITING and counted[0] == WAITING
    assert [tuple(row[4:4 + len(alone[0])]) for row in rows] == [tuple(row) for row in alone]
    assert {tuple(row[:4]) for row in rows} == {counted}
    assert empty == {"items": [], "total": 0, "counts": {"ok": 0, "warning": 0, "breached": 0}}
