"""Drafts in a real browser, two responders: typed text survives a reload, a send refused
because a colleague claimed the mention first, and a u/je switch that does not reload."""
from __future__ import annotations

import httpx
import pytest

from tests.support.app import add_user
from tests.support.browser import assert_accessible, login_page
from tests.support.push import mention, push

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]
PASSWORD = "correct-horse-battery"


async def _saved(page, text: str) -> None:
    await page.wait_for_function(
        "t => fetch('/api/mentions/1/reply-draft').then(r => r.json()).then(d => d.text === t)", arg=text,
        timeout=5000)


async def test_a_draft_survives_reload_refusal_and_tone_switch(browser, live_server, ctx):
    await add_user(ctx, "anna", password=PASSWORD)
    await add_user(ctx, "bob", password=PASSWORD)
    async with httpx.AsyncClient(base_url=live_server) as client:
        await push(client, [mention("d1", 20, text="Mijn pakket is nog steeds niet bezorgd!",
                                    author_name="Sanne Visser")])
    anna = await login_page(browser, live_server, "anna", PASSWORD, locale="nl-NL")
    bob = await login_page(browser, live_server, "bob", PASSWORD, locale="nl-NL")
    await bob.goto(f"{live_server}/mentions/1")
    text = "Wat vervelend, Sanne! Ik zoek het voor je uit en laat het je vóór 16:00 weten."
    await bob.fill("#reply-text", text)
    await _saved(bob, text)

    # u/je without a reload: other openers, the same draft, the same page.
    await bob.evaluate("window.__same = true")
    formal = await bob.get_attribute("button.opener >> nth=0", "data-text")
    await bob.click(".tone-switch a[data-tone=informal]")
    await bob.wait_for_function("f => document.querySelector('button.opener').dataset.text !== f", arg=formal)
    assert await bob.evaluate("window.__same") is True and bob.url.endswith("?tone=informal")
    assert await bob.input_value("#reply-text") == text
    assert " je " in f" {await bob.get_attribute('button.opener >> nth=0', 'data-text')} "
    await bob.wait_for_function(
        "() => fetch('/api/mentions/1/reply-draft').then(r => r.json()).then(d => d.tone === 'informal')")

    await bob.reload()
    assert await bob.input_value("#reply-text") == text
    assert await bob.get_attribute(".tone-switch a.active", "data-tone") == "informal"
    assert "Je concept staat er weer." in await bob.inner_text("#draft-status")

    # Anna claims first; Bob's send is refused and his text is still there.
    await anna.goto(f"{live_server}/mentions/1")
    await anna.click(".toolbar button.primary")
    await anna.wait_for_selector("#toast.toast-ok")
    await bob.click("#composer button[type=submit]")
    await bob.wait_for_selector("#toast.toast-error")
    assert "anna is handling this mention" in await bob.inner_text("#toast")
    assert await bob.input_value("#reply-text") == text
    await assert_accessible(bob)

    # Reopened from the queue later: still there; sent: gone.
    await anna.click("form[action$='/release'] button")
    await bob.goto(f"{live_server}/")
    await bob.goto(f"{live_server}/mentions/1")
    assert await bob.input_value("#reply-text") == text
    await bob.click("#composer button[type=submit]")
    await bob.wait_for_url(f"{live_server}/")
    assert await bob.evaluate(
        "() => fetch('/api/mentions/1/reply-draft').then(r => r.json()).then(d => d.text)") == ""


async def test_a_draft_typed_while_offline_is_saved_when_the_connection_returns(browser, live_server, ctx):
    await add_user(ctx, "anna", password=PASSWORD)
    async with httpx.AsyncClient(base_url=live_server) as client:
        await push(client, [mention("d2", 20, text="Factuur klopt niet")])
    page = await login_page(browser, live_server, "anna", PASSWORD)
    await page.goto(f"{live_server}/mentions/1")
    await page.context.set_offline(True)
    await page.fill("#reply-text", "Sorry voor het ongemak!")
    await page.wait_for_selector("#draft-status:has-text('trying again')", timeout=5000)
    await page.context.set_offline(False)
    await _saved(page, "Sorry voor het ongemak!")
    await page.wait_for_selector("#draft-status:text-is('Draft saved')")
