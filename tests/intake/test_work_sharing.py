"""Workers sharing sources on PostgreSQL, as deployed: real `webcare worker` processes polling
a fake Mastodon that keeps posting. One is SIGKILLed while it holds the source's lease, in the
middle of a batch: another takes the source over within the lease, and after twenty such kills
every post is stored exactly once."""
from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import func, select

from app.core.config import Settings
from app.core.context import AppContext
from app.core.db import Database
from app.core.models import Event, Mention, SourceState
from app.intake.scheduler import LOOK_AGAIN_SECONDS
from tests.support.app import POSTGRES_ONLY, make_config, write_config
from tests.support.connectors.conformance import served
from tests.support.connectors.fake_mastodon import TOKEN, FakeMastodon
from tests.support.processes import process_env, start, stop, wait_for

pytestmark = [pytest.mark.asyncio, pytest.mark.slow, POSTGRES_ONLY]
SLACK_SECONDS = 5.0   # after the lease ends: a poll's own time on a loaded 2-core machine


@dataclass
class Fleet:
    fake: FakeMastodon
    ctx: AppContext
    env: dict[str, str]
    workers: list
    posted: int = 0

    def post(self, n: int) -> None:
        for _ in range(n):
            self.posted += 1
            self.fake.clock = datetime.now(UTC)   # posted now, not on the fake's own 7 s steps
            self.fake.mention_brand(self.fake.customers[self.posted % len(self.fake.customers)],
                                    f"Bericht {self.posted}: mijn pakket is nog steeds zoek")

    async def first_poll_done(self) -> None:
        """A Mastodon source's first poll reads only the newest page of notifications (older
        ones are history, not backlog); what is posted after it must all arrive."""
        self.post(1)

        async def stored_one() -> bool:
            return await self.stored() >= 1
        await wait_for(stored_one, timeout=60, what="the first poll")

    def spawn(self) -> None:
        self.workers.append(start(self.env, "worker", "--no-migrate"))

    async def stored(self) -> int:
        async with self.ctx.db.read() as s:
            inbound = select(func.count()).select_from(Mention).where(Mention.direction == "inbound")
            return (await s.exec(inbound)).scalar_one()

    async def holder(self):
        """The live worker process holding the source's lease right now, if any."""
        async with self.ctx.db.read() as s:
            state = await s.get(SourceState, "masto", populate_existing=True)
        if state is None or state.lease_owner is None:
            return None
        pid = int(state.lease_owner.split(":")[1])
        return next((w for w in self.workers if w.pid == pid and w.poll() is None), None)


def fleet_config(base_url: str, lease_seconds: int) -> str:
    return (f'[brand]\nown_accounts = ["acme@social.example"]\n[worker]\nlease_seconds = {lease_seconds}\n'
            f'[[sources]]\nname = "masto"\nkind = "mastodon"\nbase_url = "{base_url}"\nnotifications = true\n'
            f'token_env = "TEST_MASTODON_TOKEN"\ninterval_seconds = 5\n')


@contextlib.asynccontextmanager
async def fleet(db_url: str, tmp_path: Path, lease_seconds: int) -> AsyncIterator[Fleet]:
    async with served(FakeMastodon()) as fake:
        toml = fleet_config(fake.base_url, lease_seconds)
        write_config(tmp_path, toml)
        ctx = AppContext(settings=Settings(data_dir=tmp_path), config=make_config(tmp_path, toml),
                         db=Database(db_url), secret_key="k" * 40)
        crew = Fleet(fake, ctx, process_env(db_url, tmp_path, TEST_MASTODON_TOKEN=TOKEN), [])
        try:
            yield crew
        finally:
            outputs = [stop(w) for w in crew.workers]
            await ctx.db.dispose()
            for output in outputs:   # the killed ones said nothing; the survivors no traceback
                assert "Traceback" not in output, output


@pytest_asyncio.fixture
async def feeder():
    """Runs `post(n)` every 0.1 s in the background until the test ends or calls stop."""
    tasks: list[asyncio.Task] = []

    def begin(fleet_: Fleet, per_tick: int) -> asyncio.Task:
        async def feed():
            while True:
                fleet_.post(per_tick)
                await asyncio.sleep(0.1)
        task = asyncio.create_task(feed())
        tasks.append(task)
        return task

    yield begin
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def kill_holder_mid_batch(crew: Fleet, rng: random.Random) -> float:
    """SIGKILL the worker holding the lease a moment into its batch; then how long until
    mentions are stored again (by a survivor)."""
    holder = await wait_for(crew.holder, timeout=60, what="a worker holding the lease")
    await asyncio.sleep(rng.uniform(0.1, 1.0))
    holder = await crew.holder() or holder   # it may have handed over meanwhile
    os.kill(holder.pid, signal.SIGKILL)
    killed = time.monotonic()
    await asyncio.to_thread(holder.wait, 10)
    crew.workers.remove(holder)
    crew.spawn()   # the replacement joins the fleet; a survivor is already there
    before = await crew.stored()

    async def resumed() -> bool:
        return await crew.stored() > before
    await wait_for(resumed, timeout=120, what="polling after the kill")
    return time.monotonic() - killed


@pytest.mark.timeout(600)
async def test_a_source_whose_worker_is_sigkilled_holding_the_lease_is_polled_again_within_30_s(
        db_url, tmp_path, feeder):
    async with fleet(db_url, tmp_path, lease_seconds=20) as crew:   # the default
        crew.spawn()
        crew.spawn()
        await crew.first_poll_done()
        feeder(crew, 5)   # 50 posts a second: the holder is always in a batch
        resumed_after = await kill_holder_mid_batch(crew, random.Random(1))
    print(f"polled again {resumed_after:.1f} s after the holder was killed (lease 20 s)")
    assert resumed_after < 30, resumed_after


@pytest.mark.timeout(1200)
async def test_twenty_sigkills_mid_batch_lose_nothing_and_store_nothing_twice(db_url, tmp_path, feeder):
    lease = 6
    async with fleet(db_url, tmp_path, lease_seconds=lease) as crew:
        crew.spawn()
        crew.spawn()
        await crew.first_poll_done()
        feed = feeder(crew, 5)
        rng = random.Random(20)
        resumes = [await kill_holder_mid_batch(crew, rng) for _ in range(20)]
        feed.cancel()
        await asyncio.gather(feed, return_exceptions=True)

        async def all_stored() -> bool:
            return await crew.stored() >= crew.posted
        await wait_for(all_stored, timeout=120, what=f"all {crew.posted} posts stored")
        await asyncio.sleep(LOOK_AGAIN_SECONDS + 1)   # one more poll over the same cursor
        async with crew.ctx.db.read() as s:
            ids = (await s.exec(select(Mention.external_id).where(Mention.direction == "inbound"))).scalars().all()
            created = (await s.exec(select(func.count()).select_from(Event)
                                    .where(Event.type == "mention.created"))).scalar_one()
    print(f"{crew.posted} posts, 20 kills; polling resumed after "
          f"{min(resumes):.1f}–{max(resumes):.1f} s (median {sorted(resumes)[10]:.1f} s; lease {lease} s)")
    assert len(ids) == len(set(ids)) == crew.posted          # nothing lost, nothing twice
    assert created == crew.posted                            # one "created" event per post
    assert max(resumes) < lease + SLACK_SECONDS, resumes   # taken over as the lease ends
