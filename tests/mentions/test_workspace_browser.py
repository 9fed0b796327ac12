"""The responder's workspace in Chromium, in English and Dutch, at desktop and phone width:
the queue's views and filters, a toast, the mention with its composer and draft. Accessible
(axe-core: nothing serious or critical), nothing wider than the screen, no CSP complaint.

Screenshots go to $WEBCARE_SCREENSHOT_DIR when set (to look at them), else to the test's
temporary folder."""
from __future__ import annotations

import httpx
import pytest

from tests.support.app import add_user, bearer
from tests.support.browser import login_page, look, shots
from tests.support.push import mention, push

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]
PASSWORD = "correct-horse-battery"
LOCALES = {"en": ("en-GB", "All open", "Suggested openers", "Queue"),
           "nl": ("nl-NL", "Alles open", "Voorgestelde openingszinnen", "Wachtrij")}


@pytest.mark.parametrize("lang", ["en", "nl"])
async def test_queue_and_mention_pages_at_every_width(browser, live_server, ctx, tmp_path, lang):
    locale, all_open, openers, queue = LOCALES[lang]
    await add_user(ctx, "anna", password=PASSWORD)
    bob = bearer(await add_user(ctx, "bob"))
    async with httpx.AsyncClient(base_url=live_server) as client:
        await push(client, [
            mention("w1", 70, channel="mastodon", author_name="Sanne Visser",
                    text="Mijn pakket is nog steeds niet bezorgd en ik heb de hele dag thuis gezeten!"),
            mention("w2", 50, channel="bluesky", text="My account has been blocked since yesterday, help?",
                    language="en"),
            mention("w3", 10, channel="rss", text="Hoe wijzig ik mijn e-mailadres?"),
        ])
        await client.post("/api/mentions/2/claim", headers=bob)
    page = await login_page(browser, live_server, "anna", PASSWORD, locale=locale)
    complaints: list[str] = []
    page.on("console", lambda msg: complaints.append(msg.text) if "Content Security Policy" in msg.text else None)
    folder = shots(tmp_path)

    assert all_open in await page.inner_text("nav.tabs a[aria-current=page]")
    # The page's name in a screen reader's list of headings (axe: page-has-heading-one).
    assert await page.get_by_role("heading", level=1, name=queue, exact=True).count() == 1
    await look(page, folder, f"queue-{lang}")
    await page.goto(f"{live_server}/?view=open&channel=reddit")
    await look(page, folder, f"queue-empty-{lang}")

    await page.goto(f"{live_server}/mentions/1")
    await page.click(".toolbar button.primary")   # claim: a toast
    await page.wait_for_selector("#toast.toast-ok")
    assert openers in await page.inner_text(".openers h2")
    await page.locator("button.opener").first.click()
    await look(page, folder, f"mention-{lang}")
    assert complaints == []
