"""Presence over the API: who has a mention open and who types, expiring without heartbeats,
written only when something changes, and the same answer from another process's connection."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import col, select

from app.core.db import Database
from app.core.models import Event, Presence, utcnow
from app.mentions import presence
from tests.support.app import add_user, bearer
from tests.support.push import mention, push

pytestmark = pytest.mark.asyncio


async def _presence_events(ctx) -> list[dict]:
    async with ctx.db.read() as session:
        rows = await session.exec(select(Event).where(col(Event.type) == presence.EVENT).order_by(col(Event.id)))
        return [r.data for r in rows]


async def _row(ctx, mid: int, username: str) -> Presence | None:
    async with ctx.db.read() as session:
        return await session.get(Presence, (mid, username))


async def test_open_typing_expiry_and_leaving(app_client, ctx, db_url):
    await push(app_client, [mention("pr1", 5)])
    anna, bob = bearer(await add_user(ctx, "anna")), bearer(await add_user(ctx, "bob"))
    [item] = (await app_client.get("/api/queue", headers=anna)).json()["items"]
    mid, start = item["id"], utcnow()
    now = [start]
    ctx.clock = lambda: now[0]
    url = f"/api/mentions/{mid}/presence"

    first = await app_client.post(url, headers=anna, json={})
    assert first.status_code == 200 and first.json() == {"people": []}
    seen = await app_client.get(url, headers=bob)
    assert seen.json() == {"people": [{"username": "anna", "typing": False, "changes_in": 45.0}]}
    [arrival] = await _presence_events(ctx)
    assert arrival["id"] == mid and arrival["username"] == "anna" and arrival["typing_only"] is False
    assert {"external_id", "status"} <= set(arrival)

    # A heartbeat that changes nothing writes nothing and announces nothing.
    now[0] = start + timedelta(seconds=3)
    await app_client.post(url, headers=anna, json={"typing": False})
    assert (await _row(ctx, mid, "anna")).seen_at == start
    assert len(await _presence_events(ctx)) == 1

    now[0] = start + timedelta(seconds=5)
    await app_client.post(url, headers=anna, json={"typing": True})
    [person] = (await app_client.get(url, headers=bob)).json()["people"]
    assert person["typing"] is True and person["changes_in"] == 8.0
    events = await _presence_events(ctx)
    assert len(events) == 2 and events[1]["typing_only"] is True
    # More typing soon after: still typing, no write, no event (never a write per keystroke).
    now[0] = start + timedelta(seconds=7)
    await app_client.post(url, headers=anna, json={"typing": True})
    assert (await _row(ctx, mid, "anna")).typing_until == start + timedelta(seconds=13)
    assert len(await _presence_events(ctx)) == 2

    now[0] = start + timedelta(seconds=14)  # typing ran out
    assert (await app_client.get(url, headers=bob)).json()["people"][0]["typing"] is False
    now[0] = start + timedelta(seconds=51)  # no heartbeat for 46 s: gone
    assert (await app_client.get(url, headers=bob)).json() == {"people": []}
    assert (await app_client.post(url, headers=bob, json={})).json() == {"people": []}

    # Back again (announced), then leaving: gone at once, for every process alike.
    await app_client.post(url, headers=anna, json={})
    other = Database(db_url)  # another process's connection to the same database
    try:
        async with other.read() as session:
            names = [p["username"] for p in await presence.others_on(session, mid, "carla", now[0])]
        assert names == ["anna", "bob"]
        await app_client.delete(url, headers=anna)
        async with other.read() as session:
            assert [p["username"] for p in await presence.others_on(session, mid, "carla", now[0])] \
                == ["bob"]
    finally:
        await other.dispose()
    kinds = [(e["username"], e.get("left", False)) for e in await _presence_events(ctx)]
    assert kinds[-3:] == [("bob", False), ("anna", False), ("anna", True)]
    assert (await app_client.post("/api/mentions/999999/presence", headers=anna, json={})).status_code == 404


async def test_the_queue_marks_mentions_a_colleague_has_open(app_client, ctx):
    await push(app_client, [mention("pr2", 5), mention("pr3", 6)])
    anna, bob = bearer(await add_user(ctx, "anna")), bearer(await add_user(ctx, "bob"))
    items = (await app_client.get("/api/queue", headers=anna)).json()["items"]
    await app_client.post(f"/api/mentions/{items[0]['id']}/presence", headers=anna, json={})
    page = (await app_client.get("/", headers=bob)).text
    assert page.count("anna has it open") == 1
    assert "has it open" not in (await app_client.get("/", headers=anna)).text  # not yourself

