"""One trip to aiosqlite's thread per SQLite statement.

aiosqlite runs each call of a cursor in the connection's own thread, and SQLAlchemy makes four
for every statement (make the cursor, execute, fetch the rows, close). Each trip is a hand-off
between threads and a wake-up of the event loop: for a quick read that cost more than SQLite
took to run it. `OneTripCursor` does all four in one trip; only a result larger than a chunk
(a streamed export) takes further trips for the rest, as before.

It runs its calls as aiosqlite's own cursor does, through the connection's `_execute`; should a
release of aiosqlite change that, tests/core/test_sqlite_trips.py fails first.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from functools import partial
from typing import Any

import aiosqlite

# Rows brought back with the statement itself; a larger result is fetched on demand.
CHUNK = 1000
_Outcome = tuple[sqlite3.Cursor | None, list[Any], Any, int, int | None]


def one_trip_statements(connection: aiosqlite.Connection) -> None:
    """Give `connection`'s cursors (what SQLAlchemy's aiosqlite adapter asks it for) one trip
    per statement."""
    connection.cursor = partial(OneTripCursor, connection)  # type: ignore[method-assign,assignment]


def _execute(conn: sqlite3.Connection, sql: str, parameters: Any) -> _Outcome:
    """In the connection's thread: run the statement, bring its first chunk of rows and what
    the cursor tells about it; a cursor that has nothing more to give is closed here."""
    cursor = conn.cursor()
    try:
        cursor.execute(sql, parameters)
        rows = cursor.fetchmany(CHUNK) if cursor.description else []
    except BaseException:
        cursor.close()
        raise
    outcome = (cursor.description, cursor.rowcount, cursor.lastrowid)
    if len(rows) < CHUNK:
        cursor.close()
        return None, rows, *outcome
    return cursor, rows, *outcome


def _fetch(cursor: sqlite3.Cursor, size: int | None) -> tuple[list[Any], bool]:
    """In the connection's thread: `size` more rows (None: all), and whether the cursor is done
    (then closed)."""
    rows = cursor.fetchall() if size is None else cursor.fetchmany(size)
    done = size is None or len(rows) < size
    if done:
        cursor.close()
    return rows, done


class OneTripCursor:
    """The part of aiosqlite's Cursor that SQLAlchemy uses, a trip per statement."""

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection
        self._open: sqlite3.Cursor | None = None   # a result not yet fetched to its end
        self._rows: list[Any] = []
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self.arraysize = 1

    async def _trip(self, function, *args: Any) -> Any:
        return await self._connection._execute(function, *args)

    async def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> OneTripCursor:
        await self.close()
        self._open, self._rows, self.description, self.rowcount, self.lastrowid = await self._trip(
            _execute, self._connection._conn, sql, () if parameters is None else parameters)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> OneTripCursor:
        def run(conn: sqlite3.Connection) -> tuple[int, int | None]:
            cursor = conn.executemany(sql, parameters)
            try:
                return cursor.rowcount, cursor.lastrowid
            finally:
                cursor.close()
        await self.close()
        self.description, self._rows = None, []
        self.rowcount, self.lastrowid = await self._trip(run, self._connection._conn)
        return self

    async def _more(self, size: int | None) -> None:
        if self._open is not None:
            rows, done = await self._trip(_fetch, self._open, size)
            self._rows += rows
            if done:
                self._open = None

    async def fetchall(self) -> Sequence[Any]:
        await self._more(None)
        rows, self._rows = self._rows, []
        return rows

    async def fetchmany(self, size: int | None = None) -> Sequence[Any]:
        size = size or self.arraysize
        if len(self._rows) < size:
            await self._more(max(size, CHUNK))
        rows, self._rows = self._rows[:size], self._rows[size:]
        return rows

    async def fetchone(self) -> Any:
        rows = await self.fetchmany(1)
        return rows[0] if rows else None

    async def close(self) -> None:
        self._rows = []
        if self._open is not None:
            cursor, self._open = self._open, None
            await self._trip(cursor.close)

    async def __aenter__(self) -> OneTripCursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()
