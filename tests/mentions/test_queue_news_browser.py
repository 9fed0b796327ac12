"""News in the live queue, in Chromium: a desktop notification for a new red mention (the
permission granted in the test's browser context) and the "N new" marker for mentions that
land below the visible part of the list."""
from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.support.app import add_user
from tests.support.push import mention, push

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]
PASSWORD = "correct-horse-battery"
# The real Notification, with every one shown also written down where the test can read it.
RECORD_NOTIFICATIONS = """
window.__shown = [];
const Real = window.Notification;
window.Notification = class extends Real {
  constructor(title, options) { super(title, options); window.__shown.push({title, body: options.body}); }
  // The statics are the real ones, called on the real class (the browser refuses them on another).
  static get permission() { return Real.permission; }
  static requestPermission(...args) { return Real.requestPermission(...args); }
};
"""


async def _signed_in(browser, base_url: str, **context_options):
    context = await browser.new_context(locale="en-GB", permissions=["notifications"], **context_options)
    await context.add_init_script(RECORD_NOTIFICATIONS)
    page = await context.new_page()
    await page.goto(f"{base_url}/login")
    await page.fill("input[name=username]", "anna")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{base_url}/")
    await page.wait_for_selector("#stream-status.ok")
    return page


async def test_a_new_red_mention_raises_a_desktop_notification(browser, live_server, ctx):
    await add_user(ctx, "anna", password=PASSWORD)
    page = await _signed_in(browser, live_server)
    await page.check("#notify-toggle")
    # The browser answers the permission request asynchronously; the choice is stored after it
    # (polled from here: the page's Content-Security-Policy forbids wait_for_function's eval).
    for _ in range(100):
        if await page.evaluate("localStorage.getItem('webcare.notify')") == "1":
            break
        await asyncio.sleep(0.05)
    assert await page.evaluate("localStorage.getItem('webcare.notify')") == "1"
    async with httpx.AsyncClient(base_url=live_server) as client:
        await push(client, [mention("n1", 5, text="Fresh and green")])
        await page.wait_for_selector("#mention-1")
        await push(client, [mention("n2", 75, author_name="Sanne Visser", text="Al een week geen internet!")])
        await page.wait_for_selector("#mention-2")
    await page.wait_for_function("window.__shown.length > 0")
    shown = await page.evaluate("window.__shown")
    assert shown == [{"title": "Red: past the response target", "body": "Sanne Visser: Al een week geen internet!"}]


async def test_new_mentions_below_the_fold_show_a_marker(browser, live_server, ctx):
    await add_user(ctx, "anna", password=PASSWORD)
    async with httpx.AsyncClient(base_url=live_server) as client:
        await push(client, [mention(f"old{i}", 50 - i, text=f"Wachtend bericht {i}") for i in range(12)])
        page = await _signed_in(browser, live_server, viewport={"width": 1280, "height": 600})
        assert await page.is_hidden("#new-marker")
        await push(client, [mention("fresh", 1, text="Net binnen")])   # most time left: at the bottom
        await page.wait_for_selector("#mention-13", state="attached")
    await page.wait_for_selector("#new-marker:not([hidden])")
    assert await page.inner_text("#new-marker") == "1 new below ↓"
    await page.click("#new-marker")
    assert await page.is_hidden("#new-marker")
    assert await page.evaluate("document.getElementById('mention-13').getBoundingClientRect().top < innerHeight")
