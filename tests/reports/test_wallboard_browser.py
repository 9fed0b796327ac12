"""The wallboard in a real browser: it follows the event stream without a reload."""
from __future__ import annotations

import httpx
import pytest
import pytest_asyncio

from app.core.config import Settings
from app.core.context import AppContext
from app.core.db import Database
from tests.support.app import make_config
from tests.support.browser import assert_accessible, browser, login_page  # noqa: F401  (the browser fixture)
from tests.support.push import mention, push

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]
PASSWORD = "correct-horse-battery"


@pytest_asyncio.fixture
async def ctx(db_url, tmp_path, push_secret):
    """The shared default context on the real clock (pushes are stamped now, not in 2026-10)."""
    context = AppContext(settings=Settings(data_dir=tmp_path), config=make_config(tmp_path),
                         db=Database(db_url), secret_key="x" * 40)
    yield context
    await context.db.dispose()


async def test_wallboard_counts_a_new_mention_live(browser, live_server, ctx):  # noqa: F811
    from tests.support.app import add_user

    await add_user(ctx, "lea", "lead", password=PASSWORD)
    async with httpx.AsyncClient(base_url=live_server) as client:
        await push(client, [mention("late", 70, text="Al dagen geen internet")])
        page = await login_page(browser, live_server, "lea", PASSWORD)
        await page.goto(f"{live_server}/wallboard")
        await page.evaluate("window.__marker = 'same page'")
        await page.wait_for_selector("#stream-status.ok")
        assert await page.get_by_role("heading", level=1, name="Wallboard").count() == 1  # for screen readers
        assert await page.inner_text('[data-wall="open"] .n') == "1"
        assert await page.inner_text('[data-wall="breached"] .n') == "1"
        await push(client, [mention("fresh", 1, text="Factuur klopt niet")])
        await page.wait_for_selector('[data-wall="open"] .n:text-is("2")', timeout=10_000)
        assert await page.inner_text('[data-wall="ok"] .n') == "1"
        assert await page.evaluate("window.__marker") == "same page"
        countdown = await page.inner_text('[data-wall="oldest"] .countdown')
        assert countdown.startswith("-")  # the hour is up: counting past the target


@pytest.mark.parametrize(("width", "height"), [(1280, 720), (1920, 1080), (3840, 2160)])
async def test_the_wallboard_fills_the_screen_without_scrolling(browser, live_server, ctx, tmp_path,  # noqa: F811
                                                               width, height):
    from tests.privacy.test_pages_browser import shots
    from tests.support.app import add_user

    await add_user(ctx, "lea", "lead", password=PASSWORD)
    async with httpx.AsyncClient(base_url=live_server) as client:
        await push(client, [mention("late", 70, text="Al dagen geen internet"), mention("new", 2)])
    page = await login_page(browser, live_server, "lea", PASSWORD)
    await page.set_viewport_size({"width": width, "height": height})
    await page.goto(f"{live_server}/wallboard")
    await page.wait_for_selector("#stream-status.ok")
    sizes = await page.evaluate("""() => ({scroll: document.documentElement.scrollHeight,
        wall: document.querySelector('.wall').getBoundingClientRect().height,
        number: parseFloat(getComputedStyle(document.querySelector('.wall .tile .n')).fontSize)})""")
    assert sizes["scroll"] <= height, sizes                # no scrolling on the TV
    assert sizes["wall"] >= 0.85 * height, sizes           # and no half-empty screen
    assert sizes["number"] >= height / 30, sizes           # figures readable across the room
    await page.screenshot(path=str(shots(tmp_path) / f"wallboard-{width}x{height}.png"))
    await assert_accessible(page)
