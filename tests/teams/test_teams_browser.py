"""Teams in a real browser: a responder's team tab with the mention routed and handed to them,
the header's available/away switch by keyboard, and a lead making a team, a member and a rule
on /admin/teams; axe-clean and no wider than the screen at 1440 and 360 px."""
from __future__ import annotations

import httpx
import pytest
import pytest_asyncio

from app.core.config import Settings
from app.core.context import AppContext
from app.core.db import Database
from tests.support.app import DEFAULT_TOML, add_user, make_config
from tests.support.browser import browser, login_page, look, shots  # noqa: F401  (the browser fixture)
from tests.support.push import mention, push

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]
PASSWORD = "correct-horse-battery"
TOML = DEFAULT_TOML + """
[[teams]]
name = "billing"
members = ["anna", "bob"]

[[teams]]
name = "general"
default = true

[[routing]]
team = "billing"
keywords = ["factuur"]
assign = "round_robin"
"""


@pytest_asyncio.fixture
async def ctx(db_url, tmp_path, push_secret):
    """On the real clock: pushes are stamped now."""
    context = AppContext(settings=Settings(data_dir=tmp_path), config=make_config(tmp_path, TOML),
                         db=Database(db_url), secret_key="x" * 40)
    yield context
    await context.db.dispose()


async def test_a_responder_finds_the_routed_mention_in_their_team_tab_and_steps_away(browser, live_server, ctx,  # noqa: F811
                                                                                    tmp_path):
    await add_user(ctx, "anna", password=PASSWORD)
    await add_user(ctx, "bob", password=PASSWORD)   # never signed in: not available
    page = await login_page(browser, live_server, "anna", PASSWORD)   # signing in: available
    async with httpx.AsyncClient(base_url=live_server) as client:
        assert (await push(client, [mention("f1", 2, text="Mijn factuur is te hoog"),
                                    mention("g1", 2, text="Waar blijft mijn pakket?")])).status_code == 202
    await page.goto(f"{live_server}/")
    tab = page.locator('nav.tabs a[href*="view=team%3Abilling"]')
    assert await tab.inner_text() == "billing 1"
    assert await page.locator('nav.tabs a[href*="view=team%3Ageneral"]').count() == 0   # not her team
    await tab.click()
    await page.wait_for_url("**/?view=team%3Abilling*")
    await page.wait_for_selector(".mention .tag.team")
    rows = page.locator(".queue .mention, ul .mention")
    assert await rows.count() == 1
    assert "Mijn factuur is te hoog" in await rows.first.inner_text()
    assert "claimed by anna" in await rows.first.inner_text()
    await look(page, shots(tmp_path), "team-tab")

    switch = page.locator(".availability-switch button")
    assert await switch.inner_text() == "available"
    await switch.focus()
    await page.keyboard.press("Enter")
    await page.wait_for_selector(".availability-switch .availability.away")
    async with httpx.AsyncClient(base_url=live_server) as client:   # away: nobody can take it
        await push(client, [mention("f2", 1, text="Factuur dubbel")])
    await page.goto(f"{live_server}/?view=team%3Abilling")
    assert await page.locator('nav.tabs a[href*="view=team%3Abilling"] .count').inner_text() == "2"
    assert await page.locator(".mention .tag.claimed").count() == 1   # the new one waits unassigned


async def test_a_lead_adds_a_team_a_member_and_a_rule(browser, live_server, ctx, tmp_path):  # noqa: F811
    await add_user(ctx, "lea", "lead", password=PASSWORD)
    await add_user(ctx, "anna", password=PASSWORD)
    page = await login_page(browser, live_server, "lea", PASSWORD, locale="nl-NL")
    await page.goto(f"{live_server}/admin/teams")
    await page.fill("input[name=name]", "press")
    await page.click("text=Team toevoegen")
    press = page.locator("section.team-card", has_text="press")
    await press.locator("input[name=username]").fill("anna")
    await press.locator("button", has_text="Lid toevoegen").click()
    await page.wait_for_selector("section.team-card:has-text('press') .members li")
    assert "anna" in await page.locator("section.team-card", has_text="press").locator(".members").inner_text()

    form = page.locator("form.rule-form")
    await form.locator("select[name=team]").select_option("press")
    await form.locator("input[name=keywords]").fill("journalist, pers")
    await form.locator("input[name=assign]").fill("round_robin")
    await form.locator("button[type=submit]").click()
    rule = page.locator("table.grid tbody tr").last
    await rule.wait_for()
    assert "journalist, pers" in await rule.inner_text() and "om de beurt" in await rule.inner_text()
    file_rule = page.locator("table.grid tbody tr").first   # the file's rule stays, without a delete button
    assert await file_rule.locator("button").count() == 0
    await look(page, shots(tmp_path), "admin-teams")

    async with httpx.AsyncClient(base_url=live_server) as client:   # the UI's rule routes the next push
        await push(client, [mention("p1", 1, text="Vraag van een journalist")])
        token = await add_user(ctx, "robot", "lead")
        queue = (await client.get("/api/queue?team=press", headers={"Authorization": f"Bearer {token}"})).json()
    assert [i["external_id"] for i in queue["items"]] == ["p1"]
    await page.goto(f"{live_server}/reports")
    assert "press" in await page.locator("#per-team").inner_text()
    await look(page, shots(tmp_path), "reports-per-team")
    await page.goto(f"{live_server}/admin/teams")

    await rule.locator("button", has_text="Verwijderen").click()
    await page.wait_for_selector("text=Regel toevoegen")
    assert await page.locator("table.grid tbody tr").count() == 1
