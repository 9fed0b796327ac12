"""The worker's start of a source: what only the running process can know about its settings."""
from __future__ import annotations

import asyncio

import pytest

from app.core.models import SourceState
from app.intake.worker import Worker
from tests.support.app import DEFAULT_TOML, make_config

pytestmark = pytest.mark.asyncio
MASTODON = """
[[sources]]
name = "masto"
kind = "mastodon"
base_url = "https://social.example"
notifications = true
token_env = "WEBCARE_TEST_UNSET_TOKEN"
"""


async def test_a_secret_missing_from_the_environment_shows_on_the_source(ctx, tmp_path, monkeypatch):
    # The config is valid (it names the variable) but the environment lacks it. The CLI refuses
    # to start then; a worker started without that check (in-process) must still not crash:
    # the source turns unhealthy saying which variable, and the other jobs run on.
    monkeypatch.delenv("WEBCARE_TEST_UNSET_TOKEN", raising=False)
    ctx.config = make_config(tmp_path, DEFAULT_TOML + MASTODON)
    worker = Worker(ctx)
    await worker.start()
    try:
        for _ in range(200):
            async with ctx.db.read() as session:
                state = await session.get(SourceState, "masto")
            if state is not None:
                break
            await asyncio.sleep(0.025)
        assert state is not None and state.health == "failing"
        assert state.last_error == ("configuration: mastodon source 'masto': token_env = 'WEBCARE_TEST_UNSET_TOKEN' "
                                    "names an environment variable that is empty or not set")
        assert not any(task.done() for task in worker._tasks if task.get_name() != "source:masto")
    finally:
        await worker.stop()
