"""`[database]` sizes each process's PostgreSQL pool; `[worker]` sets the source lease."""
from __future__ import annotations

from pathlib import Path

import pytest

from app.core.config import ConfigError, load_config
from app.core.terminal import command_context


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "webcare.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults():
    config = load_config(None)
    assert (config.database.pool_size, config.database.max_overflow) == (10, 10)
    assert config.worker.lease_seconds == 20


@pytest.mark.parametrize(("text", "expected"), [
    ("[database]\npool_size = 0\n", "[database].pool_size"),
    ("[database]\npool = 5\n", "[database].pool: unknown key"),
    ("[worker]\nlease_seconds = 1\n", "[worker].lease_seconds"),
])
def test_bad_values_are_refused(tmp_path, text, expected):
    with pytest.raises(ConfigError, match=expected.replace("[", r"\[").replace(".", r"\.")):
        load_config(write(tmp_path, text))


@pytest.mark.asyncio
async def test_the_pool_of_a_process_is_sized_from_the_config(tmp_path, monkeypatch):
    path = write(tmp_path, "[database]\npool_size = 3\nmax_overflow = 2\npool_timeout_seconds = 4\n")
    monkeypatch.setenv("WEBCARE_CONFIG", str(path))
    monkeypatch.setenv("WEBCARE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("WEBCARE_SECRET_KEY", "s" * 40)
    monkeypatch.setenv("WEBCARE_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:1/none")  # never connected
    ctx = command_context()
    pool = ctx.db.engine.pool
    try:
        assert (pool.size(), pool._max_overflow, pool._timeout) == (3, 2, 4)  # type: ignore[attr-defined]
    finally:
        await ctx.db.dispose()
