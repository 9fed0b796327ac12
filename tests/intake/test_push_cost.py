"""What a single-mention push costs the database, counted (not timed): a regression guard for
the write path, which at 50 pushes a second is CPU-bound on round trips (bench/load.py).
See bench/push_statements.py for the list itself."""
from __future__ import annotations

import pytest
from sqlmodel import select

from app.core.models import Mention, SourceState
from tests.support.push import mention, push
from tests.support.statements import counting

pytestmark = pytest.mark.asyncio

# PostgreSQL: BEGIN; erased-post check, repeat-contact read, routing rules, the mention, the
# receipt (ON CONFLICT: its lookup too), source state, the event rows; COMMIT; the source's
# counters (autocommit). SQLite: the same, with BEGIN IMMEDIATE a statement and a transaction
# around the counters. Before (2026-12-05): 26 on PostgreSQL (13 statements, 3 checkouts each
# pre-pinged with 3 round trips), 17 on SQLite.
MAX_ROUND_TRIPS = {"postgresql": 10, "sqlite": 12}
MAX_CHECKOUTS = 2


async def test_a_single_mention_push_stays_within_its_round_trips(app_client, ctx):
    assert (await push(app_client, [mention("first", author="anna")])).status_code == 202  # creates state
    with counting(ctx.db.engine, this_task=True) as log:
        r = await push(app_client, [mention("counted", author="bert")])
    assert r.json() == {"accepted": 1, "duplicates": 0}
    dialect = ctx.db.engine.dialect.name
    assert log.round_trips <= MAX_ROUND_TRIPS[dialect], "\n".join(log.lines())
    assert log.checkouts <= MAX_CHECKOUTS, "\n".join(log.lines())
    assert log.ping_round_trips == 0  # no pre-ping on every checkout (app/core/db.py)


async def test_a_replay_is_rolled_back_and_gets_the_first_answer(app_client, ctx):
    first = await push(app_client, [mention("r1")], msg_id="msg_replayed")
    with counting(ctx.db.engine, this_task=True) as log:
        again = await push(app_client, [mention("r1"), mention("r2")], msg_id="msg_replayed")
    assert again.json() == first.json() == {"accepted": 1, "duplicates": 0}
    assert not any(line.startswith("UPDATE source_state") for line in log.statements)  # not counted twice
    invalid_replay = await push(app_client, [{"external_id": ""}], msg_id="msg_replayed")
    assert invalid_replay.json() == first.json()
    async with ctx.db.read() as session:
        stored = (await session.exec(select(Mention.external_id))).all()
        fetched = (await session.get(SourceState, "push")).fetched_total
    assert (stored, fetched) == (["r1"], 1)  # nothing the replay carried, counted once
