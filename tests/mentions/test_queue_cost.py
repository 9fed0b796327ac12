"""What reading the queue costs the database, counted (not timed): the statements
`GET /api/queue` sends, and that its statement, built once and kept, reads each request's own
moment (app/core/prepared.py)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app.mentions.queries import QueueFilters, list_queue
from tests.support.app import add_user, bearer
from tests.support.push import mention, push
from tests.support.statements import counting

pytestmark = pytest.mark.asyncio


async def test_the_queue_api_sends_the_token_read_and_one_statement(app_client, ctx):
    assert (await push(app_client, [mention("a", 5), mention("b", 50)])).status_code == 202
    headers = bearer(await add_user(ctx, "anna"))
    assert (await app_client.get("/api/queue", headers=headers)).status_code == 200  # the token's first use is noted
    with counting(ctx.db.engine, this_task=True) as log:
        r = await app_client.get("/api/queue", headers=headers)
    assert r.json()["total"] == 2
    # The token, then the page with its counts; no BEGIN or ROLLBACK around them on either database.
    assert len(log.statements) == 2 and log.round_trips == 2, "\n".join(log.lines())


async def test_the_statement_built_once_reads_the_moment_it_runs_at(app_client, ctx):
    assert (await push(app_client, [mention("a", 5), mention("b", 10)])).status_code == 202
    now = ctx.now()
    async with ctx.db.quick_read() as session:
        fresh = await list_queue(session, QueueFilters(), now, ctx.policy)
        later = await list_queue(session, QueueFilters(), now + timedelta(days=3), ctx.policy)
        breached_now = await list_queue(session, QueueFilters(sla_state="breached"), now, ctx.policy)
        breached_later = await list_queue(session, QueueFilters(sla_state="breached"), now + timedelta(days=3),
                                          ctx.policy)
    assert fresh["counts"] == {"ok": 2, "warning": 0, "breached": 0}
    assert later["counts"] == {"ok": 0, "warning": 0, "breached": 2}
    assert (breached_now["total"], breached_later["total"]) == (0, 2)


async def test_the_dashboard_leaves_the_intake_window_to_the_sources_page(app_client, ctx):
    """The dashboard's strip of source health (refetched by every open page) shows each source's
    status only: no read of the source's posts of the last hour, which the sources page shows
    as its intake latency (a busy hour is thousands of rows per source)."""
    assert (await push(app_client, [mention("a", 5)])).status_code == 202
    headers = bearer(await add_user(ctx, "anna"))
    assert (await app_client.get("/", headers=headers)).status_code == 200

    def intake_reads(log) -> list[str]:
        return [s for s in log.statements if "mentions.fetched_at >=" in s]
    with counting(ctx.db.engine, this_task=True) as dashboard:
        assert (await app_client.get("/", headers=headers)).status_code == 200
    with counting(ctx.db.engine, this_task=True) as sources:
        r = await app_client.get("/api/sources", headers=headers)
    assert r.json()["sources"][0]["intake_posts"] == 1 and len(intake_reads(sources)) == 1
    assert intake_reads(dashboard) == [], "\n".join(dashboard.lines())
