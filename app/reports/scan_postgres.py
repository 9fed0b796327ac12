"""The report's pass over the period's mentions on PostgreSQL: hash aggregates in the database.

Two statements. The first counts mentions per group and per combination of the plain columns
an outcome depends on (status, within_target, dismiss_reason, …, each with few values), which
the planner estimates well enough to aggregate in parallel; the letters are worked out on those
few grouped rows, not on every mention. (Grouping by the letter expression itself looks like
a million groups to the planner, which then sorts.) The second gathers each group's
first-response seconds into one integer array: a few binary messages, where a row per
distinct (group, seconds) pair would be hundreds of thousands of rows for day or hour groups
(an ungrouped report asks for its frequency table instead: a few thousand rows, counted in
parallel).

Time keys use the slices of `timeslices`: `width_bucket` finds a row's slice among the slice
starts (a binary search, no time-zone conversion per row) and an array maps it to the key.

The two statements run at the same time on two connections. PostgreSQL 15 cannot split an
array_agg over parallel workers (16 can), and a grouping by time slices looks like a million
groups to the planner, so each would otherwise keep one core busy while the other idles.
"""
from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime

from sqlalchemy import DateTime, Integer, case, cast, func, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.elements import Grouping
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.models import Mention
from app.reports.tally import IS_REPEAT, TIMED_ANSWER, UNTIMED, Scan, outcome_letter, past_due
from app.reports.timeslices import Slice


def _keys(columns: list | None, slices: list[Slice] | None):
    """(SQL keys, raw row keys → report key)."""
    if slices is not None:
        keys = list(dict.fromkeys(s.key for s in slices))
        index = {key: i for i, key in enumerate(keys)}
        starts = cast([s.start for s in slices], ARRAY(DateTime(timezone=True)))
        ids = Grouping(cast([index[s.key] for s in slices], ARRAY(Integer)))  # (…)[i]: PostgreSQL wants the brackets
        slice_key = ids[func.width_bucket(Mention.posted_at, starts)]  # arrays count from 1
        return [slice_key], lambda raw: None if raw[0] is None else keys[raw[0]]
    if columns:
        return list(columns), tuple
    return [], lambda raw: None


async def scan(session: AsyncSession, conds: list, now: datetime, columns: list | None,
               slices: list[Slice] | None) -> Scan:
    """The tallies of the mentions matching `conds`: per slice key, or per tuple of the values
    of `columns`, or (neither) in one group keyed None (`session` bound to the engine, which
    lends the second connection)."""
    keys, key_of = _keys(columns, slices)
    keyed = [key.label(f"key{i}") for i, key in enumerate(keys)]
    width = len(keyed)
    found = Scan()

    plain = [Mention.category, Mention.status, Mention.within_target, Mention.dismiss_reason, Mention.removed,
             UNTIMED.label("untimed"), past_due(now).label("past_due"), IS_REPEAT.label("repeat")]
    grouped = select(*keyed, *plain, func.count().label("n")).where(*conds).group_by(*keyed, *plain).subquery()
    c = grouped.c
    letter = outcome_letter(status=c.status, within=c.within_target, untimed=c.untimed, removed=c.removed,
                            past_due=c.past_due, reason=c.dismiss_reason, repeat=c.repeat)
    counts = select(*(c[f"key{i}"] for i in range(width)), letter, case((c.repeat, c.category)), c.n)
    response = Mention.first_response_seconds
    if keyed:
        seconds = select(*keyed, func.array_agg(response)).where(*conds, TIMED_ANSWER).group_by(*keyed)
    else:  # one group: its frequency table is a few thousand rows, and counted in parallel
        seconds = select(response, func.count()).where(*conds, TIMED_ANSWER).group_by(response)
    count_rows, seconds_rows = await asyncio.gather(_counts(session.bind, counts), session.execute(seconds))
    for row in count_rows:
        letter_value, repeat_category, n = row[width:]
        found.group(key_of(row[:width])).letters[letter_value] += n
        if letter_value.isupper():
            found.repeats[repeat_category] += n
    if keyed:
        for row in seconds_rows:
            found.add_seconds(key_of(row[:width]), row[width])
    else:
        found.add_seconds(None, Counter(dict(seconds_rows.all())))
    return found


async def _counts(engine: AsyncEngine, statement) -> list:
    """The counting statement, on a connection of its own (see the module's docstring)."""
    async with engine.connect() as connection:
        # The planner multiplies the value counts of the grouped columns as if independent
        # (status × within_target × dismiss_reason × …), expects a hash table too big for
        # work_mem and sorts the million rows instead; the real groups are a few hundred.
        await connection.execute(text("SET LOCAL hash_mem_multiplier = 64"))
        return (await connection.execute(statement)).all()
