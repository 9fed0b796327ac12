"""The values the dashboard's filter drop-downs offer, read through indexes (what the stored
mentions hold: channels, sources, languages)."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.models import Mention
from app.mentions.queries import sql_literal


def distinct_values(column):
    """SQL: the values of `column` among customers' posts, in order, read by jumping from one
    value to the next in the column's index (a loose index scan: one seek per value, where a
    DISTINCT reads every mention ever stored; neither database skips through an index itself)."""
    inbound = col(Mention.direction) == sql_literal("inbound")

    def first_after(bound) -> Any:
        after = [column > bound] if bound is not None else [column.is_not(None)]
        return select(column).where(inbound, *after).order_by(column).limit(1).scalar_subquery()

    values = sa.select(first_after(None).label("value")).cte("choice", recursive=True)
    values = values.union_all(sa.select(first_after(values.c.value)).where(values.c.value.is_not(None)))
    return sa.select(values.c.value).where(values.c.value.is_not(None)).order_by(values.c.value)


async def filter_choices(session: AsyncSession) -> dict[str, list[str]]:
    """The values the dashboard's drop-downs offer: what the stored mentions hold."""
    async def distinct(column) -> list[str]:
        return [value for value in (await session.execute(distinct_values(column))).scalars() if value]
    return {"channel": await distinct(col(Mention.channel)), "source": await distinct(col(Mention.source)),
            "language": await distinct(col(Mention.language))}
