"""An unexpected exception, injected with a failpoint into a real server, answers 500 with
the same security headers as any other answer and plain words: no traceback, no exception
name, no code. The server keeps serving."""
from __future__ import annotations

import httpx
import pytest

from app.web.middleware import SECURITY_HEADERS
from tests.support.app import add_user, bearer

pytestmark = pytest.mark.asyncio

BROWSER_NL = {"Accept": "text/html,application/xhtml+xml", "Accept-Language": "nl-NL,nl;q=0.9"}
LEAKS = ("Traceback", "FailpointError", "failpoint", "queries.py", 'File "')


def plain_500(r: httpx.Response) -> None:
    assert r.status_code == 500
    for name, value in SECURITY_HEADERS.items():
        assert r.headers.get(name) == value, name
    for leak in LEAKS:
        assert leak not in r.text, leak


async def test_an_unexpected_exception_is_a_plain_500_with_the_security_headers(live_server, ctx, monkeypatch):
    h = bearer(await add_user(ctx, "anna"))
    monkeypatch.setenv("WEBCARE_FAILPOINT", "queue-read:raise")
    async with httpx.AsyncClient(base_url=live_server) as client:
        api = await client.get("/api/queue", headers=h)
        plain_500(api)
        assert api.json() == {"detail": "An unexpected error happened; it has been logged."}
        page = await client.get("/", headers={**h, **BROWSER_NL})
        plain_500(page)
        assert page.headers["content-type"].startswith("text/html")
        assert "Er ging iets mis" in page.text and "de fout is vastgelegd" in page.text
        monkeypatch.delenv("WEBCARE_FAILPOINT")
        assert (await client.get("/api/queue", headers=h)).status_code == 200
