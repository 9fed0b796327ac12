"""The open mention follows colleagues' actions live (two responders in two browser contexts):
B sees that A claimed and then answered it, without a reload and without losing the draft."""
from __future__ import annotations

import httpx
import pytest

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
