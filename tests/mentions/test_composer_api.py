"""Openers, the tone check and the team's own openers over HTTP."""
from __future__ import annotations

import pytest
import pytest_asyncio

from app.craft.tonecheck import check_reply
from tests.support.app import add_user, bearer
from tests.support.push import mention, push

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def seeded(app_client, ctx):
    await push(app_client, [
        mention("nl-1", 10, text="Mijn pakket is nog steeds niet bezorgd, al 4 dagen!", author_name="Sanne Visser"),
        mention("en-1", 8, text="My invoice charged me twice this month, please refund", author_name="@tom"),
    ])
    token = bearer(await add_user(ctx, "anna"))
    items = {i["external_id"]: i for i in (await app_client.get("/api/queue", headers=token)).json()["items"]}
    return token, items


async def test_openers_follow_language_category_tone_and_name(app_client, seeded):
    token, items = seeded
    nl = items["nl-1"]
    assert (nl["language"], nl["category"]) == ("nl", "delivery")
    formal = (await app_client.get(f"/api/mentions/{nl['id']}/openers", headers=token)).json()
    assert (formal["language"], formal["category"], formal["tone"]) == ("nl", "delivery", "formal")
    # Only what the post supports: it says the parcel has not come, not that anyone waited in.
    assert [o["id"] for o in formal["openers"]] == ["nl.delivery.formal.waiting", "nl.delivery.formal.where"]
    assert all("Sanne" in o["text"] for o in formal["openers"])
    assert all(o["text"].endswith("^A") or o["text"].endswith("^AN") for o in formal["openers"])  # signature
    assert any(" u " in f" {o['text']} " or "uw" in o["text"] for o in formal["openers"])
    informal = (await app_client.get(f"/api/mentions/{nl['id']}/openers?tone=informal", headers=token)).json()
    assert informal["tone"] == "informal" and any(" je " in f" {o['text']} " for o in informal["openers"])
    assert all(check_reply(o["text"], "nl") == [] for o in formal["openers"] + informal["openers"])
    en = (await app_client.get(f"/api/mentions/{items['en-1']['id']}/openers", headers=token)).json()
    assert (en["language"], en["category"]) == ("en", "billing")
    assert not any("@tom" in o["text"] for o in en["openers"])  # a handle is not a name
    assert (await app_client.get(f"/api/mentions/{nl['id']}/openers?tone=rude", headers=token)).status_code == 422


async def test_tone_check_flags_classic_mistakes_with_offsets(app_client, seeded):
    token, items = seeded
    text = "U bent de eerste die hierover klaagt. We komen erop terug."
    r = await app_client.post("/api/replies/check", headers=token,
                              json={"text": text, "language": "nl", "mention_id": items["nl-1"]["id"]})
    findings = r.json()["findings"]
    rules = {f["rule"] for f in findings}
    assert {"first_to_complain", "vague_promise", "no_empathy"} <= rules
    first = next(f for f in findings if f["rule"] == "first_to_complain")
    assert text[first["start"]:first["end"]].lower().startswith("u bent de eerste")
    assert all(f["message"] and f["suggestion"] for f in findings)


async def test_good_reply_passes_and_suggests_the_promised_moment(app_client, seeded):
    token, _items = seeded
    r = await app_client.post("/api/replies/check", headers=token, json={
        "text": "Wat vervelend dat uw pakket nog niet is bezorgd, sorry! "
                "Ik zoek het uit en laat het u vóór 16:00 weten.",
        "language": "nl", "channel": "x"})
    body = r.json()
    assert body["findings"] == []
    assert len(body["follow_up_suggestions"]) == 1 and "T16:00" in body["follow_up_suggestions"][0]


async def test_channel_limit_is_checked_in_graphemes(app_client, seeded):
    token, _ = seeded
    text = "Sorry voor het ongemak! " + "👍🏽" * 300
    r = await app_client.post("/api/replies/check", headers=token,
                              json={"text": text, "language": "nl", "channel": "bluesky"})
    too_long = [f for f in r.json()["findings"] if f["rule"] == "too_long"]
    assert len(too_long) == 1 and too_long[0]["end"] == len(text)


async def test_x_limit_is_checked_by_x_weighted_count(app_client, seeded):
    token, _ = seeded

    async def too_long(text: str) -> list[dict]:
        r = await app_client.post("/api/replies/check", headers=token,
                                  json={"text": text, "language": "nl", "channel": "x"})
        return [f for f in r.json()["findings"] if f["rule"] == "too_long"]

    opening = "Sorry voor het ongemak! "  # 24
    link = "https://www.acme.nl/status/" + "s" * 300  # counts 23 on X, whatever its length
    assert await too_long(opening + link) == []
    r = await app_client.post("/api/replies/check", headers=token,
                              json={"text": opening + link, "language": "nl", "channel": "x"})
    assert (r.json()["length"], r.json()["limit"]) == (47, 280)  # what the composer's counter shows
    cjk = opening + "谢" * 128  # 24 + 256 = 280: fits exactly
    assert await too_long(cjk) == []
    [finding] = await too_long(cjk + "🙏")  # an emoji weighs 2
    assert (finding["start"], finding["end"]) == (len(cjk), len(cjk) + 1)


async def test_leads_add_openers_that_pass_the_tone_check(app_client, seeded, ctx):
    token, items = seeded
    lead = bearer(await add_user(ctx, "lisa", "lead"))
    good = {"language": "nl", "category": "delivery", "tone": "formal",
            "text": "Wat vervelend dat uw pakket nog niet binnen is, {name}! Excuses daarvoor. Mag ik uw ordernummer?"}
    assert (await app_client.post("/api/openers", headers=token, json=good)).status_code == 403
    created = await app_client.post("/api/openers", headers=lead, json=good)
    assert created.status_code == 201
    bad = {**good, "text": "Dat staat gewoon in de voorwaarden."}
    refused = await app_client.post("/api/openers", headers=lead, json=bad)
    assert refused.status_code == 422 and refused.json()["detail"]["findings"]
    openers = (await app_client.get(f"/api/mentions/{items['nl-1']['id']}/openers", headers=token)).json()["openers"]
    ours = [o for o in openers if o["id"].startswith("db-")]
    assert len(ours) == 1 and "Sanne" in ours[0]["text"]
    edited = await app_client.put(f"/api/openers/{created.json()['db_id']}", headers=lead,
                                  json={**good, "active": False})
    assert edited.status_code == 200
    openers = (await app_client.get(f"/api/mentions/{items['nl-1']['id']}/openers", headers=token)).json()["openers"]
    assert not [o for o in openers if o["id"].startswith("db-")]
