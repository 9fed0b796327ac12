"""The live queue in Chromium redraws only what changed: twenty mentions arriving and twenty
claims in quick succession fetch their rows (/partials/queue/rows), never the whole list
(/partials/queue), and the list ends exactly as the server has it — order, claims, counts —
with the scroll position, the selection, the ticked boxes and the countdowns left as they were.
The whole list is read again only when the stream comes back after a gap or an event is not
understood."""
from __future__ import annotations

import asyncio
from urllib.parse import urlparse

import httpx
import pytest

from tests.support.app import add_user, bearer
from tests.support.browser import login_page
from tests.support.push import mention, push

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]
PASSWORD = "correct-horse-battery"
SHOWN = """() => Array.from(document.querySelectorAll('.queue li.mention')).map(li => ({
  id: Number(li.dataset.id), claimed: (li.querySelector('.tag.claimed') || {}).textContent || null}))"""


def _requests(page) -> dict[str, int]:
    """Requests the page makes, by path, counted from now on."""
    seen: dict[str, int] = {}
    page.on("request", lambda r: seen.__setitem__(urlparse(r.url).path, seen.get(urlparse(r.url).path, 0) + 1))
    return seen


async def _expected(client, token) -> list[dict]:
    items = (await client.get("/api/queue?limit=100", headers=bearer(token))).json()["items"]
    return [{"id": i["id"], "claimed": f"claimed by {i['claimed_by']}" if i["claimed_by"] else None} for i in items]


async def _settled(page, client, token, timeout: float = 15.0) -> list[dict]:
    """Waits until the list shows what the server holds (polled: the CSP forbids wait_for_function)."""
    want = await _expected(client, token)
    for _ in range(int(timeout / 0.1)):
        shown = await page.evaluate(SHOWN)
        if shown == want:
            return shown
        await asyncio.sleep(0.1)
    raise AssertionError(f"the list shows {shown}, the server has {want}")


async def test_a_burst_of_arrivals_and_claims_redraws_only_those_rows(browser, live_server, ctx):
    token = await add_user(ctx, "anna", password=PASSWORD)
    bob = await add_user(ctx, "bob")
    async with httpx.AsyncClient(base_url=live_server, timeout=30) as client:
        await push(client, [mention(f"old{i}", 55 - i, text=f"Wachtend bericht {i}") for i in range(8)])
        page = await login_page(browser, live_server, "anna", PASSWORD)
        await page.set_viewport_size({"width": 1280, "height": 700})
        await page.wait_for_selector("#stream-status.ok")
        await page.evaluate("window.__marker = 'same page'")
        await page.check("#mention-2 input.pick")
        await page.keyboard.press("Escape")  # out of the box, then select the first row
        await page.keyboard.press("j")
        assert "selected" in await page.get_attribute("#mention-1", "class")
        await page.evaluate("window.scrollTo(0, 120)")
        scrolled = await page.evaluate("window.scrollY")
        assert scrolled == 120
        first_clock = await page.inner_text("#mention-1 .countdown")
        fetched = _requests(page)

        for i in range(20):  # each its own push: twenty mention.created events
            await push(client, [mention(f"new{i}", 2 - i * 0.05, text=f"Nieuw bericht {i}")])
        queue = (await client.get("/api/queue?limit=100", headers=bearer(token))).json()["items"]
        new_ids = [i["id"] for i in queue if i["external_id"].startswith("new")]
        assert len(new_ids) == 20
        for n, mention_id in enumerate(new_ids):  # twenty claims by two people
            await client.post(f"/api/mentions/{mention_id}/claim", headers=bearer(token if n % 2 else bob))
        # Two leave the queue: one of the old ones (bob's), one of the new (anna's).
        await client.post("/api/mentions/3/claim", headers=bearer(bob))
        await client.post("/api/mentions/3/reply", headers=bearer(bob), json={"text": "Opgelost"})
        await client.post(f"/api/mentions/{new_ids[5]}/reply", headers=bearer(token), json={"text": "Opgelost"})

        shown = await _settled(page, client, token)
        assert len(shown) == 8 + 20 - 2
        assert fetched.get("/partials/queue", 0) == 0, fetched  # never the whole list
        assert fetched.get("/partials/queue/rows", 0) >= 1
        # The counts follow: the tab, the counter and the "N new" marker for rows below the fold.
        assert await page.inner_text("[data-tab-count='open']") == "26"
        assert await page.inner_text("[data-count='open']") == "26"
        assert await page.inner_text("[data-tab-count='mine']") == "9"  # ten claimed, one answered
        await page.wait_for_selector("#new-marker:not([hidden])")
        # What the responder had going stays: scroll, selection, focus, ticked box, no reload.
        assert await page.evaluate("window.scrollY") == scrolled
        assert "selected" in await page.get_attribute("#mention-1", "class")
        assert await page.evaluate("document.activeElement.closest('li').id") == "mention-1"
        assert await page.is_checked("#mention-2 input.pick")
        assert await page.evaluate("window.__marker") == "same page"
        # Countdowns run on in the old rows and start right in the new ones (about 58 min left).
        await asyncio.sleep(1.1)
        assert await page.inner_text("#mention-1 .countdown") != first_clock
        assert (await page.inner_text(f"#mention-{new_ids[0]} .countdown")).startswith(("57:", "58:"))
        assert await page.get_attribute(f"#mention-{new_ids[0]}", "data-sla-state") == "ok"


async def test_the_whole_list_after_a_gap_or_an_event_not_understood(browser, live_server, ctx):
    await add_user(ctx, "anna", password=PASSWORD)
    async with httpx.AsyncClient(base_url=live_server, timeout=30) as client:
        await push(client, [mention("a", 30, text="Eerste")])
        page = await login_page(browser, live_server, "anna", PASSWORD)
        await page.wait_for_selector("#stream-status.ok")
        fetched = _requests(page)
        await page.evaluate("window.webcareEvents.dispatchEvent(new MessageEvent('mention.updated', {data: 'x'}))")
        for _ in range(50):
            if fetched.get("/partials/queue"):
                break
            await asyncio.sleep(0.1)
        assert fetched == {"/partials/queue": 1}
        # The stream lost and found again: events may have been missed, read it all again.
        await page.evaluate("window.webcareEvents.onerror(new Event('error'))")
        assert await page.inner_text("#stream-status") == "reconnecting…"
        await page.evaluate("window.webcareEvents.onopen(new Event('open'))")
        for _ in range(50):
            if fetched.get("/partials/queue") == 2:
                break
            await asyncio.sleep(0.1)
        assert fetched == {"/partials/queue": 2}
        # From an empty list to one row (and back): the whole fragment, as it says something else.
        await client.post("/api/mentions/1/claim", headers=bearer(await add_user(ctx, "bob")))
        await page.wait_for_selector("#mention-1 .tag.claimed")
        assert fetched.get("/partials/queue/rows") == 1 and fetched["/partials/queue"] == 2
