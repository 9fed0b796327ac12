"""Real `webcare` processes for tests: start one with an environment, stop it and read what
it wrote, wait for a condition without blocking the event loop (fakes answer from it)."""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

WEBCARE = str(Path(sys.executable).parent / "webcare")


def process_env(database_url: str, folder: Path, **extra: str) -> dict[str, str]:
    """The environment of a `webcare` process: no WEBCARE_ variable of the caller's, the
    config in `folder`, a fixed secret key."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEBCARE_")}
    env.update(WEBCARE_DATABASE_URL=database_url, WEBCARE_CONFIG=str(folder / "webcare.toml"),
               WEBCARE_DATA_DIR=str(folder), WEBCARE_SECRET_KEY="k" * 40, **extra)
    return env


def start(env: dict, *args: str, **extra_env: str) -> subprocess.Popen:
    return subprocess.Popen([WEBCARE, *args], env={**env, **extra_env}, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)


def stop(proc: subprocess.Popen) -> str:
    if proc.poll() is None:
        proc.terminate()
    return proc.communicate(timeout=20)[0].decode(errors="replace")


async def wait_for(predicate: Callable[[], Awaitable[Any]], timeout: float = 30.0, what: str = "condition") -> Any:
    for _ in range(int(timeout * 10)):
        value = await predicate()
        if value:
            return value
        await asyncio.sleep(0.1)
    raise AssertionError(f"{what} not reached within {timeout} s")
