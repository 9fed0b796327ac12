"""A request's bare SQL: the very statements one request sent to the database (same text, same
parameters, with its BEGIN/COMMIT/ROLLBACK), captured through SQLAlchemy's events during a
warm-up request and replayed through the bare driver (sqlite3 or asyncpg) in the same run.
What the app costs beyond that is Python: routing, auth, SQLAlchemy, building and rendering.

`engine_replay` sends the same statements the way the app's quick reads do (a session from the
app's Database, SQLAlchemy's async engine, aiosqlite's thread or asyncpg), rows fetched but not
typed: the least any route on this stack pays for those statements before it uses a row.
`sqlalchemy_replay` (SQLite) sends them through SQLAlchemy alone, on a plain connection in this
thread: what of that is SQLAlchemy's own and what the hand-off to aiosqlite's thread."""
from __future__ import annotations

import sqlite3
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.db import Database

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the helpers in tests/support

from tests.support.statements import BEGIN, CHECKOUT, COMMIT, ROLLBACK, StatementLog, counting

# What the driver sends for each marker counting() logs (a checkout sends nothing: no
# pre-ping while connections are in use, app/core/db.py).
_MARKERS = {BEGIN: "BEGIN", COMMIT: "COMMIT", ROLLBACK: "ROLLBACK", CHECKOUT: None}
Replay = Callable[[], Awaitable[None]]


async def capture(engine: AsyncEngine, request: Callable[[], Awaitable[object]]) -> StatementLog:
    """What `request` sends (it runs in this task, as httpx's ASGI transport runs the app)."""
    with counting(engine, this_task=True) as log:
        await request()
    return log


def _steps(log: StatementLog) -> list[tuple[str, tuple]]:
    steps: list[tuple[str, tuple]] = []
    for entry, parameters in zip(log.entries, log.parameters, strict=True):
        statement = _MARKERS.get(entry, entry)
        if statement is not None:
            steps.append((statement, tuple(parameters or ())))  # type: ignore[arg-type]
    return steps


def _statements(log: StatementLog) -> list[tuple[str, tuple]]:
    """The steps without BEGIN/COMMIT/ROLLBACK, as a quick read sends them (no transaction)."""
    return [step for step in _steps(log) if step[0] not in _MARKERS.values()]


def describe(name: str, log: StatementLog) -> str:
    lines = [f"{name}: {len(log.statements)} statements, {len(_steps(log))} round trips"]
    lines += [f"    {line}" for line in log.lines() if line != CHECKOUT]
    return "\n".join(lines)


def _in_turn(steps: list[tuple[str, tuple]], send: Callable[[str, tuple], object]) -> Replay:
    """A replay through a driver that blocks (each statement sent and its rows fetched in turn)."""
    async def run() -> None:
        for statement, parameters in steps:
            send(statement, parameters)
    return run


def sqlite_replay(conn: sqlite3.Connection, log: StatementLog) -> Replay:
    """`conn`: opened with isolation_level=None, as the app's (transactions are its statements)."""
    return _in_turn(_steps(log), lambda statement, parameters: conn.execute(statement, parameters).fetchall())


def postgres_replay(conn: asyncpg.Connection, log: StatementLog) -> Replay:
    steps = _steps(log)

    async def run() -> None:
        for statement, parameters in steps:
            await conn.fetch(statement, *parameters)
    return run


def engine_replay(db: Database, log: StatementLog) -> Replay:
    """What the request read, again through `db` as a quick read: its statements one after the
    other on one pooled connection, without the BEGIN/COMMIT a quick read does not send."""
    statements = _statements(log)

    async def run() -> None:
        async with db.quick_read() as session:
            conn = await session.connection()
            for statement, parameters in statements:
                (await conn.exec_driver_sql(statement, parameters)).all()
    return run


def sqlalchemy_replay(conn: sa.Connection, log: StatementLog) -> Replay:
    """`engine_replay` without the async driver: `conn` from a plain SQLAlchemy engine (pysqlite)."""
    return _in_turn(_statements(log), lambda statement, parameters: conn.exec_driver_sql(statement, parameters).all())
