"""The retention purge: texts and author data of old mentions go from every table, every SLA
figure of the period stays identical, and a purged post fetched again does not come back."""
from __future__ import annotations

import asyncio
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.core.config import ConfigError
from app.core.models import AlertOutbox, AuditEntry, Erasure, Event, FollowUp, Mention, Note, Reply
from app.intake.store import ingest_batch
from app.intake.worker import Worker
from app.privacy.pseudonym import erasure_key, is_erased
from app.privacy.retention import purge_expired
from app.reports import parse_period
from connectors.base import NewMention
from tests.support.app import DEFAULT_TOML, make_config
from tests.support.privacy import all_reports, copy_around, rows_holding
from tests.support.report_week import ANNA, NOW, SINCE, UNTIL, build_week, local

# Posted before Tuesday 27 October 12:00 (NOW − 1 day): everything but m10 and m11.
PURGED = ["m16", "m17", "m13", "m1", "m2", "m3", "m14", "m8", "m4", "m5", "m6", "m7", "m9", "m12"]
KEPT = ["m10", "m11"]
GONE_AUTHORS = [f"klant{i}" for i in range(1, 8)]  # klant8 and klant9 also wrote m10 and m11


async def _planted_week(ctx):
    week = await build_week(ctx)
    await copy_around(ctx, week.ids["m4"], ANNA, local(24, 9, 10), "geheimzinnig-4")
    await copy_around(ctx, week.ids["m10"], ANNA, local(27, 14, 10), "blijft-staan-10")
    return week


async def _purge(ctx, **kw):
    return await purge_expired(ctx.db, erasure_key(ctx.secret_key), 1, NOW, **kw)


@pytest.mark.asyncio
async def test_purge_keeps_every_figure_and_removes_the_personal_data_everywhere(ctx):
    week = await _planted_week(ctx)
    period = parse_period(SINCE, UNTIL, ctx.config.sla.timezone, NOW)
    before = await all_reports(ctx.db, period, NOW)
    for needle in (*GONE_AUTHORS, "geheimzinnig-4", "zoeken het uit"):
        assert await rows_holding(ctx.db, needle), f"the fixture should hold {needle!r}"

    counts = await _purge(ctx, batch=4)  # several batches

    assert counts.mentions == len(PURGED) and counts.notes == 1 and counts.follow_ups == 4
    assert await all_reports(ctx.db, period, NOW) == before
    for needle in (*GONE_AUTHORS, "geheimzinnig-4", "zoeken het uit"):
        assert await rows_holding(ctx.db, needle) == [], needle
    for key in PURGED:  # as a whole external id, in the mentions and in every JSON copy
        assert await rows_holding(ctx.db, f'"{key}"') == [], key
    async with ctx.db.read() as s:
        rows = {m.id: m for m in (await s.exec(select(Mention))).scalars()}
        texts = list((await s.exec(select(Reply.text))).scalars())
        outbox = (await s.exec(select(AlertOutbox).order_by(AlertOutbox.id))).scalars().all()
    for key in PURGED:
        m = rows[week.ids[key]]
        assert (m.text, m.author, m.author_name, m.url, m.raw) == ("", "", None, None, None) and m.purged_at
        assert is_erased(m.external_id) and re.fullmatch(r"erased:[0-9a-f]{64}", m.external_id)
    for key in KEPT:
        m = rows[week.ids[key]]
        assert m.text.endswith(f"post {key}") and m.author.startswith("klant") and m.purged_at is None
    assert set(texts) == {""}
    # What stays is exactly what a figure needs.
    m2 = rows[week.ids["m2"]]
    assert (m2.status, m2.answered_by, m2.first_response_seconds, m2.within_target, m2.category,
            m2.language, m2.channel) == ("answered", "ben", 4200, False, "billing", "en", "bluesky")
    assert "blijft-staan-10" in str([o.payload for o in outbox])  # m10's own alerts are untouched
    assert sorted(await rows_holding(ctx.db, "klant8")) == ["alert_outbox.payload (3)", "mentions.author (1)"]


@pytest.mark.asyncio
async def test_a_second_run_and_a_concurrent_run_change_nothing_more(ctx):
    await _planted_week(ctx)
    first, second = await asyncio.gather(_purge(ctx, batch=3), _purge(ctx, batch=3))
    assert first.mentions + second.mentions == len(PURGED)
    assert (await _purge(ctx)).items == 0
    async with ctx.db.read() as s:
        recorded = (await s.exec(select(Erasure))).scalars().all()
        trail = (await s.exec(select(AuditEntry).where(AuditEntry.action == "privacy_retention"))).scalars().all()
    assert {e.kind for e in recorded} == {"retention"} and sum(e.counts["mentions"] for e in recorded) == len(PURGED)
    assert {e.actor for e in recorded} == {"system"} and len(trail) == len(recorded)


@pytest.mark.asyncio
async def test_a_purged_post_fetched_again_is_not_stored_again(ctx):
    await _planted_week(ctx)
    period = parse_period(SINCE, UNTIL, ctx.config.sla.timezone, NOW)
    await _purge(ctx)
    before = await all_reports(ctx.db, period, NOW)
    source = ctx.source("masto")
    again = NewMention(external_id="m4", posted_at=local(24, 9), author="klant3", channel="mastodon",
                       text="outage: post m4")
    new = NewMention(external_id="m99", posted_at=NOW - timedelta(minutes=5), author="klant3",
                     channel="mastodon", text="outage: nog steeds")
    result = await ingest_batch(ctx.db, ctx.source_ref(source), [again], ctx.ingest_context(source), now=NOW)
    assert (result.accepted, result.duplicates) == (0, 1)
    assert await all_reports(ctx.db, period, NOW) == before
    assert await rows_holding(ctx.db, "post m4") == []
    result = await ingest_batch(ctx.db, ctx.source_ref(source), [again, new], ctx.ingest_context(source), now=NOW)
    assert (result.accepted, result.duplicates) == (1, 1)  # the check holds back only what was purged


@pytest.mark.asyncio
async def test_related_rows_of_kept_mentions_stay_whole(ctx):
    week = await _planted_week(ctx)
    await _purge(ctx)
    async with ctx.db.read() as s:
        notes = (await s.exec(select(Note.text).where(Note.mention_id == week.ids["m10"]))).scalars().all()
        follow_ups = (await s.exec(select(FollowUp.note).where(FollowUp.mention_id == week.ids["m10"]))).scalars().all()
        events = (await s.exec(select(func.count()).select_from(Event)
                               .where(Event.mention_id == week.ids["m10"]))).scalar_one()
    assert notes == ["Belde ook al: blijft-staan-10"] and follow_ups == ["terugbellen over blijft-staan-10"]
    assert events > 0 and await rows_holding(ctx.db, '"m10"')


@pytest.mark.asyncio
async def test_the_worker_purges_at_start_up(ctx, tmp_path):
    ctx.config = make_config(tmp_path, DEFAULT_TOML + "\n[privacy]\nretention_days = 1\n")
    source = ctx.source("push")
    old = NewMention(external_id="old-1", posted_at=ctx.now() - timedelta(days=3), author="oud", text="oud bericht")
    await ingest_batch(ctx.db, ctx.source_ref(source), [old], ctx.ingest_context(source))
    worker = Worker(ctx)
    await worker.start()
    try:
        for _ in range(100):
            if not await rows_holding(ctx.db, "oud bericht"):
                break
            await asyncio.sleep(0.1)
    finally:
        await worker.stop()
    assert await rows_holding(ctx.db, "oud bericht") == []


@pytest.mark.parametrize(("value", "ok"), [("180", True), ("1", True), ("0", False), ("-5", False), ('"x"', False)])
def test_retention_days_is_a_positive_number_of_days(tmp_path, value, ok):
    toml = f"[privacy]\nretention_days = {value}\n"
    if ok:
        assert make_config(tmp_path, toml).privacy.retention_days == int(value)
    else:
        with pytest.raises(ConfigError, match=r"\[privacy\]\.retention_days"):
            make_config(tmp_path, toml)
    with pytest.raises(ConfigError, match="unknown key"):
        make_config(tmp_path, "[privacy]\nretention_day = 3\n")
