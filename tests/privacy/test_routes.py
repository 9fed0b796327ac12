"""The privacy API and admin pages over HTTP: admins only; find, erase with confirmation and
download; the handle never ends up in an address we redirect to."""
from __future__ import annotations

import json

import pytest

from tests.support.app import add_user, bearer
from tests.support.privacy import rows_holding
from tests.support.report_week import build_week

pytestmark = pytest.mark.asyncio
ADMIN_ONLY = [("POST", "/api/privacy/erase", {"json": {"author": "klant2"}}),
              ("GET", "/api/privacy/export?author=klant2", {}),
              ("GET", "/admin/privacy?author=klant2", {}),
              ("POST", "/admin/privacy", {"data": {"author": "klant2", "confirm": "yes"}}),
              ("GET", "/admin/privacy/export?author=klant2", {}),
              ("GET", "/admin/audit", {}),
              ("GET", "/admin/audit.csv", {})]


async def test_responders_and_leads_are_refused_and_nothing_is_erased(app_client, ctx):
    await build_week(ctx)
    for role in ("responder", "lead"):
        token = await add_user(ctx, f"user-{role}", role)
        for method, path, body in ADMIN_ONLY:
            r = await app_client.request(method, path, headers=bearer(token), **body)
            assert r.status_code == 403, (role, path, r.status_code)
    for method, path, body in ADMIN_ONLY:
        r = await app_client.request(method, path, **body)
        assert r.status_code == (401 if path.startswith("/api/") else 303), path
    assert await rows_holding(ctx.db, "klant2")


async def test_the_api_erases_and_exports_for_admins(app_client, ctx):
    await build_week(ctx)
    admin = bearer(await add_user(ctx, "ada", "admin"))
    exported = await app_client.get("/api/privacy/export", params={"author": "klant2"}, headers=admin)
    assert exported.status_code == 200
    body = exported.json()
    assert [m["text"] for m in body["mentions"]] == ["billing: post m2"] and body["subject"]["author"] == "klant2"
    r = await app_client.post("/api/privacy/erase", json={"author": "@KLANT2", "channel": "bluesky"}, headers=admin)
    assert r.status_code == 200
    result = r.json()
    assert result["erased"]["mentions"] == 1 and result["channel"] == "bluesky" and result["items"] >= 4
    assert "klant2" not in r.text and await rows_holding(ctx.db, "klant2") == []
    again = (await app_client.get("/api/privacy/export", params={"author": "klant2"}, headers=admin)).json()
    assert again["mentions"] == [] and again["our_posts"] == []
    assert (await app_client.post("/api/privacy/erase", json={"author": ""}, headers=admin)).status_code == 422
    assert (await app_client.post("/api/privacy/erase", json={"author": "@"}, headers=admin)).status_code == 422


async def test_the_admin_page_finds_downloads_and_erases_with_confirmation(app_client, ctx):
    await build_week(ctx)
    admin = bearer(await add_user(ctx, "ada", "admin"))
    page = await app_client.get("/admin/privacy", params={"author": "klant5"}, headers=admin)
    assert page.status_code == 200 and "What we hold about klant5" in page.text
    assert 'name="confirm"' in page.text and "/admin/privacy/export?author=klant5" in page.text
    download = await app_client.get("/admin/privacy/export", params={"author": "klant5"}, headers=admin)
    assert download.headers["content-disposition"].startswith("attachment;")
    assert "klant5" not in download.headers["content-disposition"]
    assert {m["external_id"] for m in json.loads(download.text)["mentions"]} == {"m6", "m16"}

    unconfirmed = await app_client.post("/admin/privacy", data={"author": "klant5"}, headers=admin)
    assert unconfirmed.status_code == 422 and "Tick the box" in unconfirmed.text
    assert await rows_holding(ctx.db, "klant5")
    erased = await app_client.post("/admin/privacy", data={"author": "klant5", "confirm": "yes"}, headers=admin,
                                   follow_redirects=False)
    assert erased.status_code == 303 and "klant5" not in erased.headers["location"]
    assert erased.headers["location"].startswith("/admin/privacy?erased=")
    assert await rows_holding(ctx.db, "klant5") == []
    shown = await app_client.get(erased.headers["location"], headers=admin)
    assert "Items erased:" in shown.text and "Recent erasures" in shown.text and "klant5" not in shown.text
    nothing = await app_client.get("/admin/privacy", params={"author": "klant5"}, headers=admin)
    assert "Nothing is held under this handle." in nothing.text
