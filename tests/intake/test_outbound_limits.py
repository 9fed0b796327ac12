"""A real `webcare worker` polling two hostile feeds: one streams a body that never ends, the
other sends a 510 KB gzip body that inflates to 512 MB. Before the response caps the worker grew
past a gigabyte (or died); now each poll fails at 10 MB with a clear health message, the process
stays small and keeps polling."""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.core.config import Settings
from app.core.context import AppContext
from app.core.db import Database
from app.core.models import SourceState
from app.intake.health import health_view
from tests.support.app import make_config, need_or_skip, write_config
from tests.support.outbound import bomb, endless, gzip_bomb, hostile

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]
WEBCARE = str(Path(sys.executable).parent / "webcare")
PEAK_LIMIT_MB = 300


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory so far (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM in /proc")


async def test_a_worker_polling_an_endless_feed_and_a_gzip_bomb_stays_small_and_keeps_going(sqlite_url, tmp_path):
    if not Path("/proc/self/status").exists():
        need_or_skip("measuring a process's peak memory needs Linux's /proc")
    gzip_bomb()  # built before the worker starts, so the test's own work does not race it
    async with hostile(endless()) as stream, hostile(bomb()) as packed:
        toml = "".join(f'[[sources]]\nname = "{name}"\nkind = "rss"\nurl = "{server.url}/feed.xml"\n'
                       f'interval_seconds = 5\n\n' for name, server in (("endless", stream), ("bomb", packed)))
        write_config(tmp_path, toml)
        env = {k: v for k, v in os.environ.items() if not k.startswith("WEBCARE_")}
        env.update(WEBCARE_DATABASE_URL=sqlite_url, WEBCARE_CONFIG=str(tmp_path / "webcare.toml"),
                   WEBCARE_DATA_DIR=str(tmp_path), WEBCARE_SECRET_KEY="k" * 40)
        ctx = AppContext(settings=Settings(data_dir=tmp_path), config=make_config(tmp_path, toml),
                         db=Database(sqlite_url), secret_key="k" * 40)
        worker = subprocess.Popen([WEBCARE, "worker", "--no-migrate"], env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT)
        try:
            states = await failed_twice(ctx, ("endless", "bomb"), timeout=120)
            peak = peak_rss_mb(worker.pid)
            running = worker.poll() is None
        finally:
            worker.terminate()
            output = worker.communicate(timeout=20)[0].decode(errors="replace")
            await ctx.db.dispose()
    assert running, output
    assert peak < PEAK_LIMIT_MB, f"the worker's peak memory was {peak:.0f} MB"
    assert "Traceback" not in output, output
    for name, state in states.items():
        assert state.health == "failing" and state.last_error_kind == "too_large", (name, state.last_error)
        assert state.last_error.startswith("RSS feed: the server sent more than 10 MB"), state.last_error
        view = health_view(ctx.source(name), state, state.last_error_at)
        assert view["status"] == "failing" and view["last_error"] == "the server sent more than we accept"
    assert "(decompressed)" in states["bomb"].last_error
    assert len(stream.heads) >= 2 and len(packed.heads) >= 2  # polled again after the failure


async def failed_twice(ctx: AppContext, names: tuple[str, ...], timeout: float) -> dict[str, SourceState]:
    """Each source's state once it has failed at least twice in a row (the worker went on)."""
    for _ in range(int(timeout * 2)):
        async with ctx.db.read() as session:
            states = {name: await session.get(SourceState, name) for name in names}
        if all(s is not None and s.consecutive_failures >= 2 for s in states.values()):
            return states
        await asyncio.sleep(0.5)
    raise AssertionError(f"not failed twice in {timeout} s: "
                         f"{ {n: (s.consecutive_failures, s.last_error) if s else None for n, s in states.items()} }")
