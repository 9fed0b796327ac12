"""Intake latency per source (posted → stored, p50 and p95 over the last hour) on the sources
API and page; a source whose p95 passes its `intake_warn_seconds` shows amber. Backfill,
outbound posts and posts stored over an hour ago do not count."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.intake.latency import intake_latency, percentile
from app.intake.store import ingest_batch
from connectors.base import NewMention
from tests.support.app import DEFAULT_TOML, Clock, add_user, bearer, make_config

pytestmark = pytest.mark.asyncio
T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def toml(warn: int) -> str:
    return DEFAULT_TOML + ('\n[[sources]]\nname = "masto"\nkind = "mastodon"\nbase_url = "https://social.example"\n'
                           f'hashtags = ["acme"]\nintake_warn_seconds = {warn}\n')


def post(n: int, waited: float, stored_at: datetime, **kw) -> NewMention:
    return NewMention(external_id=f"p{n}", posted_at=stored_at - timedelta(seconds=waited), author=f"a{n}",
                      text="waar is mijn pakket", **kw)


async def store(ctx, *posts_at: tuple[NewMention, datetime], first_poll: bool = False) -> None:
    source = ctx.source_ref(ctx.source("masto"))
    for mention, at in posts_at:
        await ingest_batch(ctx.db, source, [mention], ctx.ingest_context(ctx.source("masto")), now=at,
                           first_poll=first_poll)


async def test_percentiles_are_nearest_rank():
    assert percentile([1.0], 0.95) == 1.0
    assert percentile([float(i) for i in range(1, 101)], 0.5) == 50.0
    assert percentile([float(i) for i in range(1, 101)], 0.95) == 95.0


async def test_latency_counts_new_inbound_posts_of_the_last_hour(ctx, tmp_path):
    ctx.config = make_config(tmp_path, toml(600))
    ctx.clock = Clock(T0)
    await store(ctx, (post(0, 7200, T0 - timedelta(minutes=50)), T0 - timedelta(minutes=50)), first_poll=True)
    recent = [(post(i, waited, T0 - timedelta(minutes=i)), T0 - timedelta(minutes=i))
              for i, waited in enumerate([5, 10, 20, 30, 40, 50, 60, 70, 80, 2000], start=1)]
    await store(ctx, *recent)
    await store(ctx, (post(90, 1, T0 - timedelta(minutes=90)), T0 - timedelta(minutes=90)))  # too long ago
    await store(ctx, (post(91, 3, T0 - timedelta(minutes=5), outbound=True), T0 - timedelta(minutes=5)))
    async with ctx.db.read() as session:
        latency = await intake_latency(session, "masto", T0)
    assert latency.posts == 10  # not the backfill, not the old one, not our own post
    assert latency.p50_seconds == 40 and latency.p95_seconds == 2000


async def test_the_sources_api_and_page_show_latency_and_amber_when_slow(app_client, ctx, tmp_path):
    ctx.clock = Clock(T0)
    ctx.config = make_config(tmp_path, toml(600))
    await store(ctx, *[(post(i, 30 + 100 * i, T0 - timedelta(minutes=i)), T0 - timedelta(minutes=i))
                       for i in range(1, 11)])
    token = await add_user(ctx, "lead", "lead")
    api = (await app_client.get("/api/sources", headers=bearer(token))).json()
    [masto] = [s for s in api["sources"] if s["name"] == "masto"]
    assert masto["intake_posts"] == 10 and masto["intake_p50_seconds"] == 530
    assert masto["intake_p95_seconds"] == 1030 and masto["intake_slow"] is True
    assert masto["stream"] is None  # it does not stream
    page = (await app_client.get("/sources", headers={**bearer(token), "Accept-Language": "nl"})).text
    assert 'class="intake-slow"' in page and "mediaan 8:50" in page and "p95 17:10" in page

    ctx.config = make_config(tmp_path, toml(3600))
    api = (await app_client.get("/api/sources", headers=bearer(token))).json()
    assert [s["intake_slow"] for s in api["sources"] if s["name"] == "masto"] == [False]
