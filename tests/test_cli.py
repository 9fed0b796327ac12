"""The `webcare` command as users and tools run it."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

WEBCARE = str(Path(sys.executable).parent / "webcare")


def run(tmp_path: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEBCARE_")}
    env.update(WEBCARE_DATA_DIR=str(tmp_path), WEBCARE_SECRET_KEY="s" * 40)
    return subprocess.run([WEBCARE, *args], env=env, input=stdin, capture_output=True, text=True, timeout=60,
                          cwd=tmp_path)


def test_migrate_user_add_and_tokens(tmp_path):
    assert run(tmp_path, "migrate").returncode == 0
    assert (tmp_path / "webcare.db").exists()
    added = run(tmp_path, "user", "add", "anna", "--role", "lead", "--password-stdin", stdin="a-long-password\n")
    assert added.returncode == 0, added.stderr
    dup = run(tmp_path, "user", "add", "anna", "--role", "lead", "--password-stdin", stdin="a-long-password\n")
    assert dup.returncode == 1 and "exists" in dup.stderr and "Traceback" not in dup.stderr
    short = run(tmp_path, "user", "add", "bob", "--role", "responder", "--password-stdin", stdin="short\n")
    assert short.returncode == 1 and "too short" in short.stderr
    token = run(tmp_path, "token", "create", "anna")
    assert token.returncode == 0 and token.stdout.strip().startswith("wct_") and len(token.stdout.strip()) > 30
    assert run(tmp_path, "token", "create", "nobody").returncode == 1
    revoked = run(tmp_path, "token", "revoke", "anna")
    assert revoked.returncode == 0 and "revoked 1" in revoked.stdout


def test_token_is_stored_as_a_hash_only(tmp_path):
    import sqlite3

    run(tmp_path, "migrate")
    run(tmp_path, "user", "add", "anna", "--role", "admin", "--password-stdin", stdin="a-long-password\n")
    token = run(tmp_path, "token", "create", "anna").stdout.strip()
    with sqlite3.connect(tmp_path / "webcare.db") as conn:
        dump = "\n".join(conn.iterdump())
    assert token not in dump and "a-long-password" not in dump


def test_database_wal_and_generated_key_are_private_files(tmp_path):
    """Created readable by their owner only, whatever the umask: they hold strangers' posts
    and the key that signs sessions."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEBCARE_")}
    env.update(WEBCARE_DATA_DIR=str(tmp_path))   # no WEBCARE_SECRET_KEY: one is generated
    script = "import os, sys; os.umask(0o022); os.execv(sys.argv[1], sys.argv[1:])"
    for args in (["migrate"], ["user", "add", "anna", "--role", "lead", "--password-stdin"]):
        done = subprocess.run([sys.executable, "-c", script, WEBCARE, *args], env=env, cwd=tmp_path, timeout=60,
                              input="a-long-password\n", capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    import sqlite3

    with sqlite3.connect(tmp_path / "webcare.db") as conn:   # a writer holds the WAL open
        conn.execute("UPDATE users SET display_name = 'Anna' WHERE username = 'anna'")
        files = ["webcare.db", "secret_key"] + [p.name for p in tmp_path.glob("webcare.db-*")]
    assert {"webcare.db", "webcare.db-wal", "webcare.db-shm", "secret_key"} <= set(files)
    modes = {name: oct((tmp_path / name).stat().st_mode & 0o777) for name in files}
    assert set(modes.values()) == {"0o600"}, modes
