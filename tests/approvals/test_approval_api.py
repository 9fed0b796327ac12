"""Reply approval end to end over real HTTP: a trainee's reply waits, a lead edits and approves
it, and the fake Mastodon (tests/support/connectors/fake_mastodon.py) gets exactly one post;
a returned reply reaches the trainee with the lead's note."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from sqlmodel import col, select

from app.accounts import admin
from app.core.models import AuditEntry, Event, Mention, ReplyApproval
from app.intake.scheduler import SourceRunner
from connectors.registry import build_connector
from tests.support.app import add_user, bearer
from tests.support.connectors.fake_mastodon import FakeMastodon

pytestmark = pytest.mark.asyncio

PROPOSED = "Vervelend dat uw pakket zo lang onderweg is! Ik zoek het uit."
EDITED = "Wat vervelend dat uw pakket zo lang onderweg is, sorry! Ik laat het u vóór 16:00 weten. ^LL"


async def customer_mention(ctx, mastodon: FakeMastodon) -> int:
    """The customer's post, fetched by one real poll of the fake server."""
    mastodon.mention_brand(mastodon.customers[0], "Mijn pakket is al een week onderweg")
    source = ctx.source("masto")
    connector = build_connector(source.connector_settings(ctx.config.brand.own_accounts), ctx.http())
    assert (await SourceRunner(ctx, source, connector).poll_once()).ok
    async with ctx.db.read() as s:
        return (await s.exec(select(Mention).where(col(Mention.direction) == "inbound"))).one().id


async def team(ctx) -> tuple[dict, dict, dict]:
    """A trainee whose replies need approval, two leads."""
    trainee = bearer(await add_user(ctx, "tess"))
    await admin.set_approval(ctx, "admin", "tess", True)
    return trainee, bearer(await add_user(ctx, "lea", "lead")), bearer(await add_user(ctx, "lou", "lead"))


async def audit_actions(ctx, mention_id: int) -> list[tuple[str, str]]:
    async with ctx.db.read() as s:
        rows = await s.exec(select(AuditEntry).where(col(AuditEntry.mention_id) == mention_id)
                            .order_by(col(AuditEntry.id)))
        return [(a.actor, a.action) for a in rows]


async def propose(client, mention_id: int, trainee: dict, text: str = PROPOSED) -> int:
    r = await client.post(f"/api/mentions/{mention_id}/reply", headers=trainee, json={"text": text, "post": True})
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["status"] == "awaiting_approval" and set(body) == {"status", "approval_id"}
    return body["approval_id"]


async def test_a_trainees_reply_waits_then_a_lead_edits_and_approves_it_posted_once(world, mastodon):
    ctx, client = world
    mid = await customer_mention(ctx, mastodon)
    posted_at = (await client.get(f"/api/mentions/{mid}", headers=bearer(await add_user(ctx, "x")))).json()
    trainee, lead, _ = await team(ctx)
    approval_id = await propose(client, mid, trainee)

    # Nothing went out; the mention is still waiting, held by the trainee, its clock running.
    assert mastodon.posts_by(mastodon.brand) == []
    queue = (await client.get("/api/queue", headers=lead)).json()
    assert [(i["id"], i["status"], i["claimed_by"]) for i in queue["items"]] == [(mid, "claimed", "tess")]
    ctx.clock.advance(minutes=30)  # a claim normally runs out after 10 minutes; this one is held
    queue = (await client.get("/api/queue", headers=lead)).json()
    assert queue["items"][0]["claimed_by"] == "tess"

    # Leads (only) see the approval queue, with the mention's SLA time left.
    assert (await client.get("/api/approvals", headers=trainee)).status_code == 403
    [item] = (await client.get("/api/approvals", headers=lead)).json()["items"]
    assert (item["id"], item["state"], item["author"], item["text"], item["mention_id"]) == (
        approval_id, "pending", "tess", PROPOSED, mid)
    assert item["mention"]["seconds_left"] == queue["items"][0]["seconds_left"]
    mine = (await client.get(f"/api/mentions/{mid}", headers=trainee)).json()["approval"]
    assert (mine["state"], mine["text"]) == ("pending", PROPOSED)

    ctx.clock.advance(minutes=7)
    r = await client.post(f"/api/approvals/{approval_id}/approve", headers=lead, json={"text": EDITED})
    assert r.status_code == 200, r.text
    body = r.json()
    [post] = mastodon.posts_by(mastodon.brand)
    assert body["posted"]["id"] == post["uri"] and "16:00" in post["content"] and post["in_reply_to_id"]
    # The first response counts until the post, not until the trainee's proposal.
    elapsed = ctx.clock() - datetime.fromisoformat(posted_at["posted_at"])
    assert body["first_response_seconds"] == int(elapsed.total_seconds()) >= 37 * 60

    again = await client.post(f"/api/approvals/{approval_id}/approve", headers=lead, json={})
    assert again.status_code == 409 and len(mastodon.posts_by(mastodon.brand)) == 1

    detail = (await client.get(f"/api/mentions/{mid}", headers=trainee)).json()
    assert (detail["status"], detail["answered_by"], detail["first_response_seconds"]) == (
        "answered", "tess", body["first_response_seconds"])
    assert [(r["author"], r["text"], r["state"]) for r in detail["replies"]] == [("tess", EDITED, "posted")]
    assert detail["approval"]["state"] == "approved" and detail["approval"]["decided_by"] == "lea"
    trail = await audit_actions(ctx, mid)
    assert ("tess", "approval_requested") in trail and ("lea", "approval_approved") in trail
    assert trail.index(("tess", "reply")) < trail.index(("lea", "approval_approved"))
    async with ctx.db.read() as s:
        events = (await s.exec(select(Event).where(col(Event.type) == "approval_waiting"))).all()
        approved = (await s.exec(select(AuditEntry).where(col(AuditEntry.action) == "approval_approved"))).one()
    assert [e.data["approval_id"] for e in events] == [approval_id] and events[0].data["id"] == mid
    assert approved.detail["edited"] is True
    assert (await client.get("/api/approvals", headers=lead)).json()["items"] == []


async def test_two_leads_approving_at_once_post_exactly_once(world, mastodon):
    ctx, client = world
    mid = await customer_mention(ctx, mastodon)
    trainee, lea, lou = await team(ctx)
    leads = [lea, lou] + [bearer(await add_user(ctx, f"lead{i}", "lead")) for i in range(3)]
    approval_id = await propose(client, mid, trainee)
    answers = await asyncio.gather(*(client.post(f"/api/approvals/{approval_id}/approve", headers=h, json={})
                                     for h in leads))
    assert sorted(a.status_code for a in answers) == [200, 409, 409, 409, 409], [a.text for a in answers]
    [post] = mastodon.posts_by(mastodon.brand)
    assert "pakket" in post["content"]
    async with ctx.db.read() as s:
        approval = await s.get(ReplyApproval, approval_id)
    assert approval is not None and approval.state == "approved"


async def test_a_returned_reply_reaches_the_trainee_with_the_note_and_its_text(world, mastodon):
    ctx, client = world
    mid = await customer_mention(ctx, mastodon)
    trainee, lead, _ = await team(ctx)
    approval_id = await propose(client, mid, trainee)
    assert (await client.get(f"/api/mentions/{mid}/reply-draft", headers=trainee)).json()["text"] == ""

    empty = await client.post(f"/api/approvals/{approval_id}/return", headers=lead, json={"note": "  "})
    assert empty.status_code == 422
    note = "Noem een concreet moment waarop u terugkomt."
    r = await client.post(f"/api/approvals/{approval_id}/return", headers=lead, json={"note": note})
    assert r.status_code == 200, r.text
    assert (r.json()["state"], r.json()["note"], r.json()["decided_by"]) == ("returned", note, "lea")

    # The trainee sees the note on the mention and finds the text back in their draft.
    seen = (await client.get(f"/api/mentions/{mid}", headers=trainee)).json()
    assert (seen["approval"]["state"], seen["approval"]["note"], seen["claimed_by"]) == ("returned", note, "tess")
    assert (await client.get(f"/api/mentions/{mid}/reply-draft", headers=trainee)).json()["text"] == PROPOSED
    async with ctx.db.read() as s:
        m = await s.get(Mention, mid)
    assert m is not None and m.claim_expires_at == ctx.clock() + timedelta(minutes=10)
    assert ("lea", "approval_returned") in await audit_actions(ctx, mid)
    assert mastodon.posts_by(mastodon.brand) == []
    assert (await client.post(f"/api/approvals/{approval_id}/approve", headers=lead, json={})).status_code == 409

    # Changed and sent again: a new approval, which a lead approves as is.
    second = await propose(client, mid, trainee, EDITED)
    assert second != approval_id
    assert (await client.post(f"/api/approvals/{second}/approve", headers=lead, json={})).status_code == 200
    [post] = mastodon.posts_by(mastodon.brand)
    assert "16:00" in post["content"]


async def test_nobody_approves_their_own_reply(world, mastodon):
    ctx, client = world
    mid = await customer_mention(ctx, mastodon)
    lead = bearer(await add_user(ctx, "lea", "lead"))
    await admin.set_approval(ctx, "admin", "lea", True)
    approval_id = await propose(client, mid, lead)
    assert (await client.post(f"/api/approvals/{approval_id}/approve", headers=lead, json={})).status_code == 403
    assert mastodon.posts_by(mastodon.brand) == []
    assert (await client.post("/api/approvals/999/approve", headers=lead, json={})).status_code == 404


async def test_a_failed_post_leaves_the_reply_waiting_and_a_retry_posts_once(world, mastodon):
    ctx, client = world
    mid = await customer_mention(ctx, mastodon)
    trainee, lead, _ = await team(ctx)
    approval_id = await propose(client, mid, trainee)
    mastodon.fail_next(503)
    mastodon.fail_next(503)
    failed = await client.post(f"/api/approvals/{approval_id}/approve", headers=lead, json={})
    assert failed.status_code == 502, failed.text
    [item] = (await client.get("/api/approvals", headers=lead)).json()["items"]
    assert item["state"] == "pending" and "503" in item["error"]
    ctx.clock.advance(minutes=30)  # still held by the trainee while it waits again
    assert (await client.get("/api/queue", headers=lead)).json()["items"][0]["claimed_by"] == "tess"
    assert (await client.post(f"/api/approvals/{approval_id}/approve", headers=lead, json={})).status_code == 200
    assert len(mastodon.posts_by(mastodon.brand)) == 1


async def test_replies_of_users_without_the_flag_are_sent_at_once(world, mastodon):
    ctx, client = world
    mid = await customer_mention(ctx, mastodon)
    trainee, _, _ = await team(ctx)
    await admin.set_approval(ctx, "admin", "tess", False)
    r = await client.post(f"/api/mentions/{mid}/reply", headers=trainee, json={"text": PROPOSED, "post": True})
    assert r.status_code == 200 and r.json()["status"] == "answered"
    assert len(mastodon.posts_by(mastodon.brand)) == 1


async def test_a_reply_for_approval_is_refused_like_a_sent_one(world, mastodon):
    """Someone else holds the mention: 409, nothing waits. Over the channel's limit: 422 now,
    not when a lead approves it."""
    ctx, client = world
    mid = await customer_mention(ctx, mastodon)
    trainee, lead, _ = await team(ctx)
    assert (await client.post(f"/api/mentions/{mid}/claim", headers=lead)).status_code == 200
    held = await client.post(f"/api/mentions/{mid}/reply", headers=trainee, json={"text": PROPOSED, "post": True})
    assert held.status_code == 409 and "lea is handling" in held.json()["detail"]
    assert (await client.post(f"/api/mentions/{mid}/release", headers=lead)).status_code == 200
    too_long = await client.post(f"/api/mentions/{mid}/reply", headers=trainee, json={"text": "x" * 600, "post": True})
    assert too_long.status_code == 422 and "500" in too_long.json()["detail"]
    assert (await client.get("/api/approvals", headers=lead)).json()["items"] == []


async def test_a_mention_answered_otherwise_drops_out_and_its_approval_closes(world, mastodon):
    ctx, client = world
    mid = await customer_mention(ctx, mastodon)
    trainee, lead, _ = await team(ctx)
    approval_id = await propose(client, mid, trainee)
    assert (await client.post(f"/api/mentions/{mid}/release", headers=lead)).status_code == 200
    r = await client.post(f"/api/mentions/{mid}/reply", headers=lead, json={"text": EDITED, "post": True})
    assert r.status_code == 200
    assert (await client.get("/api/approvals", headers=lead)).json()["items"] == []
    late = await client.post(f"/api/approvals/{approval_id}/approve", headers=bearer(await add_user(ctx, "lu", "lead")),
                             json={})
    assert late.status_code == 409 and "answered" in late.json()["detail"]
    assert len(mastodon.posts_by(mastodon.brand)) == 1
    async with ctx.db.read() as s:
        approval = await s.get(ReplyApproval, approval_id)
    assert approval is not None and approval.state == "closed"
