"""SQLite statements take one trip to aiosqlite's thread (app/core/sqlite_trips.py), and still
behave as a DB-API cursor: every row of a large or streamed result, row counts, the last row
id, errors raised as SQLAlchemy's, a connection that carries on after one."""
from __future__ import annotations

import pytest
import pytest_asyncio
from sqlalchemy import exc, text

from app.core.db import Database
from app.core.sqlite_trips import CHUNK

pytestmark = pytest.mark.asyncio
ROWS = 2 * CHUNK + 500


@pytest_asyncio.fixture
async def db(tmp_path):
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 't.db'}")
    async with database.write() as session:
        await session.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)"))
        await session.execute(text("INSERT INTO notes (body) VALUES (:body)"),
                              [{"body": f"note {n}"} for n in range(ROWS)])
    yield database
    await database.dispose()


class Trips:
    """Counts the calls a connection sends to its thread."""

    def __init__(self, driver_connection) -> None:
        self.count, self._send = 0, driver_connection._execute

        async def counted(function, *args, **kwargs):
            self.count += 1
            return await self._send(function, *args, **kwargs)
        driver_connection._execute = counted


async def counting_trips(conn) -> Trips:
    """From the connection's transaction on (its BEGIN is a statement too)."""
    await conn.execute(text("SELECT 1"))
    return Trips((await conn.get_raw_connection()).driver_connection)


async def test_a_statement_is_one_trip_and_a_large_result_arrives_whole(db):
    async with db.engine.connect() as conn:
        trips = await counting_trips(conn)
        assert (await conn.execute(text("SELECT body FROM notes WHERE id = 7"))).scalar_one() == "note 6"
        assert trips.count == 1   # aiosqlite's own cursor: four (cursor, execute, fetchall, close)
        bodies = (await conn.execute(text("SELECT body FROM notes ORDER BY id"))).scalars().all()
        assert bodies == [f"note {n}" for n in range(ROWS)]
        assert trips.count == 1 + 2   # its first chunk with the statement, then the rest at once


async def test_a_streamed_result_comes_in_chunks_in_order(db):
    async with db.engine.connect() as conn:
        trips = await counting_trips(conn)
        result = await conn.stream(text("SELECT id FROM notes ORDER BY id"))
        ids = [row.id async for row in result]
        assert ids == list(range(1, ROWS + 1))
        assert trips.count == 1 + ROWS // CHUNK   # a chunk a trip: not the whole result in memory


async def test_a_stream_closed_early_closes_its_cursor(db):
    async with db.engine.connect() as conn:
        result = await conn.stream(text("SELECT id FROM notes ORDER BY id"))
        assert (await result.fetchmany(3)) == [(1,), (2,), (3,)]
        await result.close()
        assert (await conn.execute(text("SELECT count(*) FROM notes"))).scalar_one() == ROWS


async def test_row_counts_and_the_last_row_id(db):
    async with db.write() as session:
        updated = await session.execute(text("UPDATE notes SET body = body || '!' WHERE id <= 10"))
        assert updated.rowcount == 10
        inserted = await session.execute(text("INSERT INTO notes (body) VALUES ('new')"))
        assert inserted.lastrowid == ROWS + 1
        many = await session.execute(text("DELETE FROM notes WHERE id = :id"), [{"id": 1}, {"id": 2}, {"id": 999_999}])
        assert many.rowcount == 2


async def test_an_error_is_sqlalchemys_and_the_connection_carries_on(db):
    async with db.engine.connect() as conn:
        with pytest.raises(exc.OperationalError, match="no such table"):
            await conn.execute(text("SELECT * FROM missing"))
        await conn.rollback()
        assert (await conn.execute(text("SELECT count(*) FROM notes"))).scalar_one() == ROWS
    with pytest.raises(exc.IntegrityError):
        async with db.write() as session:
            await session.execute(text("INSERT INTO notes (id, body) VALUES (1, 'twice')"))
    async with db.write() as session:   # the failed transaction was rolled back, nothing kept
        await session.execute(text("INSERT INTO notes (body) VALUES ('after')"))
    async with db.engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM notes"))).scalar_one() == ROWS + 1
