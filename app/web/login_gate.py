"""The front door of POST /login: an attempt this process is refusing anyway is answered here,
before routing, dependencies, form handling and templates.

A flood of wrong passwords is refused from memory after its first few attempts
(app/accounts/throttle.py), but the full route still cost about 2 ms of the event loop per
refusal, enough for four guessing threads to slow every other request down several times.
Here a refusal costs a small fraction of that. Everything else (and a form this gate cannot
read) goes on to the route unchanged, which applies every limit again."""
from __future__ import annotations

from urllib.parse import parse_qs

from app.core import i18n
from app.core.context import AppContext
from app.web.middleware import SECURITY_HEADERS

LOGIN_PATH = "/login"
MAX_FORM_BYTES = 8192  # a login form is a few hundred bytes; a bigger body is the route's business


def client_address(scope) -> str:
    """The address the limits count: the socket peer, or what a trusted proxy says it is
    (the server believes X-Forwarded-For only from `[app] trusted_proxies`)."""
    client = scope.get("client")
    return client[0] if client else "unknown"


class LoginGate:
    def __init__(self, app, ctx: AppContext):
        self.app, self.ctx = app, ctx

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != LOGIN_PATH:
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        if not headers.get(b"content-type", b"").startswith(b"application/x-www-form-urlencoded"):
            return await self.app(scope, receive, send)
        body, more = await _read_form(receive)
        if body is None:  # the client went away
            return
        if not more:
            fields = parse_qs(body.decode("latin-1"), max_num_fields=10)
            username = (fields.get("username") or [""])[0].strip()
            wait = self.ctx.login_guard.retry_after(username, client_address(scope), self.ctx.now())
            if wait:
                return await _refuse(send, wait, headers.get(b"accept-language", b"").decode("latin-1"))
        await self.app(scope, _replay(body, more, receive), send)


async def _read_form(receive) -> tuple[bytes | None, bool]:
    """The body up to MAX_FORM_BYTES (None: the client disconnected), and whether more of it
    is still to come."""
    body = b""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None, False
        body += message.get("body", b"")
        more = message.get("more_body", False)
        if not more or len(body) > MAX_FORM_BYTES:
            return body, more


def _replay(body: bytes, more: bool, receive):
    """`receive` for the route: what was read, as one message, then the rest of the stream."""
    pending = [{"type": "http.request", "body": body, "more_body": more}]

    async def replayed():
        return pending.pop() if pending else await receive()

    return replayed


async def _refuse(send, retry_after: int, accept_language: str) -> None:
    """429 in the browser's language, as plain text: no template, no session, no database."""
    i18n.set_language(i18n.choose_language(None, accept_language))
    body = (i18n.gettext("Too many failed attempts. Try again in a few minutes.") + "\n").encode()
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"retry-after", str(retry_after).encode()),
               (b"content-length", str(len(body)).encode())]
    headers += [(name.lower().encode(), value.encode()) for name, value in SECURITY_HEADERS.items()]
    await send({"type": "http.response.start", "status": 429, "headers": headers})
    await send({"type": "http.response.body", "body": body})
