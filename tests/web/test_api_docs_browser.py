"""The API reference page in a real Chromium, in English and Dutch, at desktop and phone width:
its long paths and types wrap instead of widening the page, its index is a navigation landmark
of its own name, and axe-core finds nothing serious or critical.

Screenshots go to $WEBCARE_SCREENSHOT_DIR when set (to look at them), else to the test's
temporary folder."""
from __future__ import annotations

import pytest

from tests.support.app import add_user
from tests.support.browser import browser, login_page, look, shots  # noqa: F401  (the browser fixture)

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]
PASSWORD = "correct-horse-battery"
LOCALES = {"en": ("en-GB", "Operations"), "nl": ("nl-NL", "Bewerkingen")}


@pytest.mark.parametrize("lang", ["en", "nl"])
async def test_the_api_reference_fits_a_phone(browser, live_server, ctx, tmp_path, lang):  # noqa: F811
    locale, index = LOCALES[lang]
    await add_user(ctx, "ada", "admin", password=PASSWORD)
    page = await login_page(browser, live_server, "ada", PASSWORD, locale=locale)

    await page.goto(f"{live_server}/api/docs")
    assert await page.get_by_role("navigation", name=index).locator("a").count() > 20
    assert await page.locator("code:text-is('POST /api/mentions/{mention_id}/undo-dismiss')").count() == 2
    await look(page, shots(tmp_path), f"api-docs-{lang}")
