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


BLOCKING_IMPACTS = ("serious", "critical")


async def assert_accessible(page) -> None:
    """axe-core on the page as it is now: no violation of impact serious or critical."""
    from axe_playwright_python.async_playwright import Axe

    results = await Axe().run(page)
    blocking = [v for v in results.response["violations"] if v.get("impact") in BLOCKING_IMPACTS]
    report = "\n".join(f"{v['id']} ({v['impact']}): {v['help']} -> "
                       f"{[n['target'] for n in v['nodes']][:5]}" for v in blocking)
    assert not blocking, f"{page.url}: accessibility violations\n{report}"
    # axe no longer reports repeated ids, but a script that finds the wrong element by its id
    # writes into the wrong place (the reply-draft save once cleared the AI draft's message).
    repeated = await page.evaluate("""() => {
        const seen = new Set(), twice = new Set();
        document.querySelectorAll('[id]').forEach(e => (seen.has(e.id) ? twice : seen).add(e.id));
        return [...twice];
    }""")
    assert not repeated, f"{page.url}: ids used more than once: {repeated}"


WIDTHS = (1440, 360)


def shots(tmp_path: Path) -> Path:
    """Where screenshots go: $WEBCARE_SCREENSHOT_DIR when set (to look at them), else the
    test's temporary folder."""
    folder = Path(os.environ.get("WEBCARE_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


async def look(page, folder: Path, name: str) -> None:
    """Accessible at every width, with nothing wider than the screen; a screenshot of each."""
    for width in WIDTHS:
        await page.set_viewport_size({"width": width, "height": 900})
        await assert_accessible(page)
        overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if overflow > 0:
            culprits = await page.evaluate("""() => [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('.table-scroll'))
                .slice(0, 5).map(e => e.tagName + '.' + e.className)""")
        assert overflow <= 0, f"{name} at {width}px is {overflow}px wider than the screen: {culprits}"
        await page.screenshot(path=str(folder / f"{name}-{width}.png"), full_page=True)
