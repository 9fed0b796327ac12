"""Database engine and sessions, SQLite and PostgreSQL alike.

SQLite runs in WAL mode with a busy timeout. Write transactions start with `BEGIN IMMEDIATE`
so two writers queue on the lock up front instead of failing half-way with "database is
locked"; read transactions stay deferred so readers never wait for each other.
"""
from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import Table, event, make_url
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

SQLITE_BUSY_TIMEOUT_MS = 30_000


def is_sqlite(url_or_engine) -> bool:
    url = url_or_engine.url if isinstance(url_or_engine, AsyncEngine) else str(url_or_engine)
    return str(url).startswith("sqlite")


def create_private_sqlite_file(url: str) -> None:
    """Create the SQLite file readable by its owner only, before SQLite makes it with the
    umask's mode: it holds strangers' posts. SQLite gives the -wal and -shm files the
    database file's permissions."""
    database = make_url(url).database
    if not is_sqlite(url) or not database or database == ":memory:":
        return
    path = Path(database)
    if not path.exists() and path.parent.is_dir():   # a missing folder stays an error SQLite reports
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    if is_sqlite(url):
        create_private_sqlite_file(url)
        engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        _configure_sqlite(engine)
        return engine
    return create_async_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not the driver, decide when transactions begin (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Deleted and overwritten content is zeroed, so erased personal data does not linger
        # in free space of the file (app/privacy/; the WAL is truncated after an erasure).
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn):
        mode = "IMMEDIATE" if conn.get_execution_options().get("webcare_write") else "DEFERRED"
        conn.exec_driver_sql(f"BEGIN {mode}")


def insert_ignoring_conflicts(dialect_name: str, table: Table, *conflict_columns: str):
    """`INSERT ... ON CONFLICT (columns) DO NOTHING`: both databases spell it alike, but
    SQLAlchemy builds it with each dialect's own construct."""
    insert = pg_insert if dialect_name == "postgresql" else sqlite_insert
    return insert(table).on_conflict_do_nothing(index_elements=list(conflict_columns))


class Database:
    """The engine plus two session factories: `read()` and `write()`."""

    def __init__(self, url: str):
        self.url = url
        self.engine = create_engine(url)
        self.sqlite = is_sqlite(url)
        self._read = async_sessionmaker(self.engine, class_=AsyncSession, expire_on_commit=False)
        write_engine = self.engine.execution_options(webcare_write=True)
        self._write = async_sessionmaker(write_engine, class_=AsyncSession, expire_on_commit=False)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self._read() as session:
            yield session

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """One write transaction: committed when the block ends, rolled back on error."""
        async with self._write() as session, session.begin():
            yield session

    async def ping(self) -> None:
        from sqlalchemy import text

        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def truncate_wal(self) -> bool:
        """SQLite: copy the WAL into the database file and cut it to zero bytes, so the old
        versions of rows just overwritten (an erasure) leave no copy in the WAL. Readers are
        waited for (busy timeout); False when one still held it. PostgreSQL: nothing to do."""
        if not self.sqlite:
            return True
        async with self.engine.connect() as conn:
            raw = await conn.get_raw_connection()
            assert raw.driver_connection is not None  # an open aiosqlite connection
            cursor = await raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            busy, _log, _done = await cursor.fetchone()
            await cursor.close()
        return busy == 0

    async def dispose(self) -> None:
        await self.engine.dispose()
