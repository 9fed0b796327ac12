"""Responder workflow over HTTP: assign, notes, follow-up promises, bulk dismiss, threads."""
from __future__ import annotations

from datetime import timedelta

import pytest
import pytest_asyncio
from sqlalchemy import select

from app.core.models import AuditEntry, Event
from app.intake.worker import Worker
from tests.support.app import Clock, add_user, bearer
from tests.support.push import mention, push

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def team(app_client, ctx):
    assert (await push(app_client, [mention(f"w{i}", 10 + i) for i in range(4)])).status_code == 202
    tokens = {name: await add_user(ctx, name, role) for name, role in
              (("anna", "responder"), ("bob", "responder"), ("lisa", "lead"))}
    items = (await app_client.get("/api/queue", headers=bearer(tokens["anna"]))).json()["items"]
    return {k: bearer(v) for k, v in tokens.items()}, [i["id"] for i in items]


async def test_lead_assigns_and_responders_cannot(app_client, team):
    h, ids = team
    assert (await app_client.post(f"/api/mentions/{ids[0]}/assign", headers=h["anna"],
                                  json={"username": "bob"})).status_code == 403
    await app_client.post(f"/api/mentions/{ids[0]}/claim", headers=h["anna"])
    r = await app_client.post(f"/api/mentions/{ids[0]}/assign", headers=h["lisa"], json={"username": "bob"})
    assert r.status_code == 200 and r.json()["claimed_by"] == "bob"
    assert (await app_client.post(f"/api/mentions/{ids[0]}/reply", headers=h["anna"],
                                  json={"text": "Sorry!"})).status_code == 409
    assert (await app_client.post(f"/api/mentions/{ids[0]}/assign", headers=h["lisa"],
                                  json={"username": "ghost"})).status_code == 422


async def test_notes_show_on_the_mention_with_author_history(app_client, team):
    h, ids = team
    r = await app_client.post(f"/api/mentions/{ids[0]}/note", headers=h["anna"],
                              json={"text": "Klant belde ook al; <b>order</b> 123"})
    assert r.status_code == 201
    detail = (await app_client.get(f"/api/mentions/{ids[0]}", headers=h["bob"])).json()
    assert [(n["author"], n["text"]) for n in detail["notes"]] == [("anna", "Klant belde ook al; <b>order</b> 123")]
    assert len(detail["author_history"]) == 3  # the same author's other mentions
    empty_note = await app_client.post(f"/api/mentions/{ids[0]}/note", headers=h["anna"], json={"text": ""})
    assert empty_note.status_code == 422


async def test_follow_up_promise_due_event_and_kept_or_missed(app_client, team, ctx):
    h, ids = team
    clock = Clock()
    ctx.clock = clock
    due = clock() + timedelta(minutes=30)
    r = await app_client.post(f"/api/mentions/{ids[1]}/follow-up", headers=h["anna"],
                              json={"due_at": due.isoformat(), "note": "Bellen met de expeditie"})
    assert r.status_code == 201 and r.json()["seconds_left"] == 1800
    kept_id = r.json()["id"]
    r2 = await app_client.post(f"/api/mentions/{ids[2]}/follow-up", headers=h["anna"],
                               json={"due_at": (clock() + timedelta(minutes=15)).isoformat()})
    missed_id = r2.json()["id"]
    assert (await app_client.post(f"/api/mentions/{ids[2]}/follow-up", headers=h["anna"],
                                  json={"due_at": "2020-01-01T10:00:00"})).status_code == 422  # no timezone
    pending = (await app_client.get("/api/follow-ups", headers=h["bob"])).json()["items"]
    assert [f["id"] for f in pending] == [missed_id, kept_id]  # soonest first

    worker = Worker(ctx)
    assert await worker.check_follow_ups() == []
    clock.advance(minutes=6)  # 9 minutes before the first promise: inside the warning window
    assert await worker.check_follow_ups() == [missed_id]
    assert await worker.check_follow_ups() == []  # raised once
    async with ctx.db.read() as s:
        due_events = (await s.exec(select(Event).where(Event.type == "follow_up_due"))).scalars().all()
    assert [(e.mention_id, e.data["follow_up_id"]) for e in due_events] == [(ids[2], missed_id)]

    clock.advance(minutes=10)  # the first promise has passed
    assert (await app_client.post(f"/api/follow-ups/{missed_id}/done", headers=h["anna"])).json()["state"] == "missed"
    assert (await app_client.post(f"/api/follow-ups/{kept_id}/done", headers=h["anna"])).json()["state"] == "kept"
    assert (await app_client.post(f"/api/follow-ups/{kept_id}/done", headers=h["anna"])).status_code == 409


async def test_bulk_dismiss_dismisses_what_it_may_and_says_why_not(app_client, team, ctx):
    h, ids = team
    await app_client.post(f"/api/mentions/{ids[0]}/claim", headers=h["bob"])
    r = await app_client.post("/api/mentions/dismiss", headers=h["anna"],
                              json={"ids": [ids[0], ids[1], ids[2], 999999], "reason": "spam"})
    body = r.json()
    assert body["dismissed"] == [ids[1], ids[2]]
    assert [(x["id"], x["status"]) for x in body["refused"]] == [(ids[0], 409), (999999, 404)]
    q = (await app_client.get("/api/queue", headers=h["anna"])).json()
    assert sorted(i["id"] for i in q["items"]) == sorted([ids[0], ids[3]])
    assert (await app_client.post("/api/mentions/dismiss", headers=h["anna"],
                                  json={"ids": [ids[3]], "reason": "bored"})).status_code == 422
    async with ctx.db.read() as s:
        audit = [(a.actor, a.action) for a in (await s.exec(select(AuditEntry).order_by(AuditEntry.id))).scalars()]
    assert ("anna", "dismiss") in audit and ("bob", "claim") in audit
