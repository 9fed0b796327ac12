"""The shared input limits: JSON depth found without parsing, ids from forms, the years."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from app.core.bounds import as_row_id, day_within_years, json_too_deep, within_years


@pytest.mark.parametrize(("body", "deep"), [
    (b"[[[]]]", True), (b"[[]]", False), (b'{"a": {"b": []}}', True), (b'{"a": {"b": 1}}', False),
    (b'["[[[[[[", "{{{{"]', False),            # brackets inside strings do not nest
    (b'["\\"[[[[", 1]', False),               # nor after an escaped quote
    (b'["\\\\", [[[]]]]', True),               # an escaped backslash ends its string
    (b"[" * 100_000 + b"]" * 100_000, True), (b"[]" * 100_000, False), (b"", False), (b'"x', False),
])
def test_json_depth_is_found_without_parsing(body, deep):
    assert json_too_deep(body, limit=2) is deep


@pytest.mark.parametrize(("text", "expected"), [
    ("12", 12), (" 7 ", 7), ("2147483647", 2147483647), ("2147483648", None), ("0", None), ("-1", None),
    ("²", None), ("٣", None), ("1e3", None), ("", None), ("9" * 40, None),
])
def test_a_row_id_from_a_form_is_ascii_digits_within_int4(text, expected):
    assert as_row_id(text) == expected


def test_moments_must_lie_in_the_years_we_keep_whatever_their_offset():
    minus_14 = timezone(timedelta(hours=-14))
    plus_14 = timezone(timedelta(hours=14))
    for moment in (datetime(9999, 12, 31, 23, 59, 59, tzinfo=minus_14), datetime(1, 1, 1, tzinfo=plus_14),
                   datetime(1999, 12, 31, 23, 59, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC),
                   datetime(2000, 1, 1, 9, tzinfo=plus_14)):  # the years are UTC's: that is 1999 there
        with pytest.raises(ValueError, match="between 2000-01-01 and 2099-12-31"):
            within_years(moment)
    assert within_years(datetime(2000, 1, 1, 23, tzinfo=plus_14))  # 09:00 UTC
    with pytest.raises(ValueError, match="must be"):
        day_within_years(date(9999, 12, 31))
    assert day_within_years(date(2099, 12, 31)) == date(2099, 12, 31)
