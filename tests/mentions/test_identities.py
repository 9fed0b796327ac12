"""One person across channels: a lead links handles, the customer panel (page and API) then
shows the person's earlier mentions on every channel with their outcome; linking is audited
without copying handles; the access export includes the links and erasure removes them."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import col, select

from app.core.models import AuditEntry, IdentityLink, utcnow
from app.privacy.retention import purge_expired
from tests.support.app import add_user, bearer
from tests.support.push import mention, push

pytestmark = pytest.mark.asyncio


async def _ids(app_client, h) -> dict[str, int]:
    items = (await app_client.get("/api/queue", headers=h)).json()["items"]
    return {i["external_id"]: i["id"] for i in items}


async def test_linked_handles_share_the_panel_and_privacy_covers_them(app_client, ctx):
    await push(app_client, [
        mention("m1", 5, author="sanne_v@mastodon.social", channel="mastodon", text="Weer geen internet!"),
        mention("b1", 300, author="sannev.bsky.social", channel="bluesky", text="Mijn factuur klopt niet"),
        mention("x1", 200, author="someone_else", channel="x", text="Mijn pakket is niet bezorgd")])
    lead, responder = bearer(await add_user(ctx, "lea", "lead")), bearer(await add_user(ctx, "rob"))
    ids = await _ids(app_client, lead)
    await app_client.post(f"/api/mentions/{ids['b1']}/dismiss", headers=lead, json={"reason": "covered"})

    before = (await app_client.get(f"/api/mentions/{ids['m1']}", headers=responder)).json()
    assert before["author_history"] == [] and before["identities"] == []
    assert before["profile_url"] == "https://mastodon.social/@sanne_v"

    refused = await app_client.post(f"/api/mentions/{ids['m1']}/identities", headers=responder,
                                    json={"channel": "bluesky", "author": "sannev.bsky.social"})
    assert refused.status_code == 403
    linked = await app_client.post(f"/api/mentions/{ids['m1']}/identities", headers=lead,
                                   json={"channel": "bluesky", "author": "@SanneV.bsky.social"})
    assert linked.status_code == 200
    assert sorted(i["channel"] for i in linked.json()["identities"]) == ["bluesky", "mastodon"]
    same = await app_client.post(f"/api/mentions/{ids['m1']}/identities", headers=lead,
                                 json={"channel": "mastodon", "author": "@sanne_v@mastodon.social"})
    assert same.status_code == 422  # the mention's own handle

    detail = (await app_client.get(f"/api/mentions/{ids['m1']}", headers=responder)).json()
    [earlier] = detail["author_history"]
    assert (earlier["id"], earlier["channel"], earlier["status"], earlier["dismiss_reason"]) == \
        (ids["b1"], "bluesky", "dismissed", "covered")
    [other] = detail["identities"]
    assert other["channel"] == "bluesky" and other["linked_by"] == "lea"
    assert other["profile_url"] == "https://bsky.app/profile/SanneV.bsky.social"
    # ... and the other way round: the Bluesky mention's panel shows the Mastodon one.
    back = (await app_client.get(f"/api/mentions/{ids['b1']}", headers=responder)).json()
    assert [e["id"] for e in back["author_history"]] == [ids["m1"]]

    page = (await app_client.get(f"/mentions/{ids['m1']}", headers=lead)).text
    assert "Same person on other channels" in page and 'href="https://bsky.app/profile/SanneV.bsky.social"' in page
    assert 'href="https://mastodon.social/@sanne_v"' in page and "Weer geen internet!" in page
    assert "Mijn factuur klopt niet" in page  # the earlier Bluesky mention, in the panel
    assert f'action="/mentions/{ids["m1"]}/identities"' in page
    assert 'action="/mentions/' not in (await app_client.get(f"/mentions/{ids['m1']}", headers=responder)).text \
        .split("Same person on other channels")[1].split("Other mentions")[0]  # no link form for responders

    async with ctx.db.read() as session:
        [entry] = (await session.exec(select(AuditEntry).where(col(AuditEntry.action) == "identity.link"))).all()
    assert entry.actor == "lea" and entry.mention_id == ids["m1"]
    assert entry.detail == {"channels": ["bluesky", "mastodon"]}  # never the handles themselves

    admin = bearer(await add_user(ctx, "ada", "admin"))
    export = (await app_client.get("/api/privacy/export", headers=admin,
                                   params={"author": "sannev.bsky.social", "channel": "bluesky"})).json()
    assert sorted((i["channel"], i["author"]) for i in export["identities"]) == \
        [("bluesky", "@SanneV.bsky.social"), ("mastodon", "sanne_v@mastodon.social")]
    erased = (await app_client.post("/api/privacy/erase", headers=admin,
                                    json={"author": "sannev.bsky.social", "channel": "bluesky"})).json()
    assert erased["erased"]["identities"] == 2  # theirs, and the one left linking nothing
    async with ctx.db.read() as session:
        assert (await session.exec(select(IdentityLink))).all() == []
    after = (await app_client.get(f"/api/mentions/{ids['m1']}", headers=responder)).json()
    assert after["identities"] == [] and after["author_history"] == []


async def test_linking_merges_people_and_unlinking_keeps_the_rest(app_client, ctx):
    await push(app_client, [mention("a1", 5, author="kim", channel="x"),
                            mention("a2", 6, author="u/kim_r", channel="reddit"),
                            mention("a3", 7, author="kim.bsky.social", channel="bluesky")])
    lead = bearer(await add_user(ctx, "lea", "lead"))
    ids = await _ids(app_client, lead)
    await app_client.post(f"/api/mentions/{ids['a1']}/identities", headers=lead,
                          json={"channel": "mastodon", "author": "kim@mastodon.nl"})
    await app_client.post(f"/api/mentions/{ids['a3']}/identities", headers=lead,
                          json={"channel": "reddit", "author": "u/kim_r"})
    merged = await app_client.post(f"/api/mentions/{ids['a2']}/identities", headers=lead,
                                   json={"channel": "x", "author": "@kim"})
    handles = {(i["channel"], i["profile_url"]) for i in merged.json()["identities"]}
    assert handles == {("x", "https://x.com/kim"), ("reddit", "https://www.reddit.com/user/kim_r"),
                       ("bluesky", "https://bsky.app/profile/kim.bsky.social"),
                       ("mastodon", "https://mastodon.nl/@kim")}
    detail = (await app_client.get(f"/api/mentions/{ids['a1']}", headers=lead)).json()
    assert {e["id"] for e in detail["author_history"]} == {ids["a2"], ids["a3"]}
    reddit = next(i for i in detail["identities"] if i["channel"] == "reddit")
    assert (await app_client.delete(f"/api/identities/{reddit['id']}", headers=lead)).status_code == 200
    assert (await app_client.delete(f"/api/identities/{reddit['id']}", headers=lead)).status_code == 404
    detail = (await app_client.get(f"/api/mentions/{ids['a1']}", headers=lead)).json()
    assert {e["id"] for e in detail["author_history"]} == {ids["a3"]}
    assert {i["channel"] for i in detail["identities"]} == {"bluesky", "mastodon"}


async def test_retention_forgets_links_whose_handles_have_no_posts_left(app_client, ctx):
    await push(app_client, [mention("r1", 5, author="kim", channel="x"),
                            mention("r2", 6, author="kim.bsky.social", channel="bluesky")])
    lead = bearer(await add_user(ctx, "lea", "lead"))
    ids = await _ids(app_client, lead)
    await app_client.post(f"/api/mentions/{ids['r1']}/identities", headers=lead,
                          json={"channel": "bluesky", "author": "kim.bsky.social"})
    # Within the retention period nothing goes, however old the posts.
    assert (await purge_expired(ctx.db, b"k" * 32, 180, utcnow())).identities == 0
    # 181 days on, both posts are purged: the links go with them.
    later = utcnow() + timedelta(days=181)
    assert (await purge_expired(ctx.db, b"k" * 32, 180, later)).identities == 2
    async with ctx.db.read() as session:
        assert (await session.exec(select(IdentityLink))).all() == []
