"""The queue is read from the partial indexes on waiting mentions, on both databases and with
statistics gathered: its page, its counts and the oldest waiting mention never scan the
mentions table, so their cost follows the open queue, not the history."""
from __future__ import annotations

import pytest
import pytest_asyncio
from sqlalchemy import insert

from app.core.models import Mention, utcnow
from app.mentions.queries import QueueFilters, oldest_open_query, queue_rows, queue_tally
from tests.support.plans import gather_statistics, mention_row, plan

pytestmark = pytest.mark.asyncio
HANDLED, WAITING = 4000, 40


@pytest_asyncio.fixture
async def history(ctx):
    """Mostly handled mentions, a few waiting (some backfill), statistics gathered."""
    now = utcnow()
    rows = [mention_row(n, "answered" if n % 2 else "dismissed", now) for n in range(HANDLED)]
    rows += [mention_row(HANDLED + n, "claimed" if n % 4 == 0 else "open", now, backfill=n % 10 == 0)
             for n in range(WAITING)]
    async with ctx.db.write() as session:
        await session.execute(insert(Mention.__table__), rows)
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
