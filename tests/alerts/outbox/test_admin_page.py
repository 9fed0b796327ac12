"""The alerts page: admins only, sink health, test alerts, CSRF on its forms."""
from __future__ import annotations

import re

import pytest

from tests.support.alerting import sink_toml
from tests.support.app import add_user, bearer

pytestmark = pytest.mark.asyncio


async def test_send_test_alert_reaches_the_channel(alerting, app_client):
    a = alerting(sink_toml("chat", "discord", events=["breached"]))
    admin = bearer(await add_user(a.ctx, "root", "admin"))

    assert (await app_client.post("/alerts/sinks/chat/test", headers=admin)).status_code == 303
    assert (await app_client.post("/alerts/sinks/nope/test", headers=admin)).status_code == 404
    await a.dispatcher.dispatch()

    [message] = a.got("chat")
    assert message.problems == [] and "Test alert" in message.body.decode()
    page = await app_client.get("/alerts", headers=admin)
    assert "Test alert" in page.text and "test:chat:" in page.text     # under "Last deliveries"


async def test_only_admins_see_the_page(alerting, app_client):
    a = alerting(sink_toml("chat", "slack"))
    lead = bearer(await add_user(a.ctx, "lisa", "lead"))
    assert (await app_client.get("/alerts", headers=lead)).status_code == 403
    assert (await app_client.post("/alerts/sinks/chat/test", headers=lead)).status_code == 403
    assert (await app_client.get("/alerts", follow_redirects=False)).status_code == 303


async def test_forms_need_the_csrf_token(alerting, app_client):
    a = alerting(sink_toml("chat", "slack"))
    await add_user(a.ctx, "root", "admin")
    login_page = await app_client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', login_page.text).group(1)
    await app_client.post("/login", data={"username": "root", "password": "correct-horse-battery",
                                          "csrf_token": token, "next": "/"})
    page = await app_client.get("/alerts")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)

    assert (await app_client.post("/alerts/sinks/chat/test", data={})).status_code == 403
    assert (await app_client.post("/alerts/sinks/chat/test", data={"csrf_token": csrf})).status_code == 303
    assert [r.kind for r in await a.rows()] == ["test"]
