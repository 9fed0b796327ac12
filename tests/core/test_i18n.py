"""Every UI string in the templates and routes has a Dutch translation."""
from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir

from app.core import i18n
from app.web.rendering import TEMPLATES_DIR

ROOT = Path(__file__).resolve().parents[2]


def ui_strings() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(TEMPLATES_DIR), method_map=[("**.html", "jinja2")], options_map={"**.html": {}}):
        found.add(message)
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT / "app"), method_map=[("**.py", "python")]):
        if isinstance(message, str):
            found.add(message)
    return found


def test_every_ui_string_has_a_dutch_translation():
    strings = ui_strings()
    assert len(strings) > 25
    catalog = i18n._catalog("nl")
    missing = sorted(s for s in strings if s not in catalog)
    assert not missing, f"add these to app/locale/nl/LC_MESSAGES/messages.po: {missing}"


def test_language_choice_prefers_user_then_browser():
    assert i18n.choose_language("nl", "en-GB,en;q=0.9") == "nl"
    assert i18n.choose_language(None, "nl-BE,nl;q=0.9,en;q=0.8") == "nl"
    assert i18n.choose_language(None, "de-DE") == "en"
    assert i18n.choose_language(None, None) == "en"
