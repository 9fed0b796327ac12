"""Feedback and safety on the pages: a confirmation after each action, undo for a dismissal
(bulk too, only by the one who dismissed, only within the window), no preselected dismiss
reason, refusals as one-time messages that no URL can forge."""
from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from app.mentions.actions import UNDO_DISMISS_SECONDS
from app.web.flash import FLASH_COOKIE
from tests.support.app import Clock, add_user, bearer
from tests.support.push import mention, push

pytestmark = pytest.mark.asyncio
DUTCH = {"Accept-Language": "nl-NL,nl;q=0.9"}


async def _queue(app_client, h) -> list[int]:
    return [i["id"] for i in (await app_client.get("/api/queue", headers=h)).json()["items"]]


class _Text(HTMLParser):
    """The text a page shows (not its attributes: a search field may hold what was searched)."""

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def shown_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(parser.parts)


def _toast(html: str) -> str:
    found = re.search(r'<div class="toast[^"]*".*?</div>', html, re.S)
    return found.group(0) if found else ""


async def test_a_dismissal_is_confirmed_once_and_can_be_undone(app_client, ctx):
    ctx.clock = Clock()
    await push(app_client, [mention("d1", 10)])
    h = bearer(await add_user(ctx, "anna"))
    [mid] = await _queue(app_client, h)
    r = await app_client.post(f"/mentions/{mid}/dismiss", headers=h, data={"reason": "spam"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/" and FLASH_COOKIE in r.headers["set-cookie"]
    assert await _queue(app_client, h) == []
    page = await app_client.get("/", headers=h)
    toast = _toast(page.text)
    assert "Dismissed as “spam”." in toast and 'role="status"' in toast
    assert f'name="ids" value="{mid}"' in toast and f'data-undo-seconds="{UNDO_DISMISS_SECONDS}"' in toast
    assert _toast((await app_client.get("/", headers=h)).text) == ""  # shown once
    undone = await app_client.post("/undo-dismiss", headers=h, data={"ids": [str(mid)]}, follow_redirects=False)
    assert undone.status_code == 303
    assert await _queue(app_client, h) == [mid]
    detail = (await app_client.get(f"/api/mentions/{mid}", headers=h)).json()
    assert detail["status"] == "open" and detail["dismiss_reason"] is None
    assert "Undone: 1 back in the queue." in _toast((await app_client.get("/", headers=h)).text)


async def test_the_toast_speaks_the_users_language(app_client, ctx):
    await push(app_client, [mention("d1", 10)])
    h = {**bearer(await add_user(ctx, "anna")), **DUTCH}
    [mid] = await _queue(app_client, h)
    await app_client.post(f"/mentions/{mid}/claim", headers=h)
    toast = _toast((await app_client.get(f"/mentions/{mid}", headers=h)).text)
    assert "Je behandelt deze melding nu." in toast


async def test_undo_only_by_the_one_who_dismissed_and_only_within_the_window(app_client, ctx):
    ctx.clock = Clock()
    await push(app_client, [mention(f"w{i}", 10 + i) for i in range(2)])
    anna, bob = bearer(await add_user(ctx, "anna")), bearer(await add_user(ctx, "bob"))
    first, second = await _queue(app_client, anna)
    for mid in (first, second):
        assert (await app_client.post(f"/api/mentions/{mid}/dismiss", headers=anna,
                                      json={"reason": "duplicate"})).status_code == 200
    by_bob = await app_client.post(f"/api/mentions/{first}/undo-dismiss", headers=bob)
    assert by_bob.status_code == 409 and by_bob.json() == {"detail": "this dismissal can no longer be undone"}
    ctx.clock.advance(seconds=UNDO_DISMISS_SECONDS - 1)
    ok = await app_client.post(f"/api/mentions/{first}/undo-dismiss", headers=anna)
    assert ok.status_code == 200 and ok.json()["status"] == "open"
    ctx.clock.advance(seconds=2)
    late = await app_client.post(f"/api/mentions/{second}/undo-dismiss", headers=anna)
    assert late.status_code == 409
    assert (await app_client.post("/api/mentions/999999/undo-dismiss", headers=anna)).status_code == 404
    assert await _queue(app_client, anna) == [first]


async def test_a_bulk_dismiss_is_undone_in_one_go(app_client, ctx):
    await push(app_client, [mention(f"b{i}", 10 + i) for i in range(3)])
    anna, bob = bearer(await add_user(ctx, "anna")), bearer(await add_user(ctx, "bob"))
    ids = await _queue(app_client, anna)
    await app_client.post(f"/api/mentions/{ids[0]}/claim", headers=bob)
    r = await app_client.post("/dismiss", headers=anna, data={"ids": [str(i) for i in ids], "reason": "spam"},
                              follow_redirects=False)
    assert r.status_code == 303
    toast = _toast((await app_client.get("/", headers=anna)).text)
    assert "Dismissed: 2. Left as they were" in toast and ": 1." in toast
    assert sorted(re.findall(r'name="ids" value="(\d+)"', toast)) == sorted(str(i) for i in ids[1:])
    undo = await app_client.post("/api/mentions/undo-dismiss", headers=anna, json={"ids": ids})
    assert undo.status_code == 200
    assert sorted(undo.json()["undone"]) == sorted(ids[1:]) and [x["id"] for x in undo.json()["refused"]] == [ids[0]]
    assert sorted(await _queue(app_client, anna)) == sorted(ids)


async def test_no_dismiss_reason_is_chosen_in_advance(app_client, ctx):
    await push(app_client, [mention("r1", 10)])
    h = bearer(await add_user(ctx, "anna"))
    [mid] = await _queue(app_client, h)
    for path in ("/", f"/mentions/{mid}"):
        html = (await app_client.get(path, headers=h)).text
        select = re.search(r'<select name="reason".*?</select>', html, re.S).group(0)
        assert "required" in select
        assert re.findall(r"<option[^>]*selected[^>]*>", select) == ['<option value="" selected disabled>']
    # A form sent without a reason is refused with a message and changes nothing.
    r = await app_client.post(f"/mentions/{mid}/dismiss", headers=h, data={}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/mentions/{mid}"
    toast = _toast((await app_client.get(f"/mentions/{mid}", headers=h)).text)
    assert 'role="alert"' in toast and "reason must be one of" in toast
    assert await _queue(app_client, h) == [mid]
    bulk = await app_client.post("/dismiss", headers=h, data={"ids": [str(mid)]}, follow_redirects=False)
    assert bulk.status_code == 303 and await _queue(app_client, h) == [mid]
    assert "reason must be one of" in _toast((await app_client.get("/", headers=h)).text)


async def test_a_refusal_comes_back_as_a_message_not_as_url_text(app_client, ctx):
    await push(app_client, [mention("c1", 10)])
    anna, bob = bearer(await add_user(ctx, "anna")), bearer(await add_user(ctx, "bob"))
    [mid] = await _queue(app_client, anna)
    await app_client.post(f"/api/mentions/{mid}/claim", headers=anna)
    r = await app_client.post(f"/mentions/{mid}/reply", headers=bob, data={"text": "Hallo!"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/mentions/{mid}"  # nothing in the URL
    page = await app_client.get(f"/mentions/{mid}", headers=bob)
    assert "anna is handling this mention" in _toast(page.text)


async def test_no_page_shows_text_from_the_query_string_or_a_forged_message(app_client, ctx):
    await push(app_client, [mention("q1", 10)])
    h = bearer(await add_user(ctx, "anna"))
    [mid] = await _queue(app_client, h)
    bait = "Your account is blocked, call 0900-SCAM"
    for path in ("/", f"/mentions/{mid}", "/sources", "/reports"):
        html = (await app_client.get(path, headers=h, params={"error": bait, "message": bait, "q": bait})).text
        assert "0900-SCAM" not in shown_text(html), path
    app_client.cookies.set(FLASH_COOKIE, "eyJraW5kIjogImVycm9yIn0.forged")
    assert _toast((await app_client.get("/", headers=h)).text) == ""


async def test_a_dismissed_mention_says_who_dismissed_it_and_why(app_client, ctx):
    await push(app_client, [mention("o1", 10, channel="rss")])
    h = bearer(await add_user(ctx, "anna"))
    [mid] = await _queue(app_client, h)
    await app_client.post(f"/api/mentions/{mid}/dismiss", headers=h, json={"reason": "not_relevant"})
    detail = (await app_client.get(f"/api/mentions/{mid}", headers=h)).json()
    assert detail["dismissed_by"] == "anna" and detail["dismissed_at"] and detail["dismiss_reason"] == "not_relevant"
    page = shown_text((await app_client.get(f"/mentions/{mid}", headers={**h, **DUTCH})).text)
    assert "Afgehandeld zonder reactie door anna als ‘niet relevant’" in page
    assert "RSS" in page



async def test_the_author_panel_shows_reach_and_how_earlier_mentions_ended(app_client, ctx):
    await push(app_client, [mention("h1", 90, author="@sanne", followers=12345, text="Eerste klacht"),
                            mention("h2", 60, author="@sanne", followers=12345, text="Tweede klacht")])
    h = bearer(await add_user(ctx, "anna"))
    first, second = await _queue(app_client, h)
    await app_client.post(f"/api/mentions/{first}/reply", headers=h, json={"text": "Sorry, we zoeken het uit!"})
    detail = (await app_client.get(f"/api/mentions/{second}", headers=h)).json()
    [earlier] = detail["author_history"]
    assert earlier["answered_by"] == "anna" and earlier["dismiss_reason"] is None
    page = shown_text((await app_client.get(f"/mentions/{second}", headers={**h, **DUTCH})).text)
    assert "12.345 volgers" in page and "beantwoord door anna" in page
