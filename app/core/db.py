"""Database engine and sessions, SQLite and PostgreSQL alike.

SQLite runs in WAL mode with a busy timeout. Write transactions start with `BEGIN IMMEDIATE`
so two writers queue on the lock up front instead of failing half-way with "database is
locked"; read transactions stay deferred so readers never wait for each other.
"""
from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import Table, event, make_url
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import InvalidatePoolError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.sqlite_trips import one_trip_statements

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 30_000
CONNECT_TIMEOUT_SECONDS = 10
# SQLite's own advice for long-lived connections: `PRAGMA optimize` every few hours and when a
# connection closes, with ANALYZE bounded so it costs milliseconds on any size of table.
SQLITE_OPTIMIZE_SECONDS = 3600.0
SQLITE_ANALYSIS_LIMIT = 400
# Set in a write session's `info` by whoever writes event rows (app/core/events.py), so the
# process's own event hub is woken the moment they commit.
EVENTS_WRITTEN = "webcare_events_written"
# In every session's `info`: which Database it came from, named in its NOTIFY (app/core/events.py)
# so this Database's own listener skips what its commits have woken it for already.
ORIGIN = "webcare_origin"
# A SQLite connection's execution option: no BEGIN, each statement runs alone (quick_read).
LONE_STATEMENTS = "webcare_lone_statements"
# A pooled connection unused for longer is pinged before use (_ping_when_idle).
PING_IDLE_SECONDS = 2.0
_USED_AT = "webcare_used_at"


# Drivers whose frames mark an OSError (a refused or dropped connection) as the database's.
_DRIVER_MODULES = ("asyncpg", "sqlalchemy", "aiosqlite", "sqlite3")
# Raised by the drivers when the server is starting up, shutting down or gone mid-query.
_UNAVAILABLE_MESSAGES = ("database is locked", "the database system is", "connection is closed",
                         "connection was closed", "terminating connection", "cannot connect",
                         "connection refused", "connection reset", "server closed the connection")


def database_unavailable(exc: BaseException) -> bool:
    """The one rule for "the database is away for now, try again shortly" (a PostgreSQL restart,
    SQLite's busy timeout, an exhausted pool), as opposed to a bug or a bad statement: web
    requests answer 503 with Retry-After for it, background loops back off."""
    from sqlalchemy import exc as sa

    if isinstance(exc, sa.TimeoutError):  # no free connection in the pool in time
        return True
    if isinstance(exc, sa.DBAPIError):
        if exc.connection_invalidated or isinstance(exc, sa.InterfaceError):
            return True
        return any(m in str(exc.orig).lower() for m in _UNAVAILABLE_MESSAGES) or (
            exc.orig is not None and database_unavailable(exc.orig))
    if isinstance(exc, OSError):  # asyncpg's connect raises these unwrapped
        return _raised_by_driver(exc)
    if type(exc).__module__.startswith("asyncpg"):  # unwrapped at connect: starting up, shut down, lost
        names = {k.__name__ for k in type(exc).__mro__}
        return bool(names & {"PostgresConnectionError", "OperatorInterventionError", "InterfaceError"})
    cause = exc.__cause__ or exc.__context__
    return cause is not None and cause is not exc and database_unavailable(cause)


def _raised_by_driver(exc: BaseException) -> bool:
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_globals.get("__name__", "").startswith(_DRIVER_MODULES):
            return True
        tb = tb.tb_next
    return False


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


def create_engine(url: str, *, pool_size: int = 10, max_overflow: int = 10,
                  pool_timeout: float = 30.0) -> AsyncEngine:
    if is_sqlite(url):
        create_private_sqlite_file(url)
        engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        _configure_sqlite(engine)
        return engine
    # A bounded connect: while the server is away, a request or a readiness check fails in
    # seconds instead of hanging for asyncpg's default minute. LIFO: the connections in use
    # stay warm (no ping, _ping_when_idle), the spare ones go idle together.
    engine = create_async_engine(url, pool_size=pool_size, max_overflow=max_overflow, pool_timeout=pool_timeout,
                                 pool_use_lifo=True, connect_args={"timeout": CONNECT_TIMEOUT_SECONDS})
    _ping_when_idle(engine)
    return engine


def _ping_when_idle(engine: AsyncEngine) -> None:
    """A connection the server dropped (a restart) is replaced before use, not failed with:
    SQLAlchemy's pre-ping, but only for a connection idle longer than PING_IDLE_SECONDS. The
    pre-ping on every checkout cost asyncpg three round trips (BEGIN, ping, ROLLBACK), most of
    a push's. A restart takes the server away for longer than that; a connection in use when it
    went fails its statement, and the disconnect renews the whole pool (503 for that request)."""
    pool = engine.sync_engine.pool

    @event.listens_for(pool, "connect")
    @event.listens_for(pool, "checkin")
    def _used(_dbapi_connection, record):
        if record is not None:
            record.info[_USED_AT] = time.monotonic()

    @event.listens_for(pool, "checkout")
    def _checkout(dbapi_connection, record, _proxy):
        if time.monotonic() - record.info.get(_USED_AT, 0.0) <= PING_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # renews this and every older pooled connection, then retries
            raise InvalidatePoolError(f"ping of an idle connection failed: {exc}") from exc
        record.info[_USED_AT] = time.monotonic()


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection, _record):
        one_trip_statements(engine.dialect.get_driver_connection(dbapi_connection))
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
        cursor.execute(f"PRAGMA analysis_limit={SQLITE_ANALYSIS_LIMIT}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "close")
    def _on_close(dbapi_connection, _record):
        # Statistics for what this connection's queries needed, so plans stay right as the
        # tables grow (the queue's partial indexes, not a walk over every status).
        try:
            dbapi_connection.cursor().execute("PRAGMA optimize")
        except Exception as exc:  # closing must not fail over a statistics update
            log.debug("PRAGMA optimize at close: %s", exc)

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn):
        options = conn.get_execution_options()
        if options.get(LONE_STATEMENTS):  # quick_read: each statement its own snapshot
            return
        conn.exec_driver_sql(f"BEGIN {'IMMEDIATE' if options.get('webcare_write') else 'DEFERRED'}")

    dialect = engine.sync_engine.dialect
    rollback = dialect.do_rollback

    def do_rollback(dbapi_connection):
        # Nothing to roll back (a quick read sends no BEGIN): sqlite3's rollback() would do
        # nothing either, but only after a round trip to aiosqlite's thread.
        # (should the adapter's connection ever be out of reach, roll back as before)
        if getattr(getattr(dbapi_connection, "_connection", None), "in_transaction", True):
            rollback(dbapi_connection)
    dialect.do_rollback = do_rollback  # type: ignore[method-assign]


def insert_ignoring_conflicts(dialect_name: str, table: Table, *conflict_columns: str):
    """`INSERT ... ON CONFLICT (columns) DO NOTHING`: both databases spell it alike, but
    SQLAlchemy builds it with each dialect's own construct."""
    insert = pg_insert if dialect_name == "postgresql" else sqlite_insert
    return insert(table).on_conflict_do_nothing(index_elements=list(conflict_columns))


class Database:
    """The engine plus two session factories: `read()` and `write()`."""

    def __init__(self, url: str, *, pool_size: int = 10, max_overflow: int = 10, pool_timeout: float = 30.0):
        self.url = url
        self.engine = create_engine(url, pool_size=pool_size, max_overflow=max_overflow, pool_timeout=pool_timeout)
        self.sqlite = is_sqlite(url)
        self.origin = uuid.uuid4().hex
        info = {ORIGIN: self.origin}
        self._read = async_sessionmaker(self.engine, class_=AsyncSession, expire_on_commit=False, info=info)
        write_engine = self.engine.execution_options(webcare_write=True)
        self._write = async_sessionmaker(write_engine, class_=AsyncSession, expire_on_commit=False, info=info)
        # A lone statement runs atomically by itself: no BEGIN and COMMIT/ROLLBACK around it,
        # two round trips of three (on SQLite, each a trip to aiosqlite's thread). SQLite keeps
        # its transactions for writes (see _on_begin).
        self._single_write = self._write
        if self.sqlite:
            self._quick_read = async_sessionmaker(self.engine.execution_options(**{LONE_STATEMENTS: True}),
                                                  class_=AsyncSession, expire_on_commit=False, info=info)
        else:
            self._quick_read = self._single_write = async_sessionmaker(
                self.engine.execution_options(isolation_level="AUTOCOMMIT"), class_=AsyncSession,
                expire_on_commit=False, info=info)
        self._on_events: list[Callable[[], None]] = []
        self._optimized_at = time.monotonic()

    def on_events_committed(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call `callback` after each write transaction that wrote event rows commits; returns
        the function that stops it."""
        self._on_events.append(callback)
        return lambda: self._on_events.remove(callback)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self._read() as session:
            yield session

    @asynccontextmanager
    async def quick_read(self) -> AsyncIterator[AsyncSession]:
        """`read()` for statements that need no transaction of their own (a page, a token, the
        event tail): on PostgreSQL outside any, two round trips fewer (under READ COMMITTED each
        statement takes a fresh snapshot in a transaction or not); no streaming (server-side
        cursors need a transaction). Likewise on SQLite (no BEGIN DEFERRED, no ROLLBACK)."""
        async with self._quick_read() as session:
            yield session

    @asynccontextmanager
    async def write(self, *, single: bool = False) -> AsyncIterator[AsyncSession]:
        """One write transaction: committed when the block ends, rolled back on error.
        `single`: the block runs one statement (atomic by itself) and writes no events."""
        async with (self._single_write if single else self._write)() as session:
            async with session.begin():
                yield session
            if session.info.pop(EVENTS_WRITTEN, False):
                for callback in list(self._on_events):
                    callback()
        if self.sqlite and time.monotonic() - self._optimized_at > SQLITE_OPTIMIZE_SECONDS:
            await self.optimize()

    async def optimize(self) -> None:
        """SQLite: `PRAGMA optimize` (ANALYZE where the statistics are missing or stale) on a
        pooled connection, one that has run the app's queries. PostgreSQL: autovacuum does it."""
        self._optimized_at = time.monotonic()
        if not self.sqlite:
            return
        async with self.engine.execution_options(webcare_write=True).begin() as conn:
            await conn.exec_driver_sql("PRAGMA optimize")

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
