"""Routing inside one ingest batch: a burst is spread over the team as if handed out one at a
time, a post our own reply in the same batch already answered is not handed to anyone, a
rule's priority raises the urgency, and outbound and backfilled posts get no assignee."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from app.core.models import AuditEntry, Mention
from app.intake.store import ingest_batch
from connectors.base import NewMention
from tests.support.app import Clock, add_user, bearer, make_config

pytestmark = pytest.mark.asyncio
TOML = """
[brand]
own_accounts = ["acme"]

[[sources]]
name = "masto"
kind = "rss"
url = "http://127.0.0.1:9/feed"

[[teams]]
name = "billing"
members = ["anna", "bob", "carl"]

[[routing]]
team = "billing"
keywords = ["factuur"]
assign = "round_robin"
priority = 2
"""


async def test_a_burst_is_spread_and_answered_or_old_posts_are_not_handed_out(app_client, ctx, tmp_path):
    ctx.config = make_config(tmp_path, TOML)
    ctx.clock = clock = Clock()
    for name in ("anna", "bob", "carl"):
        await app_client.put("/api/me/availability", json={"availability": "available"},
                             headers=bearer(await add_user(ctx, name)))
    source = ctx.source("masto")
    now = clock()
    batch = [NewMention(external_id=f"f{i}", posted_at=now - timedelta(minutes=1), author=f"klant{i}",
                        text=f"Factuur {i} klopt niet") for i in range(7)]
    batch += [NewMention(external_id="q", posted_at=now - timedelta(minutes=2), author="klant9",
                         text="Mijn factuur is dubbel"),
              NewMention(external_id="our-answer", posted_at=now - timedelta(seconds=30), author="acme",
                         text="Sorry! We kijken naar uw factuur", in_reply_to="q"),
              NewMention(external_id="old", posted_at=now - timedelta(hours=3), author="klant8",
                         text="Oude factuur")]
    await ingest_batch(ctx.db, ctx.source_ref(source), batch, ctx.ingest_context(source), now=now,
                       first_poll=True, backfill_hours=24)
    async with ctx.db.read() as session:
        rows = {m.external_id: m for m in (await session.exec(select(Mention))).all()}
        audits = (await session.exec(select(AuditEntry).where(AuditEntry.action == "auto_assign"))).all()
    handed = [rows[f"f{i}"].assigned_to for i in range(7)]
    assert sorted(handed.count(name) for name in ("anna", "bob", "carl")) == [2, 2, 3]   # spread, not piled
    assert all(rows[f"f{i}"].status == "claimed" and rows[f"f{i}"].claimed_by == handed[i] for i in range(7))
    assert rows["q"].status == "answered" and rows["q"].assigned_to is None and rows["q"].team == "billing"
    assert rows["our-answer"].team is None and rows["our-answer"].assigned_to is None
    assert rows["old"].backfill and rows["old"].assigned_to is None and rows["old"].team == "billing"
    assert "priority" in rows["f0"].urgency_reasons and rows["f0"].urgency >= 2
    assert len(audits) == 7 and {a.detail["team"] for a in audits} == {"billing"}
