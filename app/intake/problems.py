"""What went wrong with a source, said twice: for the team in plain words, for admins in detail.

A failed poll stores the *kind* of error (`source_state.last_error_kind`, chosen here from the
exception) and the detail (`last_error`: our reason, which may quote the remote server, with
markup stripped and shortened). Responders and leads see only the plain state derived from the
kind ("the server refused our credentials"), in their language; the server's own words, which
may be anything a remote server chooses to send, are for admins (the sources page, and
`last_error_detail` in `GET /api/sources`).
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx

from app.core.i18n import N_
from connectors.base import (
    AuthFailed,
    ConnectorError,
    NoAnswer,
    NotAllowed,
    RateLimited,
    Redirected,
    TemporaryFailure,
    TooLarge,
    Unreadable,
)
from connectors.http import plain_text

MAX_DETAIL = 300  # characters of a failure's detail kept for admins


# kind -> what responders and leads read. `{time}`: when the source polls again (rate limits)
# or should have polled (overdue), in the team's time zone.
STATES: dict[str, str] = {
    "auth": N_("the server refused our credentials"),
    "rate_limited": N_("rate limited until {time}"),
    "unavailable": N_("the server is unavailable"),
    "no_answer": N_("no answer"),
    "unreadable": N_("the answer could not be read"),
    "too_large": N_("the server sent more than we accept"),
    "blocked": N_("the server's address is not allowed"),
    "redirected": N_("the server sent us to another address"),
    "refused": N_("the server refused the request"),
    "configuration": N_("the source is not set up correctly"),
    "database": N_("the database was unavailable"),
    "internal": N_("something went wrong on our side"),
    "overdue": N_("no poll since {time}: is a worker running?"),
}
UNKNOWN_STATE = N_("the last poll failed")

# Most specific first: the first class the exception is an instance of names its kind.
_KINDS: tuple[tuple[type[BaseException] | tuple[type[BaseException], ...], str], ...] = (
    (RateLimited, "rate_limited"), (AuthFailed, "auth"), (NotAllowed, "blocked"), (TooLarge, "too_large"),
    (Redirected, "redirected"), (Unreadable, "unreadable"), (NoAnswer, "no_answer"),
    (TemporaryFailure, "unavailable"), (ConnectorError, "refused"),
    ((TimeoutError, asyncio.TimeoutError), "no_answer"), (httpx.HTTPError, "unavailable"),
)


def error_kind(exc: BaseException) -> str:
    """The kind stored for a failed poll, from the exception that failed it."""
    return next((kind for cls, kind in _KINDS if isinstance(exc, cls)), "internal")


def detail_text(reason: str, redact: Callable[[str], str]) -> str:
    """A failure's detail as stored: plain text (a remote error page loses its markup), without
    configured secrets, at most MAX_DETAIL characters. Redacted before it is shortened, so a
    secret is never cut into a piece the redactor no longer knows."""
    return plain_text(redact(plain_text(reason, 100_000)), MAX_DETAIL)


def error_state(kind: str | None, *, when: datetime | None = None, timezone: str = "UTC",
                translate: Callable[[str], str] = lambda message: message) -> str:
    """The plain words for `kind`, translated by `translate` (pages and the API pass gettext;
    events and chat alerts keep English)."""
    message = translate(STATES.get(kind or "", UNKNOWN_STATE))
    shape = "%Y-%m-%d %H:%M" if kind == "overdue" else "%H:%M"  # overdue may be days ago
    return message.replace("{time}", when.astimezone(ZoneInfo(timezone)).strftime(shape) if when else "?")
