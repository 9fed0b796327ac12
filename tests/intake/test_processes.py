"""Separate processes, as deployed: `webcare worker` polling a fake Mastodon fills the live
dashboard of a `webcare serve --no-worker`; a worker killed between fetch and commit loses
nothing and stores nothing twice after a restart."""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import func, select, update

from app.core.config import Settings
from app.core.context import AppContext
from app.core.db import Database
from app.core.models import Mention, SourceState
from tests.support.app import add_user, bearer, free_port, make_config, write_config
from tests.support.connectors.conformance import serve
from tests.support.connectors.fake_mastodon import TOKEN, FakeMastodon
from tests.support.processes import WEBCARE, start, stop, wait_for

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]


@pytest_asyncio.fixture
async def setup(db_url, tmp_path):
    fake = FakeMastodon()
    async with serve(fake.app()) as url:
        fake.base_url = url
        config_text = f"""
[brand]
own_accounts = ["acme@social.example"]
[[sources]]
name = "masto"
kind = "mastodon"
base_url = "{url}"
notifications = true
token_env = "TEST_MASTODON_TOKEN"
interval_seconds = 5
"""
        write_config(tmp_path, config_text)
        env = {k: v for k, v in os.environ.items() if not k.startswith("WEBCARE_")}
        env.update(WEBCARE_DATABASE_URL=db_url, WEBCARE_CONFIG=str(tmp_path / "webcare.toml"),
                   WEBCARE_DATA_DIR=str(tmp_path), WEBCARE_SECRET_KEY="k" * 40, TEST_MASTODON_TOKEN=TOKEN)
        ctx = AppContext(settings=Settings(data_dir=tmp_path), config=make_config(tmp_path, config_text),
                         db=Database(db_url), secret_key="k" * 40)
        yield fake, env, ctx
        await ctx.db.dispose()


async def stored(ctx) -> int:
    async with ctx.db.read() as s:
        inbound = select(func.count()).select_from(Mention).where(Mention.direction == "inbound")
        return (await s.exec(inbound)).scalar_one()


async def test_separate_worker_fills_the_live_dashboard_of_a_web_only_server(setup):
    fake, env, ctx = setup
    for i, customer in enumerate(fake.customers):
        fake.mention_brand(customer, f"Storing nummer {i}: geen internet sinds vanochtend")
    port = free_port()
    web = start(env, "serve", "--no-worker", "--port", str(port))
    worker = None
    try:
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            async def healthy():
                try:
                    return (await client.get("/healthz")).status_code == 200
                except httpx.HTTPError:
                    return False
            await wait_for(healthy)
            token = await add_user(ctx, "viewer")
            seen: list[dict] = []

            async def listen():
                async with client.stream("GET", "/api/events", headers=bearer(token)) as response:
                    event = None
                    async for line in response.aiter_lines():
                        if line.startswith("event: "):
                            event = line[7:]
                        elif line.startswith("data: ") and event == "mention.created":
                            seen.append(json.loads(line[6:]))
                            if len(seen) == 3:
                                return

            listener = asyncio.create_task(listen())
            await asyncio.sleep(0.5)
            worker = start(env, "worker", "--no-migrate")
            await asyncio.wait_for(listener, 30)
        assert {e["source"] for e in seen} == {"masto"} and len({e["external_id"] for e in seen}) == 3
    finally:
        output = stop(web) + (stop(worker) if worker else "")
    assert "Traceback" not in output, output


async def test_worker_killed_between_fetch_and_commit_loses_nothing_and_stores_nothing_twice(setup):
    fake, env, ctx = setup
    subprocess.run([WEBCARE, "migrate"], env=env, check=True, capture_output=True, timeout=60)
    for customer in fake.customers:
        fake.mention_brand(customer, "Mijn pakket is zoek")
    crashing = start(env, "worker", "--no-migrate", WEBCARE_FAILPOINT="ingest-before-commit")

    async def exited():  # never block the loop: the fake Mastodon answers from it
        return crashing.poll() is not None
    await wait_for(exited)
    assert crashing.returncode == 137, stop(crashing)  # died holding a fetched, uncommitted batch
    stop(crashing)
    assert await stored(ctx) == 0
    async with ctx.db.read() as s:
        state = await s.get(SourceState, "masto")
    assert state is None or state.cursor is None
    # The dead worker's lease would run out after LEASE; move it into the past instead of waiting.
    async with ctx.db.write() as s:
        await s.execute(update(SourceState).values(lease_until=datetime.now(UTC) - timedelta(seconds=1)))

    fake.mention_brand(fake.customers[0], "En nu ook nog mijn factuur")  # arrives while we were down
    worker = start(env, "worker", "--no-migrate")
    try:
        async def all_four():
            return await stored(ctx) == 4
        await wait_for(all_four)
        await asyncio.sleep(6)  # one more poll interval over the same cursor
        async with ctx.db.read() as s:
            rows = (await s.exec(select(Mention.external_id).where(Mention.direction == "inbound"))).scalars().all()
        assert len(rows) == len(set(rows)) == 4
    finally:
        output = stop(worker)
    assert "Traceback" not in output, output
