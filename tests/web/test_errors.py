"""Domain errors reach API clients as JSON with their status, and people as an error page in
their language; pages refused for a role or not found are pages too."""
from __future__ import annotations

import pytest

from app.accounts import users
from tests.support.app import add_user, bearer
from tests.support.push import mention, push

pytestmark = pytest.mark.asyncio

DUTCH = {"Accept-Language": "nl-NL,nl;q=0.9"}
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


async def test_a_domain_error_reaches_an_api_client_as_json_with_its_status(app_client, ctx):
    await push(app_client, [mention("e1")])
    anna, bob = bearer(await add_user(ctx, "anna")), bearer(await add_user(ctx, "bob"))
    missing = await app_client.post("/api/mentions/999999/claim", headers=anna)
    assert missing.status_code == 404 and missing.json() == {"detail": "no such mention"}
    mid = (await app_client.get("/api/queue", headers=anna)).json()["items"][0]["id"]
    await app_client.post(f"/api/mentions/{mid}/claim", headers=anna)
    taken = await app_client.post(f"/api/mentions/{mid}/claim", headers=bob)
    assert taken.status_code == 409 and taken.json() == {"detail": "anna is handling this mention"}
    assert taken.headers["content-type"] == "application/json"
    # Extra data on the error travels beside `detail`.
    bad = await push(app_client, [{"external_id": "x", "posted_at": "not a time", "author": "a", "text": "t"}])
    assert bad.status_code == 422 and bad.json()["detail"] == "1 invalid item(s); nothing was stored"
    assert bad.json()["errors"][0]["field"] == "posted_at"


async def test_a_page_client_asking_for_json_gets_json(app_client, ctx):
    h = bearer(await add_user(ctx, "anna"))
    r = await app_client.get("/mentions/999999", headers={**h, "Accept": "application/json"})
    assert r.status_code == 404 and r.json() == {"detail": "no such mention"}


async def test_a_missing_mention_is_an_error_page_in_dutch(app_client, ctx):
    h = bearer(await add_user(ctx, "anna"))
    r = await app_client.get("/mentions/999999", headers={**h, **BROWSER, **DUTCH})
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert '<html lang="nl">' in r.text and "Niet gevonden" in r.text and "deze melding bestaat niet" in r.text
    assert "Terug naar de wachtrij" in r.text and "Uitloggen" in r.text  # the signed-in page frame
    english = await app_client.get("/mentions/999999", headers={**h, **BROWSER})
    assert english.status_code == 404 and "Not found" in english.text and "no such mention" in english.text


async def test_the_users_own_language_wins_over_the_browser(app_client, ctx):
    h = bearer(await add_user(ctx, "anna"))
    async with ctx.db.write() as session:
        await users.set_language(session, (await users.user_by_name(session, "anna")).id, "nl")
    r = await app_client.get("/mentions/999999", headers={**h, "Accept-Language": "en-GB"})
    assert r.status_code == 404 and "Niet gevonden" in r.text


async def test_a_page_refused_for_the_role_is_an_html_page_not_json(app_client, ctx):
    responder = bearer(await add_user(ctx, "rita"))
    r = await app_client.get("/alerts", headers={**responder, **DUTCH})
    assert r.status_code == 403 and r.headers["content-type"].startswith("text/html")
    assert "Geen toegang" in r.text and "hiervoor is de rol beheerder nodig" in r.text
    wall = await app_client.get("/wallboard", headers=responder)
    assert wall.status_code == 403 and "No access" in wall.text
    # The API keeps its refusals: JSON 403 for the wrong role, 401 without credentials.
    api = await app_client.post("/api/openers", headers=responder, json={"language": "nl", "text": "Hoi!"})
    assert api.status_code == 403 and api.json() == {"detail": "this needs the lead role"}
    assert (await app_client.get("/api/queue")).json() == {"detail": "login or API token required"}


async def test_unknown_paths_are_a_page_for_people_and_json_for_the_api(app_client):
    page = await app_client.get("/no/such/page", headers={**BROWSER, **DUTCH})
    assert page.status_code == 404 and "Niet gevonden" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    api = await app_client.get("/api/no/such/route")
    assert api.status_code == 404 and api.json() == {"detail": "Not Found"}


async def test_a_form_refused_by_a_service_shows_the_error_page(app_client, ctx):
    admin = bearer(await add_user(ctx, "root", "admin"))
    r = await app_client.post("/alerts/outbox/424242/retry", headers={**admin, **BROWSER})
    assert r.status_code == 404 and "no such dead letter" in r.text
    bad = await app_client.post("/alerts/spikes/statement", headers={**admin, **BROWSER},
                                data={"text": "We zijn ermee bezig", "category": "outage", "since": "2026-01-01T10:00"})
    assert bad.status_code == 422 and "since needs a timezone" in bad.text
