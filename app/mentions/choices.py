"""The values the dashboard's filter drop-downs offer, read through indexes (what the stored
mentions hold: channels, sources, languages)."""
from __future__ import annotations

from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.models import Mention
from app.core.prepared import core_rows
from app.mentions.queries import sql_literal


def _values(column, name: str):
    """The values of `column` among customers' posts as a recursive CTE, jumping from one value
    to the next in the column's index (a loose index scan: one seek per value, where a DISTINCT
    reads every mention ever stored; neither database skips through an index itself)."""
    inbound = col(Mention.direction) == sql_literal("inbound")

    def first_after(bound) -> Any:
        after = [column > bound] if bound is not None else [column.is_not(None)]
        return select(column).where(inbound, *after).order_by(column).limit(1).scalar_subquery()

    values = sa.select(first_after(None).label("value")).cte(name, recursive=True)
    return values.union_all(sa.select(first_after(values.c.value)).where(values.c.value.is_not(None)))


def distinct_values(column):
    """SQL: the values of `column` among customers' posts, in order (see `_values`)."""
    values = _values(column, "choice")
    return sa.select(values.c.value).where(values.c.value.is_not(None)).order_by(values.c.value)


FILTERED = {"channel": col(Mention.channel), "source": col(Mention.source), "language": col(Mention.language)}


@cache  # the same statement every time: built once (it took longer to build than to run)
def choices_query():
    """SQL: (filter, value) for every filter of FILTERED, in one statement (one round trip), each
    filter's values in order."""
    found = sa.union_all(*(sa.select(sa.literal(key).label("filter"), values.c.value).where(values.c.value.is_not(None))
                           for key, values in ((key, _values(column, f"{key}_choice"))
                                               for key, column in FILTERED.items()))).subquery()
    return sa.select(found.c.filter, found.c.value).order_by(found.c.filter, found.c.value)


async def filter_choices(session: AsyncSession) -> dict[str, list[str]]:
    """The values the dashboard's drop-downs offer: what the stored mentions hold."""
    choices: dict[str, list[str]] = {key: [] for key in FILTERED}
    for key, value in await core_rows(session, choices_query()):
        if value:
            choices[key].append(value)
    return choices
