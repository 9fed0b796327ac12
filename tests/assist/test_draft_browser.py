"""The composer's "Draft a reply" in a real browser against the fake model server: the draft
streams in (the revised one when the first fails the tone check), the keyboard works, a failing
server is said in the user's language and the openers keep working; axe-clean at 360 px."""
from __future__ import annotations

import httpx
import pytest
from playwright.async_api import expect

from tests.support.app import add_user
from tests.support.assist import BAD, GOOD
from tests.support.browser import assert_accessible, login_page
from tests.support.fake_openai import Outage
from tests.support.push import mention, push

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]
PASSWORD = "correct-horse-battery"


async def open_mention(browser, live_server, ctx, locale: str = "en-GB"):
    await add_user(ctx, "anna", password=PASSWORD)
    async with httpx.AsyncClient(base_url=live_server) as client:
        await push(client, [mention("c1", 15, text="Mijn pakket is al een week onderweg, waar blijft het?",
                                    author_name="Sanne Visser")])
    page = await login_page(browser, live_server, "anna", PASSWORD, locale=locale)
    await page.goto(f"{live_server}/mentions/1")
    return page


async def test_the_revised_draft_streams_into_the_reply_box(browser, live_server, ctx, fake_model):
    page = await open_mention(browser, live_server, ctx)
    await page.set_viewport_size({"width": 360, "height": 800})
    await page.fill("#reply-text", "Mijn eigen begin")
    fake_model.answers = [BAD, GOOD]
    await page.focus("#draft-button")
    await page.keyboard.press("Enter")                     # keyboard only
    await page.locator("#assist-status", has_text="Draft ready").wait_for(timeout=10000)
    assert await page.input_value("#reply-text") == GOOD  # the revision, not the first draft
    assert len(fake_model.requests) == 2 and fake_model.requests[0]["stream"] is True
    await page.wait_for_timeout(600)                       # the live tone check of the draft
    assert await page.locator("#findings li").count() == 0
    assert await page.locator("#reply-text:focus").count() == 1
    await assert_accessible(page)

    await page.click("#draft-undo")                        # the person's own text comes back
    assert await page.input_value("#reply-text") == "Mijn eigen begin"
    assert await page.locator("#draft-undo").is_hidden()


async def test_a_failing_server_is_said_in_dutch_and_the_openers_still_work(browser, live_server, ctx, fake_model):
    ctx.config = ctx.config.model_copy(update={"assist": ctx.config.assist.model_copy(
        update={"timeout_seconds": 0.5})})
    page = await open_mention(browser, live_server, ctx, locale="nl-NL")
    button = page.locator("#draft-button")
    assert (await button.inner_text()) == "Concept laten schrijven"
    await page.fill("#reply-text", "Mijn eigen begin")
    fake_model.answers = [Outage(delay=3)]
    await button.click()
    status = page.locator("#assist-status.failed")
    await expect(status).to_contain_text("De conceptserver antwoordde niet op tijd", timeout=10000)
    assert await page.input_value("#reply-text") == "Mijn eigen begin"   # nothing lost
    assert await button.is_enabled()

    fake_model.answers = [Outage(status=500)]
    await button.click()
    await page.locator("#assist-status", has_text="werkt nu niet").wait_for(timeout=10000)
    opener = page.locator("button.opener").first
    await opener.click()
    assert (await page.input_value("#reply-text")).startswith(await opener.get_attribute("data-text"))
    await assert_accessible(page)


async def test_no_button_without_assist(browser, live_server, ctx, fake_model):
    ctx.config = ctx.config.model_copy(update={"assist": ctx.config.assist.model_copy(update={"base_url": None})})
    page = await open_mention(browser, live_server, ctx)
    assert await page.locator("button.opener").count() >= 1  # the openers work without it
    assert await page.locator("#draft-button").count() == 0
