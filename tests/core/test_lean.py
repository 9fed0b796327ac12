"""app/core/lean.py: what keeps serve and worker small."""
from __future__ import annotations

import sqlite3
import subprocess
import sys

import pytest

from app.core import lean


def _in_child(code: str, **env: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    return done.stdout.strip()


def test_two_arenas_unless_the_environment_says_otherwise(monkeypatch):
    code = "from app.core.lean import limit_arenas; print(limit_arenas())"
    path = {"PATH": "/usr/bin:/bin"}
    expected = "True" if sys.platform.startswith("linux") else "False"
    assert _in_child(code, **path) == expected
    assert _in_child(code, MALLOC_ARENA_MAX="4", **path) == "False"


def test_migrations_run_in_a_child_that_leaves_alembic_out_of_this_process(tmp_path, monkeypatch):
    monkeypatch.setenv("WEBCARE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("WEBCARE_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/fresh.db")
    monkeypatch.delenv("WEBCARE_CONFIG", raising=False)
    code = ("import sys; from app.core.lean import migrate_in_child; migrate_in_child(); "
            "print('alembic' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=True)
    assert done.stdout.strip() == "False"
    with sqlite3.connect(tmp_path / "fresh.db") as db:
        assert db.execute("SELECT version_num FROM alembic_version").fetchone()


def test_a_failed_migration_stops_the_process(tmp_path, monkeypatch):
    monkeypatch.setenv("WEBCARE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("WEBCARE_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/no/such/folder/x.db")
    monkeypatch.delenv("WEBCARE_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as stopped:
        lean.migrate_in_child()
    assert stopped.value.code != 0
