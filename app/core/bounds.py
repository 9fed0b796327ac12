"""The limits every input shares, written once: how big a number, how far back or ahead a
moment, how large and how deeply nested a request body may be.

Each limit is what the storage or the parser can hold, not a taste: ids and counts live in
32-bit integer columns on PostgreSQL (a bigger number names no row, and the driver refuses
it with an error rather than an empty answer); Python's datetime ends at year 9999, so a
moment near it cannot even be moved to UTC; and a JSON parser recurses once per nesting
level. Inputs past a limit are refused with 4xx and a plain message, before any service or
query sees them."""
from __future__ import annotations

import re
from array import array
from datetime import UTC, date, datetime
from itertools import accumulate
from typing import Annotated

from annotated_types import Ge, Le
from pydantic import AfterValidator, AwareDatetime

INT4_MAX = 2**31 - 1
MAX_BODY_BYTES = 1024 * 1024
MAX_JSON_DEPTH = 64

# No channel we read is older than this, and no team plans past the end of this century; both
# ends stay far from datetime's own limits, whatever the offset (−14:00 … +14:00).
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
YEARS = f"between {EARLIEST:%Y-%m-%d} and {LATEST.year - 1}-12-31"

# A row id (path, query or body): 1 up to the largest id a PostgreSQL `integer` column holds.
RowId = Annotated[int, Ge(1), Le(INT4_MAX)]
# A count or an offset: never more than there can be rows.
Count = Annotated[int, Ge(0), Le(INT4_MAX)]


def as_row_id(text: str) -> int | None:
    """Text typed or posted in a form as a row id, or None when it cannot name a row."""
    text = text.strip()
    # isdecimal alone would let "٣" and int() would take it; ids are ASCII digits
    return int(text) if text.isascii() and text.isdecimal() and 0 < int(text) <= INT4_MAX else None


def within_years(moment: datetime) -> datetime:
    """`moment` (timezone-aware), or ValueError when it lies outside EARLIEST … LATEST."""
    if not EARLIEST <= moment < LATEST:  # aware comparisons never overflow, whatever the offset
        raise ValueError(f"must be {YEARS}")
    return moment


def day_within_years(day: date) -> date:
    """`day`, or ValueError when it lies outside the years of `within_years` (checked before any
    day arithmetic, which would overflow at 9999-12-31)."""
    if not EARLIEST.date() <= day < LATEST.date():
        raise ValueError(f"must be {YEARS}")
    return day


# A moment given to the API: with an offset, inside the years above.
Moment = Annotated[AwareDatetime, AfterValidator(within_years)]


_STRINGS = re.compile(rb'"[^"\\]*+(?:\\.[^"\\]*+)*+"')  # possessive: no backtracking
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")  # +1 and -1 as signed bytes


def json_too_deep(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether JSON text nests arrays and objects deeper than `limit`, found without parsing
    it (the parser would recurse once per level). Brackets inside strings do not count."""
    steps = _STRINGS.sub(b"", body).translate(None, _NOT_BRACKETS).translate(_STEPS)
    return max(accumulate(array("b", steps)), default=0) > limit
