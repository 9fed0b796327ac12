"""The dashboard's and the mention page's forms, through the same services as the API."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.core.models import FollowUp
from tests.support.app import add_user, bearer
from tests.support.push import mention, push

pytestmark = pytest.mark.asyncio


async def _queue(app_client, h) -> list[int]:
    return [i["id"] for i in (await app_client.get("/api/queue", headers=h)).json()["items"]]


async def test_bulk_dismiss_form_dismisses_what_it_may_and_leaves_the_rest(app_client, ctx):
    await push(app_client, [mention(f"b{i}", 10 + i) for i in range(3)])
    anna, bob = bearer(await add_user(ctx, "anna")), bearer(await add_user(ctx, "bob"))
    ids = await _queue(app_client, anna)
    await app_client.post(f"/api/mentions/{ids[0]}/claim", headers=bob)
    r = await app_client.post("/dismiss", headers=anna, follow_redirects=False,
                              data={"ids": [str(ids[0]), str(ids[1]), "999999", "junk"], "reason": "spam"})
    assert r.status_code == 303 and r.headers["location"] == "/"
    assert sorted(await _queue(app_client, anna)) == sorted([ids[0], ids[2]])  # bob's claim stays


async def test_follow_up_form_reads_a_time_without_zone_as_team_time(app_client, ctx):
    await push(app_client, [mention("f1", 5)])
    h = bearer(await add_user(ctx, "anna"))
    [mid] = await _queue(app_client, h)
    local = datetime.now(ZoneInfo("Europe/Amsterdam")).replace(second=0, microsecond=0, tzinfo=None)
    due = local.replace(year=local.year + 1)
    r = await app_client.post(f"/mentions/{mid}/follow-up", headers=h, follow_redirects=False,
                              data={"due_at": due.isoformat(timespec="minutes"), "note": "terugbellen"})
    assert r.status_code == 303 and r.headers["location"] == f"/mentions/{mid}"
    async with ctx.db.read() as session:
        [stored] = (await session.exec(select(FollowUp))).scalars().all()
    assert stored.due_at == due.replace(tzinfo=ZoneInfo("Europe/Amsterdam"))
    bad = await app_client.post(f"/mentions/{mid}/follow-up", headers=h, follow_redirects=False,
                                data={"due_at": "volgende week"})
    assert bad.status_code == 303 and bad.headers["location"] == f"/mentions/{mid}"
    assert "not a date and time" in (await app_client.get(f"/mentions/{mid}", headers=h)).text
