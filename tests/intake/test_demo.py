"""The demo looks like a working team: run with a fast clock, mentions keep arriving, the
simulated colleagues claim and answer some, the open count stays bounded, every invented
person keeps one handle on one channel, and "Send reply" on the demo's own channel posts
for real (once, however often it is retried) and shows in the conversation."""
from __future__ import annotations

import random
from collections import defaultdict
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import col, select

from app.core.config import SourceConfig
from app.core.models import Mention, Reply, utcnow
from app.core.sources import DEMO
from app.intake.demo import DemoFeed, _library
from app.intake.demo_channel import DEMO_CHANNEL, DemoChannel
from app.intake.demo_team import OPEN_TARGET, colleagues, make_colleagues, team_step
from app.intake.store import ingest_batch
from app.mentions.queries import waiting_inbound
from connectors.base import ReplyRequest
from tests.support.app import add_user, bearer

pytestmark = pytest.mark.asyncio


def _demo_ctx(ctx):
    source = SourceConfig(name="demo", kind=DEMO)
    ctx.extra_sources.append(source)
    return source


async def _waiting(ctx) -> int:
    async with ctx.db.read() as session:
        return (await session.exec(select(func.count()).select_from(Mention).where(waiting_inbound()))).one()


async def test_a_long_demo_run_stays_bounded_and_the_colleagues_answer(ctx):
    source = _demo_ctx(ctx)
    now = [utcnow()]
    ctx.clock = lambda: now[0]
    rng = random.Random(7)
    feed, ref, ingest = DemoFeed(brand="Acme", rng=rng), ctx.source_ref(source), ctx.ingest_context(source)
    await ingest_batch(ctx.db, ref, feed.backlog(now[0]), ingest, now=now[0])
    await make_colleagues(ctx)
    team = await colleagues(ctx)
    assert [p.username for p in team] == ["sam", "noor"]
    highest, answered = 0, []
    async with httpx.AsyncClient() as http:
        for seq in range(10, 250):  # 40 minutes of demo, a new mention every 10 s
            now[0] += timedelta(seconds=10)
            await ingest_batch(ctx.db, ref, [feed.next(seq, now[0])], ingest, now=now[0])
            answered += (await team_step(ctx, team, ["demo"], http, rng)).answered
            highest = max(highest, await _waiting(ctx))
    # Bounded: what waits unclaimed, plus what the two colleagues are writing.
    print(f"demo run: at most {highest} open, {len(answered)} answered by colleagues")
    assert highest <= OPEN_TARGET + 2 * 3 + 1, highest
    assert len(answered) > 150
    async with ctx.db.read() as session:
        rows = list(await session.exec(select(Mention).where(col(Mention.id).in_(answered))))
        assert {m.answered_by for m in rows} == {"sam", "noor"} and {m.status for m in rows} == {"answered"}
        posted = list(await session.exec(select(Reply).where(col(Reply.state) == "posted")))
        on_demo = [m.id for m in rows if m.channel == DEMO_CHANNEL]
        assert on_demo and {r.mention_id for r in posted} == set(on_demo)  # only the demo's own channel posts
        outbound = list(await session.exec(select(Mention).where(col(Mention.direction) == "outbound")))
        assert len(outbound) == len(on_demo) and all(o.channel == DEMO_CHANNEL for o in outbound)
        channels = defaultdict(set)
        for m in await session.exec(select(Mention).where(col(Mention.direction) == "inbound")):
            channels[m.author].add(m.channel)
    assert len(channels) >= 10 and all(len(c) == 1 for c in channels.values()), channels


async def test_send_reply_on_the_demo_channel_posts_once_into_the_conversation(app_client, ctx):
    source = _demo_ctx(ctx)
    feed = DemoFeed(brand="Acme", rng=random.Random(1))
    lisa = next(m for seq in range(200) if (m := feed.next(seq, utcnow())).channel == DEMO_CHANNEL)
    await ingest_batch(ctx.db, ctx.source_ref(source), [lisa], ctx.ingest_context(source))
    anna = bearer(await add_user(ctx, "anna"))
    [item] = (await app_client.get("/api/queue", headers=anna)).json()["items"]
    page = (await app_client.get(f"/mentions/{item['id']}", headers=anna)).text
    assert "Send reply" in page and "Demo channel" in page
    sent = await app_client.post(f"/api/mentions/{item['id']}/reply", headers=anna,
                                 json={"text": "Wat vervelend! Ik kijk het direct na. ^AN", "post": True})
    assert sent.status_code == 200 and sent.json()["posted"]["id"].startswith("demo-reply-")
    detail = (await app_client.get(f"/api/mentions/{item['id']}", headers=anna)).json()
    assert [(p["direction"], p["text"]) for p in detail["conversation"]][-1] == \
        ("outbound", "Wat vervelend! Ik kijk het direct na. ^AN")
    assert [r["state"] for r in detail["replies"]] == ["posted"]
    # A retry with the same key (a lost answer) finds the post made the first time.
    async with ctx.db.read() as session:
        reply = (await session.exec(select(Reply))).one()
    channel = DemoChannel(ctx.db, "demo", "Acme")
    again = await channel.reply(ReplyRequest(in_reply_to=lisa.external_id, text="x",
                                             idempotency_key=reply.idempotency_key or ""))
    assert again.external_id == sent.json()["posted"]["id"]
    async with ctx.db.read() as session:
        assert (await session.exec(select(func.count()).select_from(Mention)
                                   .where(col(Mention.direction) == "outbound"))).one() == 1
    # The demo's other channels are pretend: recorded, never "posted".
    assert await _page_button(app_client, anna, ctx, source, feed) == "Record reply"


async def _page_button(app_client, h, ctx, source, feed) -> str:
    other = next(m for seq in range(300, 500) if (m := feed.next(seq, utcnow())).channel == "mastodon")
    await ingest_batch(ctx.db, ctx.source_ref(source), [other], ctx.ingest_context(source))
    [item] = (await app_client.get("/api/queue", headers=h)).json()["items"]
    page = (await app_client.get(f"/mentions/{item['id']}", headers=h)).text
    return "Send reply" if "Send reply" in page else "Record reply"


async def test_everyone_in_the_demo_posts_once_a_round_so_no_one_fills_the_screen():
    feed, now = DemoFeed(brand="Acme", rng=random.Random(7)), utcnow()
    people = len({a["handle"] for a in _library()["author"]})
    first = [feed.next(i, now).author for i in range(people)]
    second = [feed.next(people + i, now).author for i in range(people)]
    assert len(set(first)) == people == len(set(second))
    assert set(first) == set(second) and first != second  # the same people come back, in another order
