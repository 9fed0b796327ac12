"""Background work never dies silently: a polling loop survives the database failing under
it, a job that dies anyway is restarted, and a source nobody polls stops looking healthy."""
from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from app.core.models import Event, Mention, SourceState
from app.intake import scheduler, worker
from app.intake.health import OVERDUE_AFTER, health_view
from app.intake.scheduler import SourceRunner
from app.intake.worker import Worker
from connectors.registry import build_connector
from tests.support.app import PUSH_SECRET_ENV, make_config
from tests.support.connectors.conformance import served
from tests.support.connectors.fake_mastodon import TOKEN, FakeMastodon

pytestmark = pytest.mark.asyncio


def masto_toml(base_url: str) -> str:
    return (f'[[sources]]\nname = "push"\nkind = "webhook"\nsecret_env = "{PUSH_SECRET_ENV}"\n\n'
            f'[[sources]]\nname = "masto"\nkind = "mastodon"\nbase_url = "{base_url}"\nnotifications = true\n'
            f'token_env = "TEST_MASTODON_TOKEN"\ninterval_seconds = 5\n')


async def until(predicate, timeout: float):
    for _ in range(int(timeout * 10)):
        if await predicate():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"not reached within {timeout} s")


async def test_a_polling_loop_survives_database_errors_and_shows_them_meanwhile(ctx, tmp_path, monkeypatch,
                                                                                 caplog):
    monkeypatch.setenv("TEST_MASTODON_TOKEN", TOKEN)
    monkeypatch.setattr(scheduler, "TROUBLE_RETRY_SECONDS", 1)   # retry within a second or two
    async with served(FakeMastodon()) as fake:
        ctx.config = make_config(tmp_path, masto_toml(fake.base_url))
        source = ctx.source("masto")
        runner = SourceRunner(ctx, source, build_connector(source.connector_settings(), ctx.http()))
        real_acquire, failures = runner._acquire, []

        async def locked(now):   # what SQLite's "database is locked" or a PostgreSQL restart raise
            if len(failures) < 2:
                failures.append(now)
                raise OperationalError("UPDATE source_state ...", {}, Exception("database is locked"))
            return await real_acquire(now)

        monkeypatch.setattr(runner, "_acquire", locked)
        fake.mention_brand(fake.customers[0], "Al dagen geen internet")
        stop = asyncio.Event()
        with caplog.at_level(logging.WARNING, logger="app.intake.scheduler"):
            task = asyncio.create_task(runner.run(stop))

            async def stored():
                async with ctx.db.read() as s:
                    return (await s.exec(select(Mention.id).where(Mention.source == "masto"))).first()
            await until(stored, timeout=source.interval_seconds + 30)
            stop.set()
            await asyncio.wait_for(task, 40)
    assert len(failures) == 2
    assert "source masto: could not poll (OperationalError)" in caplog.text
    assert "[database unavailable: OperationalError]" in caplog.text and "Traceback" not in caplog.text
    async with ctx.db.read() as s:
        health = [e.data["status"] for e in (await s.exec(
            select(Event).where(Event.type == "source.health", Event.source == "masto").order_by(Event.id))).scalars()]
        state = await s.get(SourceState, "masto")
    assert health == ["failing", "ok"] and state.health == "ok"


async def test_a_job_that_dies_anyway_is_restarted_and_logged(ctx, monkeypatch, caplog):
    monkeypatch.setattr(worker, "RESTART_MAX_SECONDS", 0.01)
    runs = []

    async def flaky():
        runs.append(len(runs))
        if len(runs) < 3:
            raise RuntimeError("the database went away")

    with caplog.at_level(logging.ERROR, logger="app.intake.worker"):
        await asyncio.wait_for(Worker(ctx)._supervised("flaky", flaky), 5)
    assert runs == [0, 1, 2]
    assert caplog.text.count("background job flaky stopped; restarting it") == 2


async def test_a_source_nobody_polls_any_more_shows_as_failing(ctx, tmp_path):
    ctx.config = make_config(tmp_path, masto_toml("https://social.example"))
    source, now = ctx.source("masto"), ctx.now()
    state = SourceState(source="masto", kind="mastodon", created_at=now - timedelta(hours=1), health="ok",
                        last_success_at=now - OVERDUE_AFTER - timedelta(seconds=10),
                        next_poll_at=now - OVERDUE_AFTER + timedelta(seconds=5))
    assert health_view(source, state, now)["status"] == "ok"
    state.next_poll_at = now - OVERDUE_AFTER - timedelta(seconds=1)
    view = health_view(source, state, now)
    assert view["status"] == "failing" and view["overdue"] and "is a worker running?" in view["last_error"]
