"""A `webcare worker` whose PostgreSQL server is stopped and started again keeps polling.

The server is a private cluster made for this test with initdb on a spare port (never the
shared server), run as the `postgres` user: initdb refuses to run as root."""
from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.core.config import Settings
from app.core.context import AppContext
from app.core.db import Database
from app.core.migrate import upgrade
from app.core.models import Mention
from tests.support.app import free_port, make_config, need_or_skip, write_config
from tests.support.connectors.conformance import served
from tests.support.connectors.fake_mastodon import TOKEN, FakeMastodon

pytestmark = [pytest.mark.asyncio, pytest.mark.slow, pytest.mark.postgres]
WEBCARE = str(Path(sys.executable).parent / "webcare")
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


async def test_worker_polls_again_after_its_postgresql_restarts(tmp_path):
    # Not under tmp_path: the postgres user cannot enter root's pytest folders.
    cluster = PrivateCluster(Path(tempfile.mkdtemp(prefix="webcare-pg-")), free_port())
    cluster.init()
    cluster.start()
    worker = None
    try:
        await asyncio.to_thread(upgrade, cluster.url())
        async with served(FakeMastodon()) as fake:
            toml = (f'[[sources]]\nname = "masto"\nkind = "mastodon"\nbase_url = "{fake.base_url}"\n'
                    f'notifications = true\ntoken_env = "TEST_MASTODON_TOKEN"\ninterval_seconds = {INTERVAL}\n')
            write_config(tmp_path, toml)
            env = {k: v for k, v in os.environ.items() if not k.startswith("WEBCARE_")}
            env.update(WEBCARE_DATABASE_URL=cluster.url(), WEBCARE_CONFIG=str(tmp_path / "webcare.toml"),
                       WEBCARE_DATA_DIR=str(tmp_path), WEBCARE_SECRET_KEY="k" * 40, TEST_MASTODON_TOKEN=TOKEN)
            ctx = AppContext(settings=Settings(data_dir=tmp_path), config=make_config(tmp_path, toml),
                             db=Database(cluster.url()), secret_key="k" * 40)

            async def count() -> int:
                async with ctx.db.read() as s:
                    return (await s.exec(select(func.count()).select_from(Mention))).scalar_one()

            async def reaches(n: int, timeout: float) -> None:
                for _ in range(int(timeout * 10)):
                    try:
                        if await count() >= n:
                            return
                    except Exception:   # the server is still starting
                        pass
                    await asyncio.sleep(0.1)
                raise AssertionError(f"{n} mentions not stored within {timeout} s")

            fake.mention_brand(fake.customers[0], "Mijn pakket is zoek")
            worker = subprocess.Popen([WEBCARE, "worker", "--no-migrate"], env=env, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT)
            await reaches(1, timeout=INTERVAL + 30)
            await ctx.db.dispose()

            await asyncio.to_thread(cluster.stop)
            fake.mention_brand(fake.customers[1], "Nog steeds geen internet")   # posted during the outage
            await asyncio.sleep(INTERVAL * 2)       # polls fail meanwhile
            await asyncio.to_thread(cluster.start)
            await reaches(2, timeout=INTERVAL + 30)
            assert worker.poll() is None, "the worker must still run"
            await ctx.db.dispose()
    finally:
        output = ""
        if worker is not None:
            worker.terminate()
            output = worker.communicate(timeout=20)[0].decode(errors="replace")
        with contextlib.suppress(subprocess.CalledProcessError):
            cluster.stop()
        shutil.rmtree(cluster.folder, ignore_errors=True)
    assert "source masto: could not poll" in output or "source masto: internal error" in output, output
