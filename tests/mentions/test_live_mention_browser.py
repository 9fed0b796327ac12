"""The open mention follows the event stream live, without a reload and without losing the
draft: B sees that A (another browser context) claimed and then answered it, and that the
customer wrote again and then deleted their post."""
from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from playwright.async_api import expect

from app.core.models import utcnow
from app.intake.store import ingest_batch
from connectors.base import NewMention
from tests.support.app import add_user
from tests.support.browser import assert_accessible, login_page
from tests.support.push import mention, push

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]
PASSWORD = "correct-horse-battery"


async def test_b_sees_a_claim_and_answer_while_typing(browser, live_server, ctx):
    await add_user(ctx, "anna", password=PASSWORD)
    await add_user(ctx, "bob", password=PASSWORD)
    async with httpx.AsyncClient(base_url=live_server) as client:
        await push(client, [mention("l1", 20, text="Mijn pakket is nog steeds niet bezorgd!")])
    anna = await login_page(browser, live_server, "anna", PASSWORD)
    bob = await login_page(browser, live_server, "bob", PASSWORD)
    await bob.goto(f"{live_server}/mentions/1")
    await bob.evaluate("window.__same = true")
    await bob.fill("#reply-text", "Wat vervelend! Ik zoek het uit.")
    assert await bob.is_hidden("#live-change")

    await anna.goto(f"{live_server}/mentions/1")
    await anna.click(".toolbar form[action$='/claim'] button")
    await bob.wait_for_selector("#live-change:not([hidden])", timeout=10_000)
    assert await bob.inner_text("#live-change .live-change-text") == "anna has claimed this mention meanwhile."
    assert await bob.input_value("#reply-text") == "Wat vervelend! Ik zoek het uit."
    assert await bob.evaluate("window.__same") is True
    await assert_accessible(bob)

    await anna.fill("#reply-text", "Sorry! Ik zoek het voor u uit en laat het u vóór 16:00 weten.")
    await anna.click("#composer button[type=submit]")
    await bob.wait_for_function(
        "() => document.querySelector('#live-change .live-change-text').textContent.includes('answered')",
        timeout=10_000)
    assert await bob.inner_text("#live-change .live-change-text") == "anna has answered this mention meanwhile."
    assert await bob.input_value("#reply-text") == "Wat vervelend! Ik zoek het uit."


async def test_the_open_mention_says_when_the_customer_writes_again_and_when_they_delete_it(browser, live_server,
                                                                                            ctx):
    await add_user(ctx, "bob", password=PASSWORD)
    async with httpx.AsyncClient(base_url=live_server) as client:
        await push(client, [mention("w1", 20, text="Mijn factuur klopt niet, twee keer afgeschreven.")])
    bob = await login_page(browser, live_server, "bob", PASSWORD)
    await bob.goto(f"{live_server}/mentions/1")
    await bob.fill("#reply-text", "Vervelend! Ik kijk het na.")

    async with httpx.AsyncClient(base_url=live_server) as client:   # the customer adds to their own thread
        await push(client, [mention("w2", 1, text="Nog steeds geen antwoord??", in_reply_to="w1")])
    await bob.wait_for_selector("#live-change:not([hidden])", timeout=10_000)
    assert await bob.inner_text("#live-change .live-change-text") == "The customer wrote again."

    # The channel later reports the first post deleted, as a connector's re-check does.
    source = ctx.config.source("push")
    first = NewMention(external_id="w1", posted_at=utcnow() - timedelta(minutes=20), author="klant",
                       text="Mijn factuur klopt niet, twee keer afgeschreven.", deleted=True)
    await ingest_batch(ctx.db, ctx.source_ref(source), [first], ctx.ingest_context(source))
    text = bob.locator("#live-change .live-change-text")
    await expect(text).to_contain_text("The author has deleted this post.", timeout=10_000)
    assert await bob.input_value("#reply-text") == "Vervelend! Ik kijk het na."
    await assert_accessible(bob)
