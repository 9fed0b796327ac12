"""Feedback in a real browser: the toast after an action, undo of a bulk dismiss, a refusal
shown as a message, all accessible."""
from __future__ import annotations

import httpx
import pytest

from tests.support.app import add_user, bearer
from tests.support.browser import assert_accessible, login_page
from tests.support.push import mention, push

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]
PASSWORD = "correct-horse-battery"


async def test_bulk_dismiss_shows_a_toast_whose_undo_brings_them_back(browser, live_server, ctx):
    await add_user(ctx, "anna", password=PASSWORD)
    async with httpx.AsyncClient(base_url=live_server) as client:
        await push(client, [mention(f"b{i}", 30 + i, text=f"Bericht {i}") for i in range(3)])
    page = await login_page(browser, live_server, "anna", PASSWORD)
    await page.check("#mention-1 input.pick")
    await page.check("#mention-2 input.pick")
    assert await page.input_value("#bulk select[name=reason]") == ""  # nothing chosen in advance
    await page.select_option("#bulk select[name=reason]", "spam")
    await page.click("#bulk button[type=submit]")
    await page.wait_for_selector("#toast.toast-ok")
    assert "Dismissed: 2." in await page.inner_text("#toast")
    assert await page.query_selector("#mention-1") is None and await page.query_selector("#mention-3")
    await assert_accessible(page)
    await page.click("#undo")
    await page.wait_for_selector("#mention-1")
    assert await page.query_selector("#mention-2")
    assert "Undone: 2 back in the queue." in await page.inner_text("#toast")


async def test_a_refused_action_is_a_message_on_the_mention_in_dutch(browser, live_server, ctx):
    await add_user(ctx, "anna", password=PASSWORD)
    bob = bearer(await add_user(ctx, "bob"))
    async with httpx.AsyncClient(base_url=live_server) as client:
        await push(client, [mention("c1", 20, text="Waar blijft mijn pakket?")])
        page = await login_page(browser, live_server, "anna", PASSWORD, locale="nl-NL")
        await page.goto(f"{live_server}/mentions/1")
        await client.post("/api/mentions/1/claim", headers=bob)
    await page.click(".toolbar button.primary")  # claim, refused: bob was first
    await page.wait_for_selector("#toast.toast-error")
    assert page.url == f"{live_server}/mentions/1"
    assert "bob is handling this mention" in await page.inner_text("#toast")
    await assert_accessible(page)
    await page.click("#toast .toast-close")
    assert await page.query_selector("#toast") is None
