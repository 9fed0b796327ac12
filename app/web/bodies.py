"""Request bodies within limits before any route reads them: at most MAX_BODY_BYTES (413,
whether or not the client declared the length), and JSON in UTF-8, nested at most
MAX_JSON_DEPTH deep, so no parser recurses a hundred thousand times on a small body (422,
in the shape FastAPI gives any body that is not JSON, which every route's schema lists).

The body is read here once and handed on unchanged; forms are left to their own parser (their
brackets are percent-encoded, never nesting)."""
from __future__ import annotations

from starlette.requests import Request

from app.core.bounds import MAX_BODY_BYTES, MAX_JSON_DEPTH, json_too_deep
from app.web.errors import refusal

BODYLESS = {"GET", "HEAD", "OPTIONS"}
FORMS = (b"application/x-www-form-urlencoded", b"multipart/form-data")
TOO_LARGE = f"request body larger than {MAX_BODY_BYTES} bytes"
TOO_DEEP = f"JSON nested more than {MAX_JSON_DEPTH} levels deep"
NOT_UTF8 = "the body is not UTF-8 text; JSON is sent as UTF-8"


class BodyLimits:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] in BODYLESS:
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            return await self._refuse(scope, receive, send, 413, TOO_LARGE)
        try:
            body = await _read(receive)
        except _ClientGone:
            return
        if body is None:
            return await self._refuse(scope, receive, send, 413, TOO_LARGE)
        if not headers.get(b"content-type", b"").startswith(FORMS):
            if not _utf8(body):
                return await self._refuse(scope, receive, send, 422, _not_json(NOT_UTF8))
            if json_too_deep(body):
                return await self._refuse(scope, receive, send, 422, _not_json(TOO_DEEP))
        await self.app(scope, _replay(body, receive), send)

    @staticmethod
    async def _refuse(scope, receive, send, status: int, message) -> None:
        # `Connection: close`: the rest of an unread body is not worth reading to keep the socket.
        response = refusal(Request(scope, receive), status, message, {"Connection": "close"})
        await response(scope, receive, send)


def _not_json(message: str) -> list[dict]:
    return [{"loc": ["body"], "msg": message, "type": "json_invalid"}]


def _utf8(body: bytes) -> bool:
    try:
        body.decode()
    except UnicodeDecodeError:
        return False
    return True


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
