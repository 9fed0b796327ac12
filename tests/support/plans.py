"""EXPLAIN for a SQLAlchemy statement on SQLite and PostgreSQL, with its parameters bound as the
app binds them, so a test reads the plan the database really picks."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ClauseElement, Executable


class Explain(Executable, ClauseElement):
    inherit_cache = False

    def __init__(self, statement):
        self.statement = statement


@compiles(Explain, "sqlite")
def _explain_sqlite(element, compiler, **kw):
    return "EXPLAIN QUERY PLAN " + compiler.process(element.statement, **kw)


@compiles(Explain, "postgresql")
def _explain_postgresql(element, compiler, **kw):
    return "EXPLAIN " + compiler.process(element.statement, **kw)


async def plan(session, statement) -> str:
    """The plan, one step per line (SQLite's `detail` column, PostgreSQL's text)."""
    rows = (await session.execute(Explain(statement))).all()
    return "\n".join(str(row[-1]) for row in rows)


async def gather_statistics(session) -> None:
    """As a long-running database has them: plans must stay good once statistics exist."""
    await session.execute(text("ANALYZE"))


def mention_row(n: int, status: str, now: datetime, backfill: bool = False) -> dict:
    """A mentions row for a bulk insert: posted n minutes ago (up to 5000), due an hour later."""
    posted = now - timedelta(minutes=n % 5000)
    return {"source": "push", "channel": "push", "external_id": f"p{n}", "direction": "inbound", "author": f"a{n % 97}",
            "text": "Mijn pakket is niet aangekomen", "urgency_reasons": [], "posted_at": posted, "fetched_at": posted,
            "due_at": posted + timedelta(hours=1), "warning_at": posted + timedelta(minutes=45),
            "due_minute": int((posted + timedelta(hours=1)).timestamp() // 60), "status": status,
            "backfill": backfill, "removed": False, "urgency": n % 3}
