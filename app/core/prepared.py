"""Statements built once per shape and run again with new parameters. Building the queue's
select (its subqueries, their columns, SQLAlchemy's cache key) cost more CPU per request than
SQLite took to run it; built once, the statement keeps its cache key and its compiled SQL."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.columns import UTCDateTime

# The moments a statement compares with, given when it runs: {NOW: now}.
NOW, DUE_BY, TODAY = "now", "due_by", "today"
# Shapes kept: the filters a page was asked with are part of the shape (a text search's words
# too), so a bounded number; one asked again after it was dropped is simply built again.
SHAPES = 256

# What a statement builder compares with: a value, or a parameter given when it runs (`at`).
Moment = datetime | sa.BindParameter[Any]
F = TypeVar("F", bound=Callable[..., Any])


def prepared(build: F) -> F:
    """`build`, called once for each set of (hashable) arguments."""
    return lru_cache(maxsize=SHAPES)(build)  # type: ignore[return-value]


def at(name: str) -> sa.BindParameter:
    """A moment given when the statement runs (`params[name]`), an aware datetime."""
    return sa.bindparam(name, type_=UTCDateTime())


async def core_rows(session: AsyncSession, statement: sa.Executable, params: dict[str, Any] | None = None,
                    ) -> Sequence[Any]:
    """The rows of a Core `statement` (one kept, not built per request) as tuples, run on the
    session's connection: the ORM's execution cost more than reading a few rows."""
    return (await (await session.connection()).execute(statement, params or {})).all()
