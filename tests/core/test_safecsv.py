"""The one CSV writer: every field quoted, no cell a spreadsheet would run as a formula, also
for a reader that splits a comma file on `;` (Excel in a Dutch locale) or at line breaks."""
from __future__ import annotations

import csv
import io
import re

import pytest

from app.core.safecsv import csv_line, safe_cell

# What a spreadsheet runs: a formula sign first, after any blanks and invisible characters.
RUNS = re.compile(r'^[\s"\u200b\u200c\u200d\ufeff\u2060\u00ad]*[=+\-@＝＋－＠﹦﹢﹣]|^[\t\r]')


@pytest.mark.parametrize("value", [
    "=1+1", "+31 6 1234", "-2", "@SUM(A1)", "\tx", "\rx",
    " =1+1", "   @x", "\u00a0=1",                                 # behind white space
    "\u200b=1+1", "\u200c+1", "\u200d-1", "\ufeff@x", "\u2060=x",  # behind zero-width characters
    " \u200b \ufeff=HYPERLINK(\"http://x\")",
    "＝1+1", "＋1", "－1", "＠x", "﹦1",                              # full-width and small forms
])
def test_formula_starts_get_an_apostrophe(value):
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["ok", "a=b", "e-mail", "50%", "", "klant@example.org", "'=al veilig"])
def test_ordinary_text_is_left_alone(value):
    assert safe_cell(value) == value


def test_numbers_stay_numbers_and_empty_is_empty():
    assert (safe_cell(-5), safe_cell(2.5), safe_cell(None), safe_cell(True), safe_cell(False)) == (
        -5, 2.5, "", "true", "false")


def test_every_field_is_quoted_and_reads_back_as_written():
    values = ["plain", 42, -5, None, 'say "hi"', "a,b", "a;b", "twee\nregels"]
    line = csv_line(values)
    assert line.endswith("\r\n") and line.count('"') >= 2 * len(values)
    assert re.fullmatch(r'("([^"]|"")*",)*"([^"]|"")*"\r\n', line)
    assert next(csv.reader(io.StringIO(line))) == ["plain", "42", "-5", "", 'say "hi"', "a,b", "a;b", "twee\nregels"]


@pytest.mark.parametrize("value", [
    "prijs;=1+1", "a; +31", "x;\u200b@SUM(A1)", "x;＝1", 'x;"=1', "x;\"\"-1",
    "regel\n=1+1", "regel\r\n@x", "regel\r+1", "\n=1+1",
])
def test_a_reader_splitting_on_semicolons_or_lines_finds_no_formula(value):
    text = csv_line(["id", value, "after"]) + csv_line([value, "=kop", value])
    for delimiter in (";", ","):
        try:
            for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
                assert not any(RUNS.match(cell) for cell in row), (delimiter, row)
        except csv.Error:  # Python's reader gives up on a lone CR outside quotes; Excel breaks the line
            assert delimiter == ";" and "\r" in value
    for line in text.splitlines():  # and a reader that took each physical line as a row
        for cell in line.split(";"):
            assert not RUNS.match(cell.lstrip('"')), cell
    assert next(csv.reader(io.StringIO(text)))[1].replace("'", "") == value.replace("'", "")


def test_the_comma_reader_gets_the_text_back_with_only_the_guards_added():
    tricky = "Bel ons; =cmd|' /C calc'!A0"
    cell = next(csv.reader(io.StringIO(csv_line([tricky]))))[0]
    assert cell == "Bel ons;' =cmd|' /C calc'!A0"
