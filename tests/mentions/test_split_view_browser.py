"""The split view in Chromium: pick a mention in the list and answer it without leaving the
queue; the URL names the selection, so deep links and the back button work; at phone width the
mention comes first. Accessible in both languages; screenshots at 1440 and 360 px."""
from __future__ import annotations

import httpx
import pytest

from tests.support.app import add_user
from tests.support.browser import login_page, look, shots
from tests.support.push import mention, push

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]
PASSWORD = "correct-horse-battery"


@pytest.mark.parametrize("lang", ["en", "nl"])
async def test_select_in_the_list_and_reply_without_leaving_it(browser, live_server, ctx, tmp_path, lang):
    await add_user(ctx, "anna", password=PASSWORD)
    async with httpx.AsyncClient(base_url=live_server) as client:
        await push(client, [mention("p1", 40, channel="mastodon", author_name="Sanne Visser",
                                    text="Mijn pakket is nog steeds niet bezorgd!"),
                            mention("p2", 20, channel="rss", text="Factuur klopt niet, twee keer afgeschreven")])
    page = await login_page(browser, live_server, "anna", PASSWORD, locale="nl-NL" if lang == "nl" else "en-GB")
    await page.click("a[href='/?view=mine']")
    await page.click("a[href='/?view=open']")
    await page.click("#mention-1 .actions a.button")
    await page.wait_for_url(f"{live_server}/?view=open&m=1")
    assert await page.is_visible(".pane #composer") and await page.is_visible("#mention-2")
    await look(page, shots(tmp_path), f"split-{lang}")

    await page.click("#mention-2 .actions a.button")
    await page.wait_for_url(f"{live_server}/?view=open&m=2")
    await page.go_back()
    await page.wait_for_url(f"{live_server}/?view=open&m=1")
    assert "Sanne Visser" in await page.inner_text(".pane h1")

    await page.fill("#reply-text", "Wat vervelend, sorry! Ik zoek het uit en laat het u vóór 16:00 weten.")
    await page.click("#composer button[type=submit]")
    await page.wait_for_url(f"{live_server}/?view=open")
    assert await page.query_selector("#mention-1") is None and await page.query_selector("#mention-2")
    assert await page.is_visible("#toast.toast-ok")
