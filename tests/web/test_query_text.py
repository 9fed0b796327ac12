"""No page shows text taken from the query string: a link cannot make the app say something
("?error=Your account is blocked, call ..."). Messages come from the server's own flash."""
from __future__ import annotations

import pytest

from tests.mentions.test_feedback import shown_text
from tests.support.app import add_user, bearer
from tests.support.push import mention, push

pytestmark = pytest.mark.asyncio
BAIT = "Account blocked: call 0900-SCAM now"
PARAMS = ("error", "message", "msg", "notice", "info", "flash", "success", "warning", "next", "q", "status", "detail")


async def test_no_page_renders_text_from_a_query_parameter(app_client, ctx):
    await push(app_client, [mention("q1", 10)])
    admin = {**bearer(await add_user(ctx, "root", "admin")), "Accept": "text/html"}
    [item] = (await app_client.get("/api/queue", headers=admin)).json()["items"]
    pages = ["/", f"/mentions/{item['id']}", f"/?m={item['id']}", "/?view=answered_today", "/sources", "/reports",
             "/wallboard", "/alerts", "/admin/privacy", "/admin/audit", "/api/docs", "/no/such/page"]
    for path in pages:
        r = await app_client.get(path, headers=admin, params=dict.fromkeys(PARAMS, BAIT))
        assert "0900-SCAM" not in shown_text(r.text), path
    login = await app_client.get("/login", params=dict.fromkeys(PARAMS, BAIT))
    assert login.status_code == 200 and "0900-SCAM" not in shown_text(login.text)
