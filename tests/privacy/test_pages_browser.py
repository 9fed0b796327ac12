"""The privacy and audit pages in a real Chromium, in English and Dutch, at desktop and phone
width: readable, accessible (axe-core: nothing serious or critical), no Content-Security-Policy
complaint, and the erase flow refused without the confirmation box.

Screenshots go to $WEBCARE_SCREENSHOT_DIR when set (to look at them), else to the test's
temporary folder."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.app import add_user
from tests.support.browser import assert_accessible, browser, login_page  # noqa: F401  (the browser fixture)
from tests.support.browser import screenshot_dir as shots
from tests.support.privacy import copy_around, rows_holding
from tests.support.report_week import ANNA, build_week, local

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]
PASSWORD = "correct-horse-battery"
WIDTHS = (1440, 360)
LOCALES = {"en": ("en-GB", "What we hold about klant1", "Audit trail"),
           "nl": ("nl-NL", "Wat we bewaren over klant1", "Auditlogboek")}


async def _look(page, folder: Path, name: str) -> None:
    """Accessible at every width, with nothing wider than the screen; a screenshot of each."""
    for width in WIDTHS:
        await page.set_viewport_size({"width": width, "height": 900})
        await assert_accessible(page)
        overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} at {width}px is {overflow}px wider than the screen"
        await page.screenshot(path=str(folder / f"{name}-{width}.png"), full_page=True)


@pytest.mark.parametrize("lang", ["en", "nl"])
async def test_privacy_and_audit_pages_in_chromium(browser, live_server, ctx, tmp_path, lang):  # noqa: F811
    locale, heading, trail = LOCALES[lang]
    week = await build_week(ctx)
    await copy_around(ctx, week.ids["m1"], ANNA, local(22, 9, 10), "uniek-zinnetje")
    await add_user(ctx, "ada", "admin", password=PASSWORD)
    page = await login_page(browser, live_server, "ada", PASSWORD, locale=locale)
    complaints: list[str] = []
    page.on("console", lambda msg: complaints.append(msg.text) if "Content Security Policy" in msg.text else None)
    folder = shots(tmp_path)

    await page.goto(f"{live_server}/admin/privacy?author=klant1")
    assert await page.inner_text("h2:nth-of-type(2)") == heading
    assert await page.get_attribute("html", "lang") == lang
    await _look(page, folder, f"privacy-{lang}")

    await page.goto(f"{live_server}/admin/audit?actor=anna")
    assert await page.inner_text("h1") == trail
    assert await page.locator("table.grid tbody tr").count() == 12  # the week, a note and a promise
    await _look(page, folder, f"audit-{lang}")

    await page.goto(f"{live_server}/admin/privacy?author=klant1")
    await page.click("form.erase button[type=submit]")  # the box is not ticked: the browser refuses
    assert "erased=" not in page.url and await rows_holding(ctx.db, "klant1")
    await page.check("input[name=confirm]")
    await page.click("form.erase button[type=submit]")
    await page.wait_for_url("**/admin/privacy?erased=*")
    assert await page.is_visible(".notice") and "klant1" not in await page.content()
    assert await rows_holding(ctx.db, "klant1") == [] and await rows_holding(ctx.db, "uniek-zinnetje") == []
    await _look(page, folder, f"privacy-erased-{lang}")
    assert complaints == []
