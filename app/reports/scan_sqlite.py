"""The report's pass over the period's mentions on SQLite: one packed value per slice.

SQLite has no hash aggregate: a GROUP BY sorts every row first, and on a million mentions the
sort (or a dozen conditional sums per row) costs several times the reading. So the pass adds
little per row: for each slice of the period (one for an ungrouped report; days or hours for
a time grouping, found through the posted_at index) one correlated aggregate returns, packed in
a JSON array, the mentions' letters as one string, the first-response seconds of timed
answers, and the categories of repeat contacts. Grouped by columns (channel, responder, …),
the slice also returns every row's values of those columns in the same row order, and Python
counts the (key, letter) pairs, which is several times faster here than SQLite sorting the
rows.
"""
from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import datetime
from itertools import compress
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.models import Mention
from app.reports.period import Period
from app.reports.tally import IS_REPEAT, TIMED, TIMED_ANSWER, Scan, row_letter
from app.reports.timeslices import Slice

# bytes.translate table: 1 for the letters whose first-response seconds are in the seconds list
_TIMED_MASK = bytes(1 if chr(i) in TIMED else 0 for i in range(256))


def _count_rows(found: Scan, keys: list, letters: str, seconds: list[int]) -> None:
    """Per-row keys, letters and (for timed answers, in the same order) seconds → tallies."""
    for (key, letter), n in Counter(zip(keys, letters, strict=True)).items():
        found.group(key).letters[letter] += n
    by_key: defaultdict[Any, list[int]] = defaultdict(list)
    for key, value in zip(compress(keys, letters.encode("ascii").translate(_TIMED_MASK)), seconds, strict=False):
        by_key[key].append(value)
    for key, values in by_key.items():
        found.add_seconds(key, values)


async def scan(session: AsyncSession, conds: list, now: datetime, columns: list | None,
               slices: list[Slice] | None, period: Period) -> Scan:
    """The tallies of the period's mentions matching `conds`: per slice key, or per tuple of
    the values of `columns`, or (neither) in one group keyed None."""
    ranges = slices or [Slice(period.since, period.until, None)]
    dialect = session.bind.dialect
    stored = Mention.__table__.c.posted_at.type.dialect_impl(dialect).bind_processor(dialect)  # text as kept
    bounds = json.dumps([[stored(s.start), stored(s.end)] for s in ranges])
    each = func.json_each(bindparam("slices", bounds)).table_valued("key", "value").alias("slice")
    packed = [func.group_concat(row_letter(now), ""),
              func.json_group_array(Mention.first_response_seconds).filter(TIMED_ANSWER),
              func.json_group_array(Mention.category).filter(IS_REPEAT)]
    per_row_key = bool(columns) and slices is None
    if per_row_key:
        packed.extend(func.json_group_array(column) for column in columns)
    per_slice = (select(func.json_array(*packed)).where(
        *conds, Mention.posted_at >= func.json_extract(each.c.value, "$[0]"),
        Mention.posted_at < func.json_extract(each.c.value, "$[1]")).scalar_subquery())
    found = Scan()
    for index, value in await session.execute(select(each.c.key, per_slice)):
        letters, seconds, repeat_categories, *row_keys = json.loads(value)
        if not letters:
            continue
        found.repeats.update(repeat_categories)
        if per_row_key:
            _count_rows(found, list(zip(*row_keys, strict=True)), letters, seconds)
        else:
            found.group(ranges[index].key).letters.update(letters)
            found.add_seconds(ranges[index].key, seconds)
    return found
