"""SQLite connections zero what they delete or overwrite (secure_delete), and `truncate_wal`
leaves no old page versions behind: an erased text is gone from the file and the WAL. They
also keep the planner's statistics current (`PRAGMA optimize` hourly and at close).

Debian's SQLite has secure_delete on by default; Python.org's and others do not, so the test
compares with a plain connection that turns it off, as those builds would have it."""
from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import insert, make_url, text

from app.core import db as db_module
from app.core.db import Database
from app.core.models import Mention, utcnow
from app.mentions.queries import QueueFilters, list_queue
from app.sla import SlaPolicy
from tests.support.plans import mention_row

SECRET = "geheim-adres-Kerkstraat-12"


def on_disk(path) -> bytes:
    return b"".join(p.read_bytes() for p in (path, path.with_name(path.name + "-wal")) if p.exists())


@pytest.mark.asyncio
async def test_our_connections_zero_overwritten_text_and_truncate_the_wal(tmp_path):
    path = tmp_path / "t.db"
    db = Database(f"sqlite+aiosqlite:///{path}")
    async with db.engine.connect() as conn:
        assert (await conn.execute(text("PRAGMA secure_delete"))).scalar_one() == 1
    async with db.write() as session:
        await session.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"))
        for i in range(50):
            await session.execute(text("INSERT INTO notes (body) VALUES (:b)"), {"b": f"{SECRET} {i} " * 3})
    assert await db.truncate_wal()
    assert SECRET.encode() in on_disk(path)
    async with db.write() as session:
        await session.execute(text("UPDATE notes SET body = ''"))
    assert SECRET.encode() in on_disk(path)  # the WAL still holds the pages as they were
    assert await db.truncate_wal()
    assert SECRET.encode() not in on_disk(path) and path.with_name("t.db-wal").stat().st_size == 0
    await db.dispose()


def test_without_secure_delete_the_overwritten_text_would_stay(tmp_path):
    path = tmp_path / "plain.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA secure_delete=OFF")
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    conn.executemany("INSERT INTO notes (body) VALUES (?)", [(f"{SECRET} {i} " * 3,) for i in range(50)])
    conn.execute("UPDATE notes SET body = ''")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    assert SECRET.encode() in on_disk(path)


async def queue_read_with_history(url: str) -> Database:
    """A database whose connections have read the queue over some history, no statistics yet."""
    db = Database(url)
    now = utcnow()
    async with db.write() as session:
        await session.execute(insert(Mention.__table__), [
            mention_row(n, "answered" if n % 5 else "open", now) for n in range(500)])
    async with db.read() as session:
        await list_queue(session, QueueFilters(), now, SlaPolicy(), limit=10)
    return db


def statistics(path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {index for (index,) in conn.execute("SELECT idx FROM sqlite_stat1 WHERE tbl = 'mentions'")}
    except sqlite3.OperationalError:  # no statistics table at all
        return set()
    finally:
        conn.close()


@pytest.mark.asyncio
async def test_sqlite_gathers_statistics_when_its_connections_close(sqlite_url):
    path = make_url(sqlite_url).database
    db = await queue_read_with_history(sqlite_url)
    assert "ix_mentions_waiting_queue" not in statistics(path)
    await db.dispose()
    assert "ix_mentions_waiting_queue" in statistics(path)


@pytest.mark.asyncio
async def test_sqlite_gathers_statistics_hourly_after_a_write(sqlite_url, monkeypatch):
    path = make_url(sqlite_url).database
    db = await queue_read_with_history(sqlite_url)
    async with db.write() as session:
        await session.execute(text("UPDATE mentions SET urgency = 1 WHERE id = 1"))
    assert "ix_mentions_waiting_queue" not in statistics(path)  # not yet: the hour has not passed
    monkeypatch.setattr(db_module, "SQLITE_OPTIMIZE_SECONDS", 0.0)
    async with db.write() as session:
        await session.execute(text("UPDATE mentions SET urgency = 2 WHERE id = 1"))
    assert "ix_mentions_waiting_queue" in statistics(path)
    await db.dispose()
