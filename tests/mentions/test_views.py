"""The dashboard's views (Mine, Unassigned, All open, Follow-ups due, Answered today) with
their counts, the drop-down filters with labels people read, and what an empty list says."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from tests.mentions.test_feedback import shown_text
from tests.support.app import add_user, bearer
from tests.support.push import mention, push

pytestmark = pytest.mark.asyncio
DUTCH = {"Accept-Language": "nl-NL,nl;q=0.9"}


def _rows(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<li class="mention[^"]*" id="mention-(\d+)"', html)]


def _tabs(html: str) -> dict[str, int]:
    nav = re.search(r'<nav class="tabs".*?</nav>', html, re.S).group(0)
    return {label.strip(): int(n) for label, n in re.findall(r'>([^<>]+)<span class="count"[^>]*>(\d+)</span>', nav)}


async def _team(app_client, ctx):
    await push(app_client, [mention("m1", 50, channel="mastodon", text="Al dagen geen internet"),
                            mention("m2", 40, channel="rss", text="Factuur klopt niet"),
                            mention("m3", 30, channel="mastodon", text="Pakket kwijt"),
                            mention("m4", 20, channel="x", text="Waar blijft mijn bestelling?")])
    anna, bob = bearer(await add_user(ctx, "anna")), bearer(await add_user(ctx, "bob"))
    ids = {i["external_id"]: i["id"] for i in (await app_client.get("/api/queue", headers=anna)).json()["items"]}
    await app_client.post(f"/api/mentions/{ids['m1']}/claim", headers=anna)
    await app_client.post(f"/api/mentions/{ids['m2']}/claim", headers=bob)
    await app_client.post(f"/api/mentions/{ids['m4']}/reply", headers=anna, json={"text": "Sorry, ik zoek het uit!"})
    soon = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    await app_client.post(f"/api/mentions/{ids['m4']}/follow-up", headers=anna,
                          json={"due_at": soon, "note": "Track & trace nasturen"})
    return anna, bob, ids


async def test_each_view_shows_its_mentions_and_every_tab_its_count(app_client, ctx):
    anna, bob, ids = await _team(app_client, ctx)
    page = (await app_client.get("/", headers=anna)).text
    assert _tabs(page) == {"Mine": 1, "Unassigned": 1, "All open": 3, "Follow-ups due": 1, "Answered today": 1}
    assert _rows(page) == [ids["m1"], ids["m2"], ids["m3"]]
    assert "Least time left first" in page
    assert _rows((await app_client.get("/?view=mine", headers=anna)).text) == [ids["m1"]]
    assert _rows((await app_client.get("/?view=mine", headers=bob)).text) == [ids["m2"]]
    assert _rows((await app_client.get("/?view=unassigned", headers=anna)).text) == [ids["m3"]]
    answered = (await app_client.get("/?view=answered_today", headers=anna)).text
    assert _rows(answered) == [ids["m4"]] and "by anna" in shown_text(answered)
    assert 'id="bulk"' not in answered  # nothing to dismiss there
    due = (await app_client.get("/?view=follow_ups", headers=anna)).text
    assert _rows(due) == [ids["m4"]] and "Track &amp; trace nasturen" in due
    assert 'aria-current="page"' in re.search(r'<a href="/\?view=follow_ups"[^>]*>', due).group(0)
    # The live fragment answers the same view, and an unknown view is the whole queue.
    assert _rows((await app_client.get("/partials/queue?view=mine", headers=anna)).text) == [ids["m1"]]
    assert _rows((await app_client.get("/?view=nonsense", headers=anna)).text) == [ids["m1"], ids["m2"], ids["m3"]]


async def test_filters_are_drop_downs_in_the_readers_language_and_tabs_keep_them(app_client, ctx):
    anna, _bob, ids = await _team(app_client, ctx)
    page = (await app_client.get("/?channel=mastodon", headers={**anna, **DUTCH})).text
    channel = re.search(r'<select name="channel".*?</select>', page, re.S).group(0)
    assert re.findall(r"<option[^>]*>([^<]*)</option>", channel) == ["Alle", "Mastodon", "RSS", "X"]
    assert '<option value="mastodon" selected>' in channel
    category = re.search(r'<select name="category".*?</select>', page, re.S).group(0)
    assert '<option value="delivery" >bezorging</option>' in category
    assert _rows(page) == [ids["m1"], ids["m3"]]
    assert _tabs(page)["Alles open"] == 2 and _tabs(page)["Van mij"] == 1
    assert '<a href="/?view=mine&amp;channel=mastodon"' in page
    person = (await app_client.get("/?person=bob", headers=anna)).text
    assert _rows(person) == [ids["m2"]]


async def test_an_empty_result_says_whether_filters_hide_mentions_or_nothing_waits(app_client, ctx):
    anna, bob, ids = await _team(app_client, ctx)
    filtered = (await app_client.get("/?view=open&channel=reddit", headers=anna)).text
    assert "No mention matches these filters." in filtered and "Nothing waiting" not in filtered
    assert '<a href="/?view=open">Clear filters</a>' in filtered
    assert '<option value="reddit" selected>Reddit</option>' in filtered  # the filter in use stays visible
    carol = bearer(await add_user(ctx, "carol"))
    mine = (await app_client.get("/?view=mine", headers=carol)).text
    assert "Nothing of yours is waiting." in mine and "Clear filters" not in mine
    for mid in (ids["m1"], ids["m3"]):
        await app_client.post(f"/api/mentions/{mid}/dismiss", headers=anna, json={"reason": "spam"})
    await app_client.post(f"/api/mentions/{ids['m2']}/dismiss", headers=bob, json={"reason": "spam"})
    assert "Nothing waiting. Well done!" in (await app_client.get("/", headers=anna)).text


async def test_urgent_first_is_a_choice_kept_by_the_tabs(app_client, ctx):
    await push(app_client, [mention("calm", 50, text="Mijn pakket is er nog niet"),
                            mention("angry", 5, text="Belachelijk!! Ik ga mijn abonnement opzeggen")])
    h = bearer(await add_user(ctx, "anna"))
    items = {i["external_id"]: i for i in (await app_client.get("/api/queue", headers=h)).json()["items"]}
    assert items["angry"]["urgency"] > items["calm"]["urgency"]
    calm, angry = items["calm"]["id"], items["angry"]["id"]
    by_time = (await app_client.get("/", headers=h)).text
    assert _rows(by_time) == [calm, angry] and '<a href="/?view=open&amp;order=urgent">Urgent first</a>' in by_time
    urgent = (await app_client.get("/?order=urgent", headers=h)).text
    assert _rows(urgent) == [angry, calm] and "Most urgent first" in urgent
    assert '<a href="/?view=mine&amp;order=urgent"' in urgent and 'name="order" value="urgent"' in urgent
    assert _rows((await app_client.get("/partials/queue?order=urgent", headers=h)).text) == [angry, calm]
