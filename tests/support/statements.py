"""Counting what a piece of work costs the database: the statements it sends, the
transactions it ends and the connections it takes from the pool. Counts, not times: a
regression guard that holds on a loaded machine."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.db import LONE_STATEMENTS

CHECKOUT, BEGIN, COMMIT, ROLLBACK = "<checkout>", "<begin>", "<commit>", "<rollback>"
_counting: ContextVar[object | None] = ContextVar("counting", default=None)


@dataclass
class StatementLog:
    """In order: SQL statements (an executemany once: one round trip), pool checkouts, and on
    PostgreSQL the BEGIN the driver sends before a transaction's first statement (SQLite's
    BEGIN is a statement of its own, app/core/db.py), COMMITs and ROLLBACKs."""

    entries: list[str] = field(default_factory=list)
    # Beside each entry: the parameters a statement was sent with as the driver got them
    # (None for the other entries), so bench/bare_sql.py can replay it on the bare driver.
    parameters: list[object] = field(default_factory=list)
    # What a pool pre-ping costs per checkout: asyncpg pings in a transaction of its own
    # (BEGIN, ping, ROLLBACK); nothing when the pool does not pre-ping.
    ping_round_trips: int = 0

    @property
    def statements(self) -> list[str]:
        return [e for e in self.entries if not e.startswith("<")]

    @property
    def checkouts(self) -> int:
        return self.entries.count(CHECKOUT)

    @property
    def round_trips(self) -> int:
        """Statements, BEGIN/COMMIT/ROLLBACK, and the pre-ping of each checkout."""
        return len(self.entries) - self.checkouts + self.checkouts * self.ping_round_trips

    def lines(self) -> list[str]:
        return [" ".join(e.split())[:150] for e in self.entries]


@contextmanager
def counting(engine: AsyncEngine, *, this_task: bool = False) -> Iterator[StatementLog]:
    """`this_task`: only what the task entering the block and the tasks it starts send (a
    request served over ASGI), not the event hub's reads, which run in a task started before."""
    sync = engine.sync_engine
    token = _counting.set(object()) if this_task else None
    mine = _counting.get()
    postgres = sync.dialect.name == "postgresql"
    log = StatementLog(ping_round_trips=(3 if postgres else 1) if getattr(sync.pool, "_pre_ping", False) else 0)

    def ours() -> bool:  # tasks inherit the context they are started in
        return token is None or _counting.get() is mine

    def on_execute(_conn, _cursor, statement, parameters, _context, _executemany):
        if ours():
            log.entries.append(statement)
            log.parameters.append(parameters)

    def ends(entry: str):
        def on_event(conn):
            # Under AUTOCOMMIT the driver sends no BEGIN, COMMIT or ROLLBACK, nor SQLite's
            # quick reads (app/core/db.py).
            options = conn.get_execution_options()
            if ours() and options.get("isolation_level") != "AUTOCOMMIT" and not options.get(LONE_STATEMENTS):
                log.entries.append(entry)
                log.parameters.append(None)
        return on_event

    def on_checkout(*_):
        if ours():
            log.entries.append(CHECKOUT)
            log.parameters.append(None)

    listeners = [(sync, "before_cursor_execute", on_execute),
                 (sync, "commit", ends(COMMIT)), (sync, "rollback", ends(ROLLBACK)),
                 (sync.pool, "checkout", on_checkout)]
    if postgres:  # SQLite's BEGIN is a statement (app/core/db.py)
        listeners.append((sync, "begin", ends(BEGIN)))
    for target, name, fn in listeners:
        event.listen(target, name, fn)
    try:
        yield log
    finally:
        for target, name, fn in listeners:
            event.remove(target, name, fn)
        if token is not None:
            _counting.reset(token)
