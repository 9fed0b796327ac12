"""The composer in a real browser: one-click openers, the live tone check, follow-up times."""
from __future__ import annotations

import httpx
import pytest

from tests.support.app import add_user
from tests.support.browser import login_page
from tests.support.push import mention, push

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]
PASSWORD = "correct-horse-battery"


async def test_opener_tone_check_and_follow_up_suggestion(browser, live_server, ctx):
    await add_user(ctx, "anna", password=PASSWORD)
    async with httpx.AsyncClient(base_url=live_server) as client:
        await push(client, [mention("c1", 15, text="Mijn pakket is al een week onderweg, waar blijft het?",
                                    author_name="Sanne Visser")])
    page = await login_page(browser, live_server, "anna", PASSWORD)
    await page.goto(f"{live_server}/mentions/1")
    openers = page.locator("button.opener")
    assert await openers.count() >= 2
    first = await openers.first.get_attribute("data-text")
    assert "Sanne" in first
    await openers.first.click()
    assert (await page.input_value("#reply-text")).startswith(first)

    await page.fill("#reply-text", "U bent de eerste die hierover klaagt.")
    await page.locator("#findings li.rule-first_to_complain").wait_for(timeout=5000)
    quoted = await page.inner_text("#findings li.rule-first_to_complain q")
    assert quoted.lower().startswith("u bent de eerste")

    await page.fill("#reply-text", "Wat vervelend, sorry! Ik zoek het voor u uit en laat het u vóór 16:00 weten.")
    await page.locator("#follow-up-suggestions button").wait_for(timeout=5000)
    assert await page.locator("#findings li").count() == 0
    await page.locator("#follow-up-suggestions button").first.click()
    assert (await page.input_value("#follow-up-due")).endswith("T16:00")

    await page.click("button:has-text('Record reply')")
    await page.wait_for_url(f"{live_server}/")
    assert await page.query_selector("#mention-1") is None


async def test_a_second_opener_replaces_the_first_and_the_signature_ends_the_draft_once(browser, live_server, ctx):
    await add_user(ctx, "anna", password=PASSWORD)
    async with httpx.AsyncClient(base_url=live_server) as client:
        await push(client, [mention("c2", 15, text="Mijn pakket is nog steeds niet bezorgd, waar blijft het?",
                                    author_name="Sanne Visser")])
    page = await login_page(browser, live_server, "anna", PASSWORD)
    await page.goto(f"{live_server}/mentions/1")
    signature = await page.get_attribute("#composer", "data-signature")
    assert signature == "^A"
    openers = page.locator("button.opener")
    first, second = [await openers.nth(i).get_attribute("data-text") for i in (0, 1)]
    assert not first.endswith(signature)  # the composer signs, the opener does not
    await openers.nth(0).click()
    assert await page.input_value("#reply-text") == f"{first} {signature}"
    await page.fill("#reply-text", f"{first}\n\nIk kijk het na.  {signature}")
    await openers.nth(1).click()
    draft = await page.input_value("#reply-text")
    assert draft == f"{second}\n\nIk kijk het na. {signature}"
    assert draft.count(signature) == 1 and first not in draft
    # A greeting typed by hand makes way too.
    await page.fill("#reply-text", "Hoi Sanne!\nIk zoek het uit.")
    await openers.nth(0).click()
    assert await page.input_value("#reply-text") == f"{first}\n\nIk zoek het uit. {signature}"
