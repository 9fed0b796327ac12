"""How refusals reach people. A domain error from a service answers an API client with JSON
`{"detail": message, ...}` and its status, and a person with an error page in their language;
pages that need a login redirect to it; other HTTP errors do the same split (JSON for the
API, a page for people), except 401, which only API credentials raise. An unexpected
exception is logged and answered as a plain 500, with the security headers every answer has
and no trace of the code. The database being away for now (a restart, a full pool, SQLite's
busy timeout) is not a bug: 503 with Retry-After and one log line, no traceback."""
from __future__ import annotations

import logging
from collections.abc import Mapping
from urllib.parse import quote

import asyncpg
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.core import i18n
from app.core.db import database_unavailable
from app.core.errors import DomainError
from app.web.deps import LoginRequired
from app.web.middleware import SECURITY_HEADERS
from app.web.rendering import render

log = logging.getLogger(__name__)
UNEXPECTED = "An unexpected error happened; it has been logged."  # translated on the page
UNAVAILABLE = "The database is unavailable right now. Please try again in a moment."  # translated
RETRY_AFTER_SECONDS = 5
# What a driver raises when the database is away; database_unavailable() decides for each one.
DATABASE_ERRORS = (sa_exc.DBAPIError, sa_exc.TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError)


def wants_json(request: Request) -> bool:
    """An API request: under /api, or one that asked for JSON rather than a page."""
    path = request.url.path
    if path == "/api" or path.startswith("/api/"):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def error_page(request: Request, status: int, message: str, headers: Mapping[str, str] | None = None):
    """The error page, in the signed-in user's language, else the browser's."""
    principal = getattr(request.state, "principal", None)
    i18n.set_language(i18n.choose_language(principal.user.language if principal else None,
                                           request.headers.get("accept-language")))
    response = render(request, "error.html", status_code=status, status=status, message=i18n.gettext(message))
    response.headers.update(headers or {})
    return response


def refusal(request: Request, status: int, detail, headers: Mapping[str, str] | None = None):
    """JSON `{"detail": ...}` for an API client (and for 401, and for details that are not
    words), an error page for a person."""
    if wants_json(request) or status == 401 or not isinstance(detail, str):
        return JSONResponse({"detail": detail}, status_code=status, headers=headers)
    return error_page(request, status, detail, headers)


def add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, _exc: LoginRequired):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError):
        if wants_json(request):
            return JSONResponse(exc.body(), status_code=exc.status)
        return error_page(request, exc.status, exc.message)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        return refusal(request, exc.status_code, exc.detail, exc.headers)

    async def database_away(request: Request, exc: Exception):
        if not database_unavailable(exc):
            raise exc  # a bug after all: the 500 below, with its traceback in the log
        log.warning("%s %s: database unavailable (%s); answered 503", request.method, request.url.path,
                    type(exc).__name__)
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        try:
            return refusal(request, 503, UNAVAILABLE, headers)
        except Exception:  # the page needs the database too (the signed-in user): plain words
            return JSONResponse({"detail": UNAVAILABLE}, status_code=503, headers=headers)

    for error in DATABASE_ERRORS:
        app.add_exception_handler(error, database_away)

    # Starlette answers this outside every middleware and then re-raises, so the server logs
    # the traceback; the answer gets the security headers here and none of the traceback.
    @app.exception_handler(Exception)
    async def unexpected(request: Request, _exc: Exception):
        try:
            response = refusal(request, 500, UNEXPECTED)
        except Exception:  # the error page itself failed: plain words will do
            response = JSONResponse({"detail": UNEXPECTED}, status_code=500)
        response.headers.update(SECURITY_HEADERS)
        return response
