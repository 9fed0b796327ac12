"""Chromium (Debian's) driven by Playwright, logged in to a live server, and an accessibility
check with axe-core (bundled by the `axe-playwright-python` package)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest_asyncio

from tests.support.app import need_or_skip

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest_asyncio.fixture
async def browser():
    if not os.path.exists(CHROMIUM):
        need_or_skip(f"browser tests need Debian's chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        instance = await pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield instance
        await instance.close()


async def login_page(browser, base_url: str, username: str, password: str, locale: str = "en-GB"):
    context = await browser.new_context(locale=locale)
    page = await context.new_page()
    await page.goto(f"{base_url}/")
    assert "/login" in page.url
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", password)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{base_url}/")
    return page


def screenshot_dir(tmp_path: Path) -> Path:
    """Where screenshots go: $WEBCARE_SCREENSHOT_DIR when set (to look at them), else the
    test's temporary folder."""
    folder = Path(os.environ.get("WEBCARE_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


BLOCKING_IMPACTS = ("serious", "critical")


async def assert_accessible(page) -> None:
    """axe-core on the page as it is now: no violation of impact serious or critical."""
    from axe_playwright_python.async_playwright import Axe

    results = await Axe().run(page)
    blocking = [v for v in results.response["violations"] if v.get("impact") in BLOCKING_IMPACTS]
    report = "\n".join(f"{v['id']} ({v['impact']}): {v['help']} -> "
                       f"{[n['target'] for n in v['nodes']][:5]}" for v in blocking)
    assert not blocking, f"{page.url}: accessibility violations\n{report}"
