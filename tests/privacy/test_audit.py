"""The audit trail page and its CSV export: newest first, filters by actor, action, dates and
mention, pages of 50, and the export of exactly the filtered rows, safe for spreadsheets."""
from __future__ import annotations

import csv
import html
import io
import re
from datetime import timedelta

import pytest

from app.mentions.actions import audit
from app.privacy.audit import PAGE_SIZE
from tests.support.app import add_user, bearer
from tests.support.report_week import build_week, local

pytestmark = pytest.mark.asyncio


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def shown_actions(html: str) -> list[tuple[str, str]]:
    """(who, action) of each row of the trail table, top to bottom."""
    body = html[html.index("<tbody>", html.index("<thead><tr><th>When")):]
    return re.findall(r"<tr>\s*<td>[^<]*</td><td>([^<]*)</td><td>([^<]*)</td>", body[:body.index("</tbody>")])


async def test_filters_narrow_the_page_and_the_csv_alike(app_client, ctx):
    week = await build_week(ctx)
    admin = bearer(await add_user(ctx, "ada", "admin"))
    everything = await app_client.get("/admin/audit", headers=admin)
    assert everything.status_code == 200
    listed = shown_actions(everything.text)
    assert listed[0] == ("anna", "claim") and listed[-1] == ("anna", "reply")  # newest first: m11's claim, m16
    assert len(listed) == 17 and "Entries: 17" in everything.text

    cases = [({"actor": "ben"}, 7, {"ben"}, None),
             ({"action": "dismiss"}, 2, {"anna", "ben"}, {"dismiss"}),
             ({"since": "2026-10-25", "until": "2026-10-25"}, 5, {"anna", "ben"}, None),
             ({"mention_id": str(week.ids["m2"])}, 3, {"ben"}, {"reply", "follow_up", "follow_up_done"})]
    for params, n, actors, actions in cases:
        page = await app_client.get("/admin/audit", params=params, headers=admin)
        exported = rows((await app_client.get("/admin/audit.csv", params=params, headers=admin)).text)
        assert len(shown_actions(page.text)) == len(exported) == n, params
        assert {r["actor"] for r in exported} == actors, params
        if actions:
            assert {r["action"] for r in exported} == actions, params
        assert [(r["actor"], r["action"]) for r in exported] == shown_actions(page.text)
    day = rows((await app_client.get("/admin/audit.csv", params=cases[2][0], headers=admin)).text)
    assert all(r["at_local"].startswith("2026-10-25T") for r in day)  # Vienna days, the team's time
    assert [r["at_utc"] for r in day] == sorted((r["at_utc"] for r in day), reverse=True)


async def test_pages_of_fifty_newest_first(app_client, ctx):
    admin = bearer(await add_user(ctx, "ada", "admin"))
    async with ctx.db.write() as session:
        for i in range(PAGE_SIZE + 7):
            audit(session, "bot", "opener_saved", None, local(20, 8) + timedelta(minutes=i), opener_id=i)
    first = await app_client.get("/admin/audit", params={"actor": "bot"}, headers=admin)
    assert len(shown_actions(first.text)) == PAGE_SIZE and "page 1 of 2" in first.text
    assert '"opener_id": 56' in html.unescape(first.text) and "page=2" in first.text
    second = await app_client.get("/admin/audit", params={"actor": "bot", "page": 2}, headers=admin)
    assert len(shown_actions(second.text)) == 7 and "Newer" in second.text
    assert '"opener_id": 0}' in html.unescape(second.text)
    assert len(rows((await app_client.get("/admin/audit.csv", params={"actor": "bot"}, headers=admin)).text)) == 57


async def test_bad_filters_are_said_plainly(app_client, ctx):
    admin = bearer(await add_user(ctx, "ada", "admin"))
    for params in ({"since": "31-10-2026"}, {"mention_id": "abc"}, {"mention_id": str(10**30)}):
        page = await app_client.get("/admin/audit", params=params, headers=admin)
        assert page.status_code == 422 and 'class="error"' in page.text, params
        assert (await app_client.get("/admin/audit.csv", params=params, headers=admin)).status_code == 422


async def test_the_csv_export_cannot_run_formulas(app_client, ctx):
    admin = bearer(await add_user(ctx, "ada", "admin"))
    async with ctx.db.write() as session:
        audit(session, "=HYPERLINK(\"http://evil\")", "reply_failed", None, local(20, 8), error="a;=1+2")
        audit(session, "\u200b+cmd", "login", None, local(20, 9), client="＠SUM(A1)")
    text = (await app_client.get("/admin/audit.csv", headers=admin)).text
    assert all(line.startswith('"') and line.endswith('"') for line in text.splitlines())  # every field quoted
    exported = rows(text)
    assert exported[1]["actor"] == "'=HYPERLINK(\"http://evil\")" and exported[0]["actor"] == "'\u200b+cmd"
    for delimiter in (",", ";"):
        for row in csv.reader(io.StringIO(text), delimiter=delimiter):
            for cell in row:
                assert not re.match(r'^[\s"\u200b]*[=+\-@＝＋－＠]', cell), (delimiter, cell)
