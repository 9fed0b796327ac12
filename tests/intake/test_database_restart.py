"""`webcare worker` and `webcare serve` whose PostgreSQL server is stopped and started again
recover by themselves: the worker keeps polling, the web process answers 503 meanwhile.

The server is a private cluster made for this test with initdb on a spare port (never the
shared server), run as the `postgres` user: initdb refuses to run as root."""
from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from app.core.config import Settings
from app.core.context import AppContext
from app.core.db import Database
from app.core.migrate import upgrade
from app.core.models import Mention
from tests.support.app import PUSH_SECRET, PUSH_SECRET_ENV, free_port, make_config, need_or_skip, write_config
from tests.support.connectors.conformance import served
from tests.support.connectors.fake_mastodon import TOKEN, FakeMastodon
from tests.support.processes import process_env, start, stop, wait_for
from tests.support.push import mention, push

pytestmark = [pytest.mark.asyncio, pytest.mark.slow, pytest.mark.postgres]
INTERVAL = 5


def pg_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    if not found or shutil.which("runuser") is None or os.geteuid() != 0:
        need_or_skip("a private PostgreSQL cluster needs PostgreSQL's binaries, runuser and root")
    return found[-1].parent


class PrivateCluster:
    def __init__(self, folder: Path, port: int):
        self.bin, self.folder, self.port = pg_bin(), folder, port
        self.data = folder / "data"

    def _as_postgres(self, *args: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *args], check=True, capture_output=True, timeout=120)

    def init(self) -> None:
        shutil.chown(self.folder, "postgres", "postgres")
        self._as_postgres(str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres")

    def start(self) -> None:
        self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.data), "-w", "-l", str(self.folder / "log"),
                          "-o", f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1", "start")

    def stop(self) -> None:
        self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.data), "-w", "-m", "fast", "stop")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"


async def test_processes_ride_out_their_postgresql_restarting(tmp_path):
    """`webcare worker` and `webcare serve --no-worker` while their server stops and starts:
    neither crashes, /readyz says unavailable and a push is answered 503 with Retry-After
    meanwhile (the pusher retries it), readiness recovers by itself, nothing is lost, and the
    source polls again within its interval + 30 s."""
    # Not under tmp_path: the postgres user cannot enter root's pytest folders.
    cluster = PrivateCluster(Path(tempfile.mkdtemp(prefix="webcare-pg-")), free_port())
    cluster.init()
    cluster.start()
    worker = web = None
    try:
        await asyncio.to_thread(upgrade, cluster.url())
        async with served(FakeMastodon()) as fake:
            toml = (f'[[sources]]\nname = "masto"\nkind = "mastodon"\nbase_url = "{fake.base_url}"\n'
                    f'notifications = true\ntoken_env = "TEST_MASTODON_TOKEN"\ninterval_seconds = {INTERVAL}\n'
                    f'[[sources]]\nname = "push"\nkind = "webhook"\nsecret_env = "{PUSH_SECRET_ENV}"\n')
            write_config(tmp_path, toml)
            env = process_env(cluster.url(), tmp_path, TEST_MASTODON_TOKEN=TOKEN, **{PUSH_SECRET_ENV: PUSH_SECRET})
            ctx = AppContext(settings=Settings(data_dir=tmp_path), config=make_config(tmp_path, toml),
                             db=Database(cluster.url()), secret_key="k" * 40)

            async def count(source: str) -> int:
                async with ctx.db.read() as s:
                    return (await s.exec(select(func.count()).select_from(Mention)
                                         .where(Mention.source == source))).scalar_one()

            async def reaches(source: str, n: int, timeout: float) -> float:
                started = time.monotonic()
                for _ in range(int(timeout * 10)):
                    with contextlib.suppress(Exception):   # the server may still be starting
                        if await count(source) >= n:
                            return time.monotonic() - started
                    await asyncio.sleep(0.1)
                raise AssertionError(f"{n} mentions of {source} not stored within {timeout} s")

            fake.mention_brand(fake.customers[0], "Mijn pakket is zoek")
            port = free_port()
            worker = start(env, "worker", "--no-migrate")
            web = start(env, "serve", "--no-worker", "--no-migrate", "--port", str(port))
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
                async def ready() -> bool:
                    with contextlib.suppress(httpx.HTTPError):
                        return (await client.get("/readyz")).status_code == 200
                    return False
                await wait_for(ready, timeout=60, what="readiness")
                assert (await push(client, [mention("before")])).status_code == 202
                await reaches("masto", 1, timeout=INTERVAL + 30)
                await ctx.db.dispose()

                await asyncio.to_thread(cluster.stop)
                fake.mention_brand(fake.customers[1], "Nog steeds geen internet")   # posted during the outage
                readyz = await client.get("/readyz")
                during = await push(client, [mention("during")])
                await asyncio.sleep(INTERVAL * 2)       # polls fail meanwhile
                again = await push(client, [mention("during")])   # the pusher retries
                assert (readyz.status_code, during.status_code, again.status_code) == (503, 503, 503), during.text
                assert during.headers["retry-after"] == again.headers["retry-after"] == "5"
                assert readyz.json()["status"] == "unavailable"

                await asyncio.to_thread(cluster.start)
                await wait_for(ready, timeout=60, what="readiness after the restart")
                retried = await push(client, [mention("during")])
                assert retried.status_code == 202, retried.text
                polled_after = await reaches("masto", 2, timeout=INTERVAL + 30)
                assert await count("push") == 2
            assert worker.poll() is None and web.poll() is None, "both processes must still run"
            await ctx.db.dispose()
    finally:
        worker_log = stop(worker) if worker is not None else ""
        web_log = stop(web) if web is not None else ""
        with contextlib.suppress(subprocess.CalledProcessError):
            cluster.stop()
        shutil.rmtree(cluster.folder, ignore_errors=True)
    print(f"the source was polled again {polled_after:.1f} s after the database came back")
    assert "source masto: could not poll" in worker_log or "source masto: internal error" in worker_log, worker_log
    assert "database unavailable" in web_log and " 500 " not in web_log, web_log
    assert "Traceback" not in web_log, web_log
