"""The top bar in a real Chromium, in English and Dutch: one row on a 1440 px laptop even for an
admin (the pages visited now and then sit under one Manage menu), the menu worked by keyboard
(Enter opens, Escape closes and gives the focus back), axe-clean open, and nothing wider than a
360 px phone."""
from __future__ import annotations

import pytest

from tests.support.app import add_user
from tests.support.browser import assert_accessible, browser, login_page  # noqa: F401  (the browser fixture)

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]
PASSWORD = "correct-horse-battery"
MENU = {"en-GB": ("Manage", "Audit trail"), "nl-NL": ("Beheer", "Auditlogboek")}


@pytest.mark.parametrize("locale", sorted(MENU))
async def test_the_top_bar_is_one_row_and_its_menu_works_by_keyboard(browser, live_server, ctx, locale):  # noqa: F811
    menu_name, audit_link = MENU[locale]
    await add_user(ctx, "ada", "admin", password=PASSWORD)
    page = await login_page(browser, live_server, "ada", PASSWORD, locale=locale)
    await page.set_viewport_size({"width": 1440, "height": 900})
    bar = page.locator("header.topbar")
    logo_top = await page.locator(".topbar .logo").evaluate("e => e.getBoundingClientRect().top")
    logout_top = await page.locator("form[action='/logout']").evaluate("e => e.getBoundingClientRect().top")
    assert abs(logout_top - logo_top) < 20, "the top bar broke into two rows"

    menu = page.locator("details.menu")
    audit = page.get_by_role("link", name=audit_link)
    assert not await audit.is_visible()
    await page.locator("details.menu > summary").focus()
    assert await page.locator("details.menu > summary").inner_text() == menu_name
    await page.keyboard.press("Enter")
    await audit.wait_for(state="visible")
    await assert_accessible(page)
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.closest('details.menu') !== null")
    await page.keyboard.press("Escape")
    assert not await menu.evaluate("e => e.open")
    assert await page.evaluate("document.activeElement.tagName") == "SUMMARY"
    await page.keyboard.press("Enter")
    await page.locator("main").click(position={"x": 5, "y": 5})     # a click elsewhere closes it
    assert not await menu.evaluate("e => e.open")

    await page.set_viewport_size({"width": 360, "height": 800})
    assert await page.evaluate("document.documentElement.scrollWidth") <= 360
    await page.locator("details.menu > summary").click()
    await audit.click()
    await page.wait_for_url(f"{live_server}/admin/audit")
    assert await bar.is_visible()
