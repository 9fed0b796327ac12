"""The chat alerts page in a real Chromium, in English and Dutch, at desktop and phone width:
its tables scroll inside their own region instead of widening the page, every column is named
(the actions too) and axe-core finds nothing serious or critical.

Screenshots go to $WEBCARE_SCREENSHOT_DIR when set (to look at them), else to the test's
temporary folder."""
from __future__ import annotations

import pytest

from tests.support.alerting import sink_toml
from tests.support.app import add_user
from tests.support.browser import browser, login_page, look, shots  # noqa: F401  (the browser fixture)

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]
PASSWORD = "correct-horse-battery"
LOCALES = {"en": ("en-GB", "Chat alerts", "Send test alert"), "nl": ("nl-NL", "Chatmeldingen", "Testmelding sturen")}


@pytest.mark.parametrize("lang", ["en", "nl"])
async def test_the_alerts_page_fits_a_phone_and_names_its_columns(browser, live_server, alerting,  # noqa: F811
                                                                  tmp_path, lang):
    locale, heading, send_test = LOCALES[lang]
    a = alerting(sink_toml("team-chat", "slack", events=["breached", "warning"]))
    await add_user(a.ctx, "ada", "admin", password=PASSWORD)
    page = await login_page(browser, live_server, "ada", PASSWORD, locale=locale)

    await page.goto(f"{live_server}/alerts")
    assert await page.inner_text("h1") == heading
    await page.click(f"button:has-text('{send_test}')")
    await page.wait_for_url(f"{live_server}/alerts")
    await a.dispatcher.dispatch()
    await page.reload()

    assert "test:team-chat:" in await page.inner_text("section:last-of-type table")  # under "Last deliveries"
    assert await page.locator(".table-scroll > table.grid").count() == 3
    # Each header cell has a name, the column of buttons too (read out, not shown).
    for header in await page.locator("table.grid th").all():
        assert (await header.text_content() or "").strip()
    await look(page, shots(tmp_path), f"alerts-{lang}")
