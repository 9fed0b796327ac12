"""Requests within limits before any route reads them: a body of at most MAX_BODY_BYTES (413,
whether or not the client declared the length); JSON in UTF-8, nested at most MAX_JSON_DEPTH
deep, so no parser recurses a hundred thousand times on a small body; and no NUL character in
the query string or a body, which PostgreSQL cannot store or even compare (its driver fails
the whole query). Those are answered 422 in the shape FastAPI gives any input it cannot read,
which every route's schema lists. The push is the one exception for NUL: what a channel sends
is cleaned rather than refused, like every connector's posts (app/intake/validate.py).

The body is read here once and handed on unchanged."""
from __future__ import annotations

import re

from starlette.requests import Request

from app.core.bounds import MAX_BODY_BYTES, MAX_JSON_DEPTH, json_too_deep
from app.web.errors import refusal

BODYLESS = {"GET", "HEAD", "OPTIONS"}
FORM = b"application/x-www-form-urlencoded"
MULTIPART = b"multipart/form-data"
TOO_LARGE = f"request body larger than {MAX_BODY_BYTES} bytes"
TOO_DEEP = f"JSON nested more than {MAX_JSON_DEPTH} levels deep"
NOT_UTF8 = "the body is not UTF-8 text; JSON is sent as UTF-8"
NUL = "text may not contain the NUL character (U+0000)"
CLEANS_NUL = "/api/ingest/"
# \u0000 in JSON text, unless its backslash is itself escaped (\\u0000 is the six characters)
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


class InputLimits:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if b"%00" in scope.get("query_string", b""):
            return await _refuse(scope, receive, send, 422, _unreadable("query", NUL))
        if scope["method"] in BODYLESS:
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            return await _refuse(scope, receive, send, 413, TOO_LARGE)
        try:
            body = await _read(receive)
        except _ClientGone:
            return
        if body is None:
            return await _refuse(scope, receive, send, 413, TOO_LARGE)
        if problem := _body_problem(body, headers.get(b"content-type", b""), scope["path"].startswith(CLEANS_NUL)):
            return await _refuse(scope, receive, send, 422, _unreadable("body", problem))
        await self.app(scope, _replay(body, receive), send)


def _body_problem(body: bytes, content_type: bytes, cleans_nul: bool) -> str | None:
    """What makes `body` unreadable, or None. Forms carry their characters percent-encoded."""
    if content_type.startswith(MULTIPART):
        return None  # parsed (and limited) by python-multipart; no route here takes files
    if content_type.startswith(FORM):
        return NUL if b"%00" in body else None
    try:
        body.decode()
    except UnicodeDecodeError:
        return NOT_UTF8
    if json_too_deep(body):
        return TOO_DEEP
    # the plain search first: the regex alone takes 50 ms on a full push body
    return NUL if not cleans_nul and b"\\u0000" in body and _JSON_NUL.search(body) else None


def _unreadable(where: str, message: str) -> list[dict]:
    return [{"loc": [where], "msg": message, "type": "json_invalid" if where == "body" else "value_error"}]


async def _refuse(scope, receive, send, status: int, detail) -> None:
    # `Connection: close`: the rest of an unread body is not worth reading to keep the socket.
    response = refusal(Request(scope, receive), status, detail, {"Connection": "close"})
    await response(scope, receive, send)


class _ClientGone(Exception):
    pass


async def _read(receive) -> bytes | None:
    """The whole body, or None as soon as it is more than the limit."""
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _ClientGone
        body += message.get("body", b"")
        if len(body) > MAX_BODY_BYTES:
            return None
        if not message.get("more_body", False):
            return bytes(body)


def _replay(body: bytes, receive):
    """`receive` for the route: the whole body as one message, then the connection's own
    messages (a disconnect)."""
    sent = False

    async def replayed():
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed
