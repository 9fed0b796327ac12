"""Spikes from real mention rows, and answering one with a single public statement."""
from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
import pytest_asyncio
from sqlalchemy import select, update

from app.alerts.spikes.check import check_spikes, window_start
from app.core.models import Mention
from app.intake.scheduler import SourceRunner
from connectors.registry import build_connector
from tests.support.alerting import minutes, sink_toml
from tests.support.app import add_user, bearer
from tests.support.connectors.conformance import served
from tests.support.connectors.fake_mastodon import TOKEN, FakeMastodon

pytestmark = pytest.mark.asyncio


async def with_history(a, category: str, per_week: list[int]) -> None:
    """Mentions in the same quarter-hour of past weeks (same weekday and local time)."""
    for week, count in enumerate(per_week, start=1):
        at = a.clock() - timedelta(weeks=week) - minutes(5)
        for i in range(count):
            await a.ingest(f"{category}-w{week}-{i}", posted_at=at, category=category, author=f"old{i}")


async def now_mentions(a, category: str, count: int, tag: str = "") -> list[int]:
    ids = []
    for i in range(count):
        ids += await a.ingest(f"{category}-now{tag}-{i}", posted_at=a.clock() - minutes(1 + i), category=category,
                              author=f"klant{tag}{i}")
    return ids


async def test_a_spike_against_the_same_slot_of_past_weeks_alerts_once_per_window(alerting):
    a = alerting(sink_toml("chat", "slack", events=["spike"]))
    await with_history(a, "delivery", [1, 2, 1, 1])
    await with_history(a, "billing", [2, 3, 2, 2])
    await now_mentions(a, "delivery", 8)
    await now_mentions(a, "billing", 3)

    [alert] = await check_spikes(a.ctx)
    assert await check_spikes(a.ctx) == []     # the same window: no second alert
    await a.tick(minutes=1, seconds=1)

    assert alert.extra["category"] == "delivery" and alert.extra["count"] == 8
    assert alert.dedupe_key == f"spike:delivery:{window_start(a.clock()):%Y%m%dT%H%MZ}"
    [message] = a.got("chat")
    body = message.body.decode()
    assert message.problems == [] and "Spike: 8 mentions about delivery" in body
    assert "https://webcare.example.org/?category=delivery" in body
    assert len(alert.extra["examples"]) == 3

    a.clock.advance(minutes=15)                # the next window, still spiking
    await now_mentions(a, "delivery", 8, tag="b")
    [again] = await check_spikes(a.ctx)
    assert again.dedupe_key != alert.dedupe_key


async def test_without_history_only_a_large_count_is_a_spike(alerting):
    a = alerting(sink_toml("chat", "slack"))
    await now_mentions(a, "delivery", 8)
    assert await check_spikes(a.ctx) == []     # a fresh install: no weeks to compare with
    await now_mentions(a, "delivery", 2, tag="x")
    [alert] = await check_spikes(a.ctx)
    assert alert.extra["count"] == 10 and alert.extra["expected"] == 0


async def test_backfilled_mentions_are_not_counted(alerting):
    a = alerting(sink_toml("chat", "slack"))
    for i in range(12):
        await a.ingest(f"old{i}", posted_at=a.clock() - minutes(61 + i), first_poll=True, category="delivery")
    a.clock.advance(minutes=5)
    assert await check_spikes(a.ctx) == []


async def test_the_team_answers_a_spike_with_one_statement(alerting, app_client):
    a = alerting(sink_toml("chat", "slack"))
    before = await a.ingest("earlier", posted_at=a.clock() - minutes(40), category="delivery")
    spike_ids = await now_mentions(a, "delivery", 10)
    other = await a.ingest("bill", category="billing")
    await check_spikes(a.ctx)
    lead = bearer(await add_user(a.ctx, "lisa", "lead"))
    responder = bearer(await add_user(a.ctx, "rob", "responder"))
    body = {"category": "delivery", "text": "Er is een storing bij de bezorging; we werken eraan.", "post": True}

    assert (await app_client.post("/api/spikes/statement", json=body, headers=responder)).status_code == 403
    r = await app_client.post("/api/spikes/statement", json=body, headers=lead)

    assert r.status_code == 200
    # The push source cannot post into its channel: each mention is dismissed as covered.
    assert sorted((x["id"], x["result"]) for x in r.json()["results"]) == sorted((i, "covered") for i in spike_ids)
    async with a.ctx.db.read() as session:
        states = dict((await session.exec(select(Mention.id, Mention.dismiss_reason))).all())
    assert {states[i] for i in spike_ids} == {"covered"}
    assert states[before[0]] is None and states[other[0]] is None
    again = await app_client.post("/api/spikes/statement", json=body, headers=lead)
    assert again.json() == {"results": []}


async def test_statement_form_on_the_alerts_page(alerting, app_client):
    a = alerting(sink_toml("chat", "slack"))
    ids = await now_mentions(a, "outage", 10)
    await check_spikes(a.ctx)
    admin = bearer(await add_user(a.ctx, "root", "admin"))
    page = await app_client.get("/alerts", headers=admin)
    assert 'name="category" value="outage"' in page.text

    r = await app_client.post("/alerts/spikes/statement", headers=admin,
                              data={"category": "outage", "text": "Storing opgelost.", "post": "1"})
    assert r.status_code == 303 and r.headers["location"] == "/alerts?answered=0&covered=10&errors=0"
    page = await app_client.get(r.headers["location"], headers=admin)
    assert "0 answered, 10 covered, 0 not handled" in " ".join(page.text.split())
    async with a.ctx.db.read() as session:
        reasons = (await session.exec(select(Mention.dismiss_reason).where(Mention.id.in_(ids)))).scalars().all()
    assert reasons == ["covered"] * 10


@pytest_asyncio.fixture
async def mastodon() -> AsyncIterator[FakeMastodon]:
    async with served(FakeMastodon()) as fake:
        yield fake


async def test_statement_is_posted_where_the_channel_allows_and_covers_the_rest(alerting, app_client, mastodon,
                                                                                 monkeypatch):
    monkeypatch.setenv("TEST_MASTODON_TOKEN", TOKEN)
    a = alerting(sink_toml("chat", "slack"), extra_toml=(
        f'[brand]\nown_accounts = ["acme@social.example"]\n\n'
        f'[[sources]]\nname = "masto"\nkind = "mastodon"\nbase_url = "{mastodon.base_url}"\n'
        f'notifications = true\ntoken_env = "TEST_MASTODON_TOKEN"\n\n'))
    mastodon.clock = a.clock() - timedelta(minutes=30)   # one world, one time: posts are not from the future
    mastodon.mention_brand(mastodon.customers[0], "Mijn pakket is niet bezorgd")
    mastodon.mention_brand(mastodon.customers[1], "Waar blijft mijn pakket? Mijn adres is ...", visibility="direct")
    source = a.ctx.source("masto")
    connector = build_connector(source.connector_settings(a.ctx.config.brand.own_accounts), a.ctx.http())
    assert (await SourceRunner(a.ctx, source, connector).poll_once()).ok
    [pushed] = await a.ingest("p1")
    async with a.ctx.db.write() as session:
        await session.execute(update(Mention).values(category="delivery"))
        ids = dict((await session.exec(select(Mention.visibility, Mention.id).where(Mention.source == "masto"))).all())
    lead = bearer(await add_user(a.ctx, "lisa", "lead"))

    r = await app_client.post("/api/spikes/statement", headers=lead, json={
        "category": "delivery", "since": (a.clock() - timedelta(days=1)).isoformat(), "post": True,
        "text": "Door een storing komen pakketten later aan. Excuses! We laten het hier weten zodra het is opgelost."})

    assert sorted((x["id"], x["result"]) for x in r.json()["results"]) == sorted(
        [(ids["public"], "answered"), (ids["direct"], "covered"), (pushed, "covered")])
    [posted] = mastodon.posts_by(mastodon.brand)
    assert "storing" in posted["content"] and posted["in_reply_to_id"] is not None
