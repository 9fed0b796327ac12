"""Queue API and the minimal loop: claim, release, reply, dismiss, audit (over HTTP)."""
from __future__ import annotations

import asyncio
from datetime import UTC

import pytest
import pytest_asyncio
from sqlalchemy import select

from app.core.models import AuditEntry
from tests.support.app import add_user, bearer
from tests.support.push import mention, push

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def seeded(app_client, ctx):
    r = await push(app_client, [mention("old", 70, channel="mastodon", language="nl"),
                                mention("mid", 50, channel="x", language="en"),
                                mention("new", 5, channel="mastodon", language="nl")])
    assert r.status_code == 202
    tokens = {"anna": await add_user(ctx, "anna"), "bob": await add_user(ctx, "bob"),
              "lead": await add_user(ctx, "lisa", "lead")}
    q = (await app_client.get("/api/queue", headers=bearer(tokens["anna"]))).json()
    return tokens, {i["external_id"]: i["id"] for i in q["items"]}


async def test_queue_order_states_and_counts(app_client, seeded):
    tokens, _ = seeded
    q = (await app_client.get("/api/queue", headers=bearer(tokens["anna"]))).json()
    assert [i["external_id"] for i in q["items"]] == ["old", "mid", "new"]
    assert [i["sla_state"] for i in q["items"]] == ["breached", "warning", "ok"]
    assert q["counts"] == {"ok": 1, "warning": 1, "breached": 1} and q["total"] == 3
    old = q["items"][0]
    assert -11 * 60 <= old["seconds_left"] <= -9 * 60 and old["clock_running"] is True


async def test_queue_filters_and_paging(app_client, seeded):
    tokens, _ = seeded
    h = bearer(tokens["anna"])
    by_channel = (await app_client.get("/api/queue?channel=mastodon", headers=h)).json()
    assert [i["external_id"] for i in by_channel["items"]] == ["old", "new"]
    assert by_channel["counts"] == {"ok": 1, "warning": 0, "breached": 1}
    warn = (await app_client.get("/api/queue?sla_state=warning", headers=h)).json()
    assert [i["external_id"] for i in warn["items"]] == ["mid"]
    page = (await app_client.get("/api/queue?limit=1&offset=1", headers=h)).json()
    assert [i["external_id"] for i in page["items"]] == ["mid"] and page["total"] == 3
    en = (await app_client.get("/api/queue?language=en", headers=h)).json()
    assert [i["external_id"] for i in en["items"]] == ["mid"]
    assert (await app_client.get("/api/queue?sla_state=purple", headers=h)).status_code == 422


async def test_queue_text_filter_is_case_insensitive_and_takes_wildcards_literally(app_client, ctx):
    texts = {"a": "Weer een STORING bij het pinnen", "b": "50% korting klopt niet", "c": "5000 euro korting?",
             "d": "mijn user_id werkt niet", "e": "mijn userXid", "f": "pad C:\\temp\\x"}
    assert (await push(app_client, [mention(k, 5, text=t) for k, t in texts.items()])).status_code == 202
    h = bearer(await add_user(ctx, "anna"))

    async def found(q: str) -> list[str]:
        r = await app_client.get("/api/queue", params={"q": q}, headers=h)
        return sorted(i["external_id"] for i in r.json()["items"])

    assert await found("storing") == ["a"]
    assert await found("50%") == ["b"] and await found("%") == ["b"]
    assert await found("user_id") == ["d"]
    assert await found("C:\\temp") == ["f"]
    assert await found("korting") == ["b", "c"]
    page = await app_client.get("/", params={"q": "storing"}, headers=h)
    assert 'name="q"' in page.text and 'value="storing"' in page.text
    assert "STORING bij het pinnen" in page.text and "korting" not in page.text
    assert (await app_client.get("/api/queue", params={"q": "x" * 201}, headers=h)).status_code == 422


async def test_claim_conflict_release_and_reply(app_client, seeded):
    tokens, ids = seeded
    anna, bob = bearer(tokens["anna"]), bearer(tokens["bob"])
    mid = ids["mid"]
    assert (await app_client.post(f"/api/mentions/{mid}/claim", headers=anna)).json()["claimed_by"] == "anna"
    refused = await app_client.post(f"/api/mentions/{mid}/claim", headers=bob)
    assert refused.status_code == 409 and "anna" in refused.json()["detail"]
    assert (await app_client.post(f"/api/mentions/{mid}/reply", headers=bob, json={"text": "Hoi"})).status_code == 409
    assert (await app_client.post(f"/api/mentions/{mid}/release", headers=bob)).status_code == 409
    assert (await app_client.post(f"/api/mentions/{mid}/release", headers=anna)).status_code == 200
    assert (await app_client.post(f"/api/mentions/{mid}/claim", headers=bob)).status_code == 200
    r = await app_client.post(f"/api/mentions/{mid}/reply", headers=bob,
                              json={"text": "Wat vervelend! Ik zoek het voor u uit.", "post": False})
    body = r.json()
    assert r.status_code == 200 and body["status"] == "answered" and body["posted"] is None
    assert 50 * 60 <= body["first_response_seconds"] <= 51 * 60 and body["within_target"] is True
    left = (await app_client.get("/api/queue", headers=anna)).json()
    assert "mid" not in [i["external_id"] for i in left["items"]]
    again = await app_client.post(f"/api/mentions/{mid}/reply", headers=anna, json={"text": "Nog eens"})
    assert again.status_code == 409 and "answered" in again.json()["detail"]
    detail = (await app_client.get(f"/api/mentions/{mid}", headers=anna)).json()
    assert detail["status"] == "answered" and detail["replies"][0]["author"] == "bob"


async def test_dismiss_with_contract_reason(app_client, seeded, ctx):
    tokens, ids = seeded
    h = bearer(tokens["anna"])
    assert (await app_client.post(f"/api/mentions/{ids['new']}/dismiss", headers=h,
                                  json={"reason": "bogus"})).status_code == 422
    r = await app_client.post(f"/api/mentions/{ids['new']}/dismiss", headers=h, json={"reason": "spam"})
    assert r.status_code == 200 and r.json()["status"] == "dismissed"
    async with ctx.db.read() as s:
        actions = [(a.actor, a.action, a.detail.get("reason")) for a in
                   (await s.exec(select(AuditEntry).where(AuditEntry.mention_id == ids["new"]))).scalars()]
    assert actions == [("anna", "dismiss", "spam")]


async def test_lead_can_release_someone_elses_claim(app_client, seeded):
    tokens, ids = seeded
    await app_client.post(f"/api/mentions/{ids['old']}/claim", headers=bearer(tokens["anna"]))
    r = await app_client.post(f"/api/mentions/{ids['old']}/release", headers=bearer(tokens["lead"]))
    assert r.status_code == 200 and r.json()["status"] == "open"


async def test_unknown_mention_is_404(app_client, seeded):
    tokens, _ = seeded
    assert (await app_client.post("/api/mentions/999999/claim", headers=bearer(tokens["anna"]))).status_code == 404
    assert (await app_client.get("/api/mentions/999999", headers=bearer(tokens["anna"]))).status_code == 404


async def test_claim_race_on_separate_connections_has_exactly_one_winner(live_server, ctx):
    import httpx

    async with httpx.AsyncClient(base_url=live_server) as setup:
        await push(setup, [mention("race", 10)])
    tokens = [await add_user(ctx, f"r{i}") for i in range(6)]
    async with httpx.AsyncClient(base_url=live_server) as probe:
        mid = (await probe.get("/api/queue", headers=bearer(tokens[0]))).json()["items"][0]["id"]
    clients = [httpx.AsyncClient(base_url=live_server) for _ in tokens]  # one connection each
    try:
        start = asyncio.Event()

        async def attempt(client, token):
            await start.wait()
            return (await client.post(f"/api/mentions/{mid}/claim", headers=bearer(token))).status_code

        tasks = [asyncio.create_task(attempt(c, t)) for c, t in zip(clients, tokens, strict=True)]
        await asyncio.sleep(0.05)
        start.set()
        codes = await asyncio.gather(*tasks)
    finally:
        for c in clients:
            await c.aclose()
    assert sorted(codes) == [200] + [409] * 5


async def test_urgency_orders_only_within_the_same_due_minute(app_client, ctx):
    from datetime import datetime, timedelta

    base = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=20)
    calm = {"external_id": "calm", "posted_at": (base + timedelta(seconds=5)).isoformat(), "author": "a",
            "text": "Mijn pakket is nog niet binnen"}
    angry = {"external_id": "angry", "posted_at": (base + timedelta(seconds=40)).isoformat(), "author": "b",
             "text": "BELACHELIJK!!! Ik ga mijn abonnement OPZEGGEN, pakket weer niet bezorgd 😡"}
    earlier = {"external_id": "earlier", "posted_at": (base - timedelta(minutes=3)).isoformat(), "author": "c",
               "text": "Waar blijft mijn bestelling"}
    await push(app_client, [calm, angry, earlier])
    token = await add_user(ctx, "ordering")
    items = (await app_client.get("/api/queue", headers=bearer(token))).json()["items"]
    assert [i["external_id"] for i in items] == ["earlier", "angry", "calm"]
    assert "cancel" in items[1]["urgency_reasons"]
