"""CSV that a spreadsheet opens as data, never as formulas: the one writer every export uses.

Every field is quoted. A text that a spreadsheet would run (starting with `=`, `+`, `-`, `@`,
tab or CR, also behind leading spaces or invisible format characters such as a zero-width space,
and in full-width forms such as `＝`) gets a leading apostrophe. Quoting does not stop a reader
that splits on `;` (Excel in a Dutch locale opens a comma file that way) or that lost track of
the quotes at a line break: it starts a new cell after every `;` or line break inside a field.
So the text after each of those is judged as a cell start too, and neutralised the same way.
Numbers stay numbers (a quoted `-5` is still the number -5 to a spreadsheet).
"""
from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FORMULA_CHARS = frozenset("=+-@")
# Where a careless reader starts a new cell inside one of our fields.
CELL_BREAK = re.compile(r"(;|\r\n|\r|\n)")


def _first_visible(text: str, skip: str = "") -> str:
    """The first character that is neither white space nor an invisible format character
    (zero-width space and joiners, byte order mark, soft hyphen: Unicode category Cf), nor
    one of `skip`."""
    for ch in text:
        if not ch.isspace() and unicodedata.category(ch) != "Cf" and ch not in skip:
            return ch
    return ""


def runs_as_formula(text: str, *, skip_quotes: bool = False) -> bool:
    """True when a spreadsheet would take a cell starting with `text` as a formula.
    `skip_quotes`: a cell that starts mid-field may start with the field's (doubled) quotes."""
    if text.startswith(FORMULA_STARTS):
        return True
    first = _first_visible(text, '"' if skip_quotes else "")
    # NFKC folds the full-width and small forms (＝ ＋ － ＠ ﹦ ﹢ ﹣) onto = + - @.
    return bool(first) and unicodedata.normalize("NFKC", first)[:1] in FORMULA_CHARS


def safe_text(text: str) -> str:
    parts = CELL_BREAK.split(text)
    out = [parts[0]]
    for i in range(1, len(parts), 2):
        separator, rest = parts[i], parts[i + 1]
        out += [separator, "'" + rest if runs_as_formula(rest, skip_quotes=True) else rest]
    guarded = "".join(out)
    return "'" + guarded if runs_as_formula(text) else guarded


def safe_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return safe_text(value)
    return value


def csv_line(values: Iterable[Any]) -> str:
    """One CSV record (CRLF-terminated), every field quoted and made safe."""
    buffer = io.StringIO()
    csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n").writerow([safe_cell(v) for v in values])
    return buffer.getvalue()
