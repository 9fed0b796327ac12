"""The live dashboard in a real browser: escaping, live updates, countdowns, language."""
from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.support.app import add_user
from tests.support.browser import login_page
from tests.support.push import mention, push

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]
PASSWORD = "correct-horse-battery"

HOSTILE = [
    mention("xss-1", 50, text="<script>window.__pwned = 1</script> mijn pakket"),
    mention("xss-2", 40, author="<img src=x onerror=\"window.__pwned=2\">",
            author_name="\"><svg onload=window.__pwned=3>", text="naam aanval"),
    mention("xss-3", 30, url="javascript:window.__pwned=4", text="<img src=x onerror=window.__pwned=5> link"),
    {"external_id": "xss-4", "posted_at": mention("x", 20)["posted_at"], "author": "h",
     "html": "<p>html <a href=\"javascript:window.__pwned=6\">klik</a><script>window.__pwned=7</script></p>",
     "url": "https://example.org/post/4?q=<script>"},
]


async def test_hostile_mentions_render_inert(browser, live_server, ctx):
    await add_user(ctx, "anna", password=PASSWORD)
    async with httpx.AsyncClient(base_url=live_server) as client:
        assert (await push(client, HOSTILE)).status_code == 202
    page = await login_page(browser, live_server, "anna", PASSWORD)
    await page.wait_for_selector("#mention-1")
    text = await page.inner_text("#live")
    assert "<script>window.__pwned = 1</script>" in text  # shown as text, not run
    assert await page.evaluate("window.__pwned") is None
    hrefs = await page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
    assert not [h for h in hrefs if h.lower().startswith("javascript:")]
    for link in await page.query_selector_all("a[target=_blank]"):
        assert "noopener" in (await link.get_attribute("rel"))
    await page.goto(f"{live_server}/mentions/2")
    await page.wait_for_selector(".mention-detail")
    assert await page.evaluate("window.__pwned") is None


async def test_new_mentions_appear_and_answered_ones_leave_without_reload(browser, live_server, ctx):
    from tests.support.app import bearer

    token = await add_user(ctx, "anna", password=PASSWORD)
    async with httpx.AsyncClient(base_url=live_server) as client:
        await push(client, [mention("first", 70, text="Al dagen geen internet"),
                            mention("second", 50, text="Pakket kwijt")])
        page = await login_page(browser, live_server, "anna", PASSWORD)
        await page.evaluate("window.__marker = 'same page'")
        assert await page.get_attribute("#mention-1", "data-sla-state") == "breached"
        assert await page.get_attribute("#mention-2", "data-sla-state") == "warning"
        await page.wait_for_selector("#stream-status.ok")
        await push(client, [mention("third", 1, text="Factuur klopt niet")])
        await page.wait_for_selector("#mention-3", timeout=10_000)
        assert await page.get_attribute("#mention-3", "data-sla-state") == "ok"
        await client.post("/api/mentions/1/claim", headers=bearer(token))
        await page.wait_for_selector("#mention-1 .tag.claimed", timeout=10_000)
        await client.post("/api/mentions/1/reply", headers=bearer(token), json={"text": "Wat vervelend, sorry!"})
        await page.wait_for_selector("#mention-1", state="detached", timeout=10_000)
    assert await page.evaluate("window.__marker") == "same page"  # never reloaded


async def test_countdown_ticks_and_ui_follows_browser_language(browser, live_server, ctx):
    await add_user(ctx, "anna", password=PASSWORD)
    async with httpx.AsyncClient(base_url=live_server) as client:
        await push(client, [mention("tick", 10)])
    page = await login_page(browser, live_server, "anna", PASSWORD, locale="nl-NL")
    first = await page.inner_text("#mention-1 .countdown")
    for _ in range(50):  # the page's CSP forbids eval, so poll from here instead of wait_for_function
        await asyncio.sleep(0.1)
        if await page.inner_text("#mention-1 .countdown") != first:
            break
    else:
        raise AssertionError(f"countdown stuck at {first}")
    assert first.startswith(("4", "5"))  # about 50 minutes left
    assert "Uitloggen" in await page.inner_text("header")


async def test_claim_and_reply_through_the_page(browser, live_server, ctx):
    await add_user(ctx, "anna", password=PASSWORD)
    async with httpx.AsyncClient(base_url=live_server) as client:
        await push(client, [mention("page-1", 20, text="Mijn factuur is te hoog")])
    page = await login_page(browser, live_server, "anna", PASSWORD)
    await page.click("#mention-1 a.button")
    await page.click("button:has-text('Claim')")
    await page.wait_for_selector("button:has-text('Release')")
    await page.fill("textarea[name=text]", "Wat vervelend! Ik kijk het voor u na en laat het u vóór 16:00 weten.")
    await page.click("button:has-text('Record reply')")
    await page.wait_for_url(f"{live_server}/?view=open")  # the split view's list
    assert await page.query_selector("#mention-1") is None
