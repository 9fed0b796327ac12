"""Keyboard-only in Chromium: from a new mention in the queue to a sent reply, the selection
kept while live updates redraw the queue, and "?" listing the shortcuts."""
from __future__ import annotations

import httpx
import pytest

from tests.support.app import add_user
from tests.support.browser import assert_accessible, login_page
from tests.support.push import mention, push

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]
PASSWORD = "correct-horse-battery"


async def test_from_a_new_mention_to_a_sent_reply_with_the_keyboard_only(browser, live_server, ctx):
    await add_user(ctx, "anna", password=PASSWORD)
    async with httpx.AsyncClient(base_url=live_server) as client:
        await push(client, [mention("k1", 30, text="Waar blijft mijn pakket?"),
                            mention("k2", 20, text="Factuur klopt niet")])
        page = await login_page(browser, live_server, "anna", PASSWORD)
        await page.wait_for_selector("#stream-status.ok")
        await page.keyboard.press("j")
        await page.keyboard.press("j")
        assert await page.get_attribute("#mention-2", "class") == "mention sla-ok selected"
        await page.keyboard.press("k")
        assert "selected" in await page.get_attribute("#mention-1", "class")
        # A new mention redraws the queue: the selection and the focus stay on the same one.
        await push(client, [mention("k3", 1, text="Nog een")])
        await page.wait_for_selector("#mention-3")
        assert "selected" in await page.get_attribute("#mention-1", "class")
        assert await page.evaluate("document.activeElement.closest('li').id") == "mention-1"

    await page.keyboard.press("Enter")
    await page.wait_for_url(f"{live_server}/?view=open&m=1")   # beside the list
    await page.keyboard.press("c")
    await page.wait_for_selector("#toast.toast-ok")
    assert "You are handling this mention now." in await page.inner_text("#toast")
    await page.keyboard.press("r")
    assert await page.evaluate("document.activeElement.id") == "reply-text"
    await page.keyboard.type("Wat vervelend, sorry! Ik zoek het uit en laat het u vóór 16:00 weten.")
    await page.keyboard.press("Control+Enter")
    await page.wait_for_url(f"{live_server}/?view=open")
    assert "Reply recorded." in await page.inner_text("#toast")
    assert await page.query_selector("#mention-1") is None

    await page.keyboard.press("?")
    await page.wait_for_selector("dialog#shortcuts[open]")
    assert "Ctrl" in await page.inner_text("dialog#shortcuts")
    await assert_accessible(page)
    await page.keyboard.press("Escape")
    assert await page.query_selector("dialog#shortcuts[open]") is None
