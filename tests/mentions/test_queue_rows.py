"""/partials/queue/rows: what a live dashboard fetches after some mentions changed instead of the
whole list — their rows (those on the first page, drawn exactly as the full list draws them),
the first page's order and the counts. The browser side is tests/mentions/test_live_rows_browser.py."""
from __future__ import annotations

import re

import pytest

from app.core.bounds import INT4_MAX
from app.mentions import dashboard
from tests.mentions.test_views import _rows, _tabs
from tests.support.app import add_user, bearer
from tests.support.push import mention, push

pytestmark = pytest.mark.asyncio


def _page(html: str) -> list[int]:
    found = re.search(r'<div id="queue-update" data-page="([\d,]*)"', html).group(1)
    return [int(i) for i in found.split(",")] if found else []


def _row_html(html: str, mention_id: int) -> str:
    return re.search(rf'<li class="mention[^"]*" id="mention-{mention_id}".*?</li>', html, re.S).group(0)


def _fresh_counts(html: str) -> dict[str, int]:
    return {k: int(n) for k, n in re.findall(r'<span data-tab="(\w+)">(\d+)</span>', html)}


async def _queue(app_client, ctx, n: int = 4):
    await push(app_client, [mention(f"m{i}", 50 - 10 * i, text=f"Bericht {i}") for i in range(n)])
    anna = bearer(await add_user(ctx, "anna"))
    ids = [i["id"] for i in (await app_client.get("/api/queue", headers=anna)).json()["items"]]
    return anna, ids


async def test_the_changed_rows_come_as_the_full_list_draws_them_with_order_and_counts(app_client, ctx):
    anna, ids = await _queue(app_client, ctx)
    await app_client.post(f"/api/mentions/{ids[1]}/claim", headers=anna)
    full = (await app_client.get("/partials/queue", headers=anna)).text
    update = (await app_client.get(f"/partials/queue/rows?ids={ids[1]}&ids={ids[3]}", headers=anna)).text
    assert _page(update) == _rows(full) == ids
    assert sorted(_rows(update)) == sorted([ids[1], ids[3]])  # just the rows asked for
    for i in (ids[1], ids[3]):
        # The same markup, the countdown aside (a second may pass between the two requests).
        same = re.compile(r'data-seconds-left="[^"]*"|>-?[\d:]+</span>')
        assert same.sub("", _row_html(update, i)) == same.sub("", _row_html(full, i))
    assert "claimed by" in _row_html(update, ids[1]) and f'data-id="{ids[1]}"' in update
    assert _fresh_counts(update) == _fresh_counts(full) == {"mine": 1, "unassigned": 3, "open": 4,
                                                            "follow_ups": 0, "answered_today": 0}
    assert re.search(r'data-count="open">4<', update)
    assert "Showing the most urgent" not in update


async def test_a_row_that_left_the_view_is_not_sent_and_the_page_says_so(app_client, ctx):
    anna, ids = await _queue(app_client, ctx)
    await app_client.post(f"/api/mentions/{ids[0]}/reply", headers=anna, json={"text": "Opgelost!"})
    await app_client.post(f"/api/mentions/{ids[2]}/claim", headers=anna)
    update = (await app_client.get(f"/partials/queue/rows?ids={ids[0]}", headers=anna)).text
    assert _rows(update) == [] and _page(update) == [ids[1], ids[2], ids[3]]
    assert _fresh_counts(update)["answered_today"] == 1
    # The same view rules as the full list: "mine" holds only what anna has.
    mine = (await app_client.get(f"/partials/queue/rows?view=mine&ids={ids[2]}&ids={ids[3]}", headers=anna)).text
    assert _rows(mine) == [ids[2]] and _page(mine) == [ids[2]]
    # Filters too, and the split view marks the mention open beside the list.
    split = (await app_client.get(f"/partials/queue/rows?m={ids[3]}&ids={ids[3]}", headers=anna)).text
    assert "open-in-pane" in _row_html(split, ids[3])
    none = (await app_client.get(f"/partials/queue/rows?q=nergens&ids={ids[3]}", headers=anna)).text
    assert _rows(none) == [] and _page(none) == []


async def test_only_the_first_page_is_live_and_the_more_line_counts_the_rest(app_client, ctx, monkeypatch):
    monkeypatch.setattr(dashboard, "PAGE_SIZE", 3)
    anna, ids = await _queue(app_client, ctx, n=5)
    full = (await app_client.get("/partials/queue", headers=anna)).text
    update = (await app_client.get(f"/partials/queue/rows?ids={ids[2]}&ids={ids[4]}", headers=anna)).text
    assert _page(update) == _rows(full) == ids[:3]
    assert _rows(update) == [ids[2]]  # the fifth is past the first page: the browser does not show it
    assert "Showing the most urgent 3 / 5" in update and "Showing the most urgent 3 / 5" in full


async def test_ids_are_required_bounded_and_few(app_client, ctx):
    anna, _ = await _queue(app_client, ctx, n=1)
    assert (await app_client.get("/partials/queue/rows", headers=anna)).status_code == 422
    for bad in ("0", str(INT4_MAX + 1), "abc"):
        assert (await app_client.get(f"/partials/queue/rows?ids={bad}", headers=anna)).status_code == 422
    many = "&".join(f"ids={i}" for i in range(1, dashboard.ROWS_PER_UPDATE + 2))
    assert (await app_client.get(f"/partials/queue/rows?{many}", headers=anna)).status_code == 422
    enough = "&".join(f"ids={i}" for i in range(1, dashboard.ROWS_PER_UPDATE + 1))
    assert (await app_client.get(f"/partials/queue/rows?{enough}", headers=anna)).status_code == 200


async def test_the_tabs_of_the_full_page_match_the_rows_update(app_client, ctx):
    anna, ids = await _queue(app_client, ctx, n=2)
    page = (await app_client.get("/", headers=anna)).text
    update = (await app_client.get(f"/partials/queue/rows?ids={ids[0]}", headers=anna)).text
    assert list(_tabs(page).values()) == list(_fresh_counts(update).values())


async def test_a_page_read_as_plain_rows_says_what_each_mention_read_whole_says(app_client, ctx):
    """The queue loads a page as plain rows with one clock (app/mentions/queries.py); the API
    item must be what `mention_view` makes of the whole Mention, claims and SLA states alike."""
    from datetime import timedelta

    from app.core.models import Mention
    from app.mentions.queries import QueueFilters, list_queue, mention_view

    anna, ids = await _queue(app_client, ctx)
    await app_client.post(f"/api/mentions/{ids[0]}/claim", headers=anna)
    await app_client.post(f"/api/mentions/{ids[1]}/claim", headers=anna)
    async with ctx.db.write() as session:  # one claim ran out: the queue shows it open again
        held = await session.get(Mention, ids[1])
        held.claim_expires_at = ctx.now() - timedelta(minutes=1)
    now = ctx.now()
    async with ctx.db.read() as session:
        page = await list_queue(session, QueueFilters(), now, ctx.policy, limit=10)
        whole = [mention_view(await session.get(Mention, i), now, ctx.policy) for i in ids]
    assert page["items"] == whole
    assert [i["status"] for i in whole] == ["claimed", "open", "open", "open"]
    assert [i["sla_state"] for i in whole] == ["warning", "ok", "ok", "ok"]
