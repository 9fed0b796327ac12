"""SQLite's `INDEXED BY` through SQLAlchemy's table hints: `select(...).with_hint(table,
"INDEXED BY ix_name", "sqlite")`. SQLAlchemy renders a table hint only on a dialect that says
where it goes, and its SQLite dialect does not; on SQLite it follows the table's name.

Import this module where such a hint is used. A query that names an index it cannot use fails
on SQLite ("no query solution"), so the hint is only for queries stating the index's condition."""
from __future__ import annotations

from sqlalchemy.dialects.sqlite.base import SQLiteCompiler


def _after_the_table(self, table, text: str | None) -> str | None:
    return text


SQLiteCompiler.get_from_hint_text = _after_the_table  # type: ignore[method-assign]
