"""UI strings in Dutch and English (Babel catalogs), chosen per request.

Templates are written in English; `app/locale/<lang>/LC_MESSAGES/messages.po` holds the
translations and is read once at start (no compile step needed on a fresh machine)."""
from __future__ import annotations

from contextvars import ContextVar
from functools import cache
from pathlib import Path

from babel import Locale, UnknownLocaleError, negotiate_locale
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

LOCALE_DIR = Path(__file__).parent.parent / "locale"
UI_LANGUAGES = ("en", "nl")
DEFAULT_LANGUAGE = "en"
_current: ContextVar[str] = ContextVar("ui_language", default=DEFAULT_LANGUAGE)


@cache
def _catalog(language: str) -> dict[str, str]:
    path = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return {}
    with path.open("rb") as fh:
        catalog = read_po(fh)
    # Singular messages only: the templates use no plural forms (ids and strings would be tuples).
    return {m.id: m.string for m in catalog
            if isinstance(m.id, str) and m.id and isinstance(m.string, str) and m.string and not m.fuzzy}


def gettext(message: str) -> str:
    return gettext_in(_current.get(), message)


def gettext_in(language: str, message: str) -> str:
    """`message` in `language` (whatever the request's)."""
    return _catalog(language).get(message, message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return gettext(singular if n == 1 else plural)


def N_(message: str) -> str:
    """Marks a message for translation (tests/core/test_i18n.py finds it); translated when shown."""
    return message


def set_language(language: str) -> None:
    _current.set(language if language in UI_LANGUAGES else DEFAULT_LANGUAGE)


def current_language() -> str:
    return _current.get()


def choose_language(user_language: str | None, accept_language: str | None) -> str:
    """The user's own choice, else the browser's preference, else English."""
    if user_language in UI_LANGUAGES:
        return user_language
    preferred = [part.split(";")[0].strip().replace("-", "_") for part in (accept_language or "").split(",")]
    return negotiate_locale([p for p in preferred if p], UI_LANGUAGES, sep="_") or DEFAULT_LANGUAGE


def language_label(code: str) -> str:
    """A language's name in the current UI language ("nl" → "Dutch" or "Nederlands")."""
    try:
        return (Locale.parse(code).get_display_name(current_language()) or code).capitalize()
    except (ValueError, TypeError, UnknownLocaleError):
        return code


def number(value: int | float) -> str:
    """A number as the UI language writes it ("12.345" in Dutch, "12,345" in English)."""
    return format_decimal(value, locale=current_language())
