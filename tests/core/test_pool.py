"""PostgreSQL connections: the pool pings only a connection that sat idle (a restart drops
them all), and a lone statement runs without BEGIN/COMMIT. Each saves round trips on every
push (tests/intake/test_push_cost.py) without giving up recovery after a restart."""
from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy import text

from app.core import db as db_module
from app.core.db import Database, database_unavailable
from app.web.listen import asyncpg_dsn
from tests.support.app import POSTGRES_ONLY
from tests.support.statements import counting

pytestmark = [pytest.mark.asyncio, POSTGRES_ONLY]


async def drop_connections(db_url: str) -> int:
    """What a server restart does to the pool: every connection to the database is cut."""
    admin = await asyncpg.connect(asyncpg_dsn(db_url))
    try:
        return await admin.fetchval("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                    "WHERE datname = current_database() AND pid <> pg_backend_pid()")
    finally:
        await admin.close()


def count_pings(db: Database, monkeypatch) -> list[int]:
    pings: list[int] = []
    ping = db.engine.dialect.do_ping

    def counted(dbapi_connection):
        pings.append(1)
        return ping(dbapi_connection)
    monkeypatch.setattr(db.engine.dialect, "do_ping", counted)
    return pings


async def test_an_idle_connection_the_server_dropped_is_replaced_before_use(db_url, monkeypatch):
    db = Database(db_url)
    pings = count_pings(db, monkeypatch)
    try:
        await db.ping()
        assert await drop_connections(db_url) == 1
        monkeypatch.setattr(db_module, "PING_IDLE_SECONDS", 0.0)  # it has been idle long enough
        await db.ping()  # pinged at checkout, found dead, replaced: no error
        assert pings  # (the new connection, too: with no idle time allowed, every checkout pings)
    finally:
        await db.dispose()


async def test_a_connection_in_use_is_not_pinged_and_a_drop_renews_the_pool(db_url, monkeypatch):
    monkeypatch.setattr(db_module, "PING_IDLE_SECONDS", 3600.0)
    db = Database(db_url)
    pings = count_pings(db, monkeypatch)
    try:
        await db.ping()
        await db.ping()
        assert pings == []
        assert await drop_connections(db_url) == 1
        with pytest.raises(Exception) as failed:  # noqa: PT011 - whichever error the driver raises
            await db.ping()
        assert database_unavailable(failed.value)  # 503 with Retry-After, not a 500
        await db.ping()  # the disconnect renewed the pool
    finally:
        await db.dispose()


async def test_a_lone_statement_runs_without_a_transaction(db_url):
    db = Database(db_url)
    xid_kept = "SELECT txid_current_if_assigned() IS NOT NULL"  # after txid_current(): same transaction?
    try:
        with counting(db.engine) as log:
            async with db.quick_read() as session:
                await session.execute(text("SELECT txid_current()"))
                single = (await session.execute(text(xid_kept))).scalar()
            async with db.read() as session:
                await session.execute(text("SELECT txid_current()"))
                plain = (await session.execute(text(xid_kept))).scalar()
        assert (single, plain) == (False, True)
        assert log.entries.count("<begin>") == 1  # the plain read's only
    finally:
        await db.dispose()
