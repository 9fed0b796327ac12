"""Replying into the channel end to end: a fake Mastodon (tests/support/connectors/fake_mastodon.py)
fed through the real scheduler and connector, answered through the HTTP API."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.core.models import Mention, Reply
from tests.support.app import add_user, bearer
from tests.support.mastodon_world import poll

pytestmark = pytest.mark.asyncio


async def mention_id(ctx, text_part: str) -> int:
    async with ctx.db.read() as s:
        rows = (await s.exec(select(Mention).where(Mention.text.contains(text_part)))).scalars().all()
    assert len(rows) == 1
    return rows[0].id


async def test_reply_is_posted_exactly_once_despite_a_dropped_connection(world, mastodon):
    ctx, client = world
    customer = mastodon.customers[0]
    mastodon.mention_brand(customer, "Mijn pakket is al een week onderweg")
    await poll(ctx)
    mid = await mention_id(ctx, "pakket")
    token = bearer(await add_user(ctx, "anna"))
    mastodon.drop_next_post = True  # stored by Mastodon, but our first answer is lost
    r = await client.post(f"/api/mentions/{mid}/reply", headers=token, json={
        "text": "Wat vervelend dat uw pakket zo lang onderweg is! "
                "Ik zoek het voor u uit en laat het u vóór 16:00 weten.",
        "post": True})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "answered" and body["posted"]["id"].startswith("https://social.example/")
    ours = mastodon.posts_by(mastodon.brand)
    assert len(ours) == 1 and ours[0]["in_reply_to_id"] is not None
    async with ctx.db.read() as s:
        reply = (await s.exec(select(Reply))).scalars().one()
    assert reply.state == "posted" and reply.remote_id == ours[0]["uri"] and reply.idempotency_key

    # Our own post comes back on the next poll as outbound and does not re-open anything.
    await poll(ctx)
    q = (await client.get("/api/queue", headers=token)).json()
    assert q["total"] == 0


async def test_customer_answer_to_our_reply_reopens_the_conversation(world, mastodon):
    ctx, client = world
    customer = mastodon.customers[0]
    first = mastodon.mention_brand(customer, "Mijn factuur klopt niet")
    await poll(ctx)
    mid = await mention_id(ctx, "factuur")
    token = bearer(await add_user(ctx, "anna"))
    r = await client.post(f"/api/mentions/{mid}/reply", headers=token,
                          json={"text": "Vervelend dat uw factuur niet klopt, sorry! Wat ziet u precies?",
                                "post": True})
    assert r.status_code == 200
    ours = mastodon.posts_by(mastodon.brand)[0]
    mastodon.mention_brand(customer, "Er staat twee keer hetzelfde abonnement op", in_reply_to=ours)
    await poll(ctx)
    q = (await client.get("/api/queue", headers=token)).json()
    assert [i["text"][-40:] for i in q["items"]] == ["Er staat twee keer hetzelfde abonnement op"[-40:]]
    assert q["items"][0]["conversation_id"] == mid
    detail = (await client.get(f"/api/mentions/{q['items'][0]['id']}", headers=token)).json()
    assert [c["direction"] for c in detail["conversation"]] == ["inbound", "outbound", "inbound"]
    assert first["uri"] == detail["conversation"][0]["url"] or detail["conversation"][0]["id"] == mid


async def test_direct_posts_are_never_answered_publicly(world, mastodon):
    ctx, client = world
    mastodon.mention_brand(mastodon.customers[1], "Mijn adres is Dorpsstraat 1, graag privé", visibility="direct")
    await poll(ctx)
    mid = await mention_id(ctx, "Dorpsstraat")
    token = bearer(await add_user(ctx, "anna"))
    openers = (await client.get(f"/api/mentions/{mid}/openers", headers=token)).json()
    assert ".dm." in openers["openers"][0]["id"]  # the move-to-DM opener comes first
    r = await client.post(f"/api/mentions/{mid}/reply", headers=token, json={"text": "Dank u!", "post": True})
    assert r.status_code == 422 and "direct" in r.json()["detail"]
    assert mastodon.posts_by(mastodon.brand) == []
