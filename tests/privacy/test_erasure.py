"""Erasure by person and the access export, on SQLite and PostgreSQL: one person's data goes
from every text and JSON column of every table, their figures stay, the record says only how
many items; the export before it held everything about them."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.core.models import AuditEntry, Erasure, Mention
from app.intake.store import ingest_batch
from app.privacy.erasure import Person, preview
from app.privacy.pseudonym import erased_id, erasure_key
from app.privacy.service import erase_person, export_for
from app.reports import parse_period
from connectors.base import NewMention
from tests.support.privacy import all_reports, copy_around, rows_holding
from tests.support.report_week import ANNA, NOW, SINCE, UNTIL, build_week, local

pytestmark = pytest.mark.asyncio
PHRASE = "uniek-zinnetje-1"  # only in notes and promises about klant1's posts
THEIRS = ("m1", "m3", "m12")  # klant1's posts in the fixture week


async def _week_with_klant1_everywhere(ctx):
    week = await build_week(ctx)
    await copy_around(ctx, week.ids["m1"], ANNA, local(22, 9, 10), PHRASE)
    await copy_around(ctx, week.ids["m4"], ANNA, local(24, 9, 10), "andere-klant-3")
    masto = ctx.source("masto")
    ours = NewMention(external_id="acme-r1", posted_at=local(23, 10, 50), author="acme", channel="mastodon",
                      outbound=True, in_reply_to="m3", text="@klant1 wat vervelend, we zoeken het uit")
    other = NewMention(external_id="k6-r1", posted_at=local(23, 11), author="klant6", channel="mastodon",
                       in_reply_to="m3", text="question: heb ik ook, klant1!")
    await ingest_batch(ctx.db, ctx.source_ref(masto), [ours, other], ctx.ingest_context(masto), now=local(23, 11, 1))
    return week


async def test_erasure_removes_one_person_everywhere_and_keeps_every_figure(ctx):
    week = await _week_with_klant1_everywhere(ctx)
    period = parse_period(SINCE, UNTIL, ctx.config.sla.timezone, NOW)
    before = await all_reports(ctx.db, period, NOW)
    assert await rows_holding(ctx.db, "klant1") and await rows_holding(ctx.db, PHRASE)
    found = await preview(ctx.db, Person("@Klant1"))
    assert found.as_dict() == {"mentions": 4, "replies": 3, "notes": 1, "follow_ups": 2, "events": 9, "alerts": 3,
                               "audit": 6, "identities": 0}

    counts = await erase_person(ctx, Person("@Klant1"), "lea")

    assert counts == found  # what the admin was shown is what went
    assert await all_reports(ctx.db, period, NOW) == before
    # klant6 wrote "klant1" in their own post: that is klant6's data, not erased.
    assert await rows_holding(ctx.db, "klant1") == ["mentions.text (1)"]
    for needle in (PHRASE, "@klant1 wat vervelend", *(f'"{key}"' for key in THEIRS)):
        assert await rows_holding(ctx.db, needle) == [], needle
    assert await rows_holding(ctx.db, "andere-klant-3") and await rows_holding(ctx.db, "klant3")
    key = erasure_key(ctx.secret_key)
    async with ctx.db.read() as s:
        reply_of_other = (await s.exec(select(Mention).where(Mention.external_id == "k6-r1"))).scalar_one()
        record = (await s.exec(select(Erasure))).scalar_one()
        trail = (await s.exec(select(AuditEntry).where(AuditEntry.action == "privacy_erasure"))).scalar_one()
        m3 = await s.get(Mention, week.ids["m3"])
    assert reply_of_other.in_reply_to == erased_id(key, "m3") == m3.external_id  # still threaded
    assert (record.kind, record.actor, record.items, record.channel) == ("erasure", "lea", counts.items, None)
    assert record.counts == counts.as_dict() and trail.actor == "lea" and trail.detail["items"] == counts.items


async def test_an_erased_post_fetched_again_does_not_come_back(ctx):
    await _week_with_klant1_everywhere(ctx)
    await erase_person(ctx, Person("klant1"), "lea")
    masto = ctx.source("masto")
    again = [NewMention(external_id=key, posted_at=local(22, 9), author="klant1", channel="mastodon",
                        text="delivery: nog een keer") for key in THEIRS]
    result = await ingest_batch(ctx.db, ctx.source_ref(masto), again, ctx.ingest_context(masto), now=NOW)
    assert (result.accepted, result.duplicates) == (0, 3)
    assert await rows_holding(ctx.db, "nog een keer") == []


async def test_an_erasure_limited_to_one_channel_leaves_the_others(ctx):
    await build_week(ctx)  # klant8 wrote on bluesky only
    assert (await erase_person(ctx, Person("klant8", "mastodon"), "lea")).mentions == 0
    assert await rows_holding(ctx.db, "klant8")
    counts = await erase_person(ctx, Person("klant8", "bluesky"), "lea")
    assert counts.mentions == 2 and await rows_holding(ctx.db, "klant8") == []
    async with ctx.db.read() as s:
        assert [(e.channel, e.items) for e in (await s.exec(select(Erasure).order_by(Erasure.id))).scalars()] == [
            ("mastodon", 0), ("bluesky", counts.items)]


async def test_the_access_export_holds_everything_about_the_person(ctx):
    week = await _week_with_klant1_everywhere(ctx)
    document = await export_for(ctx, Person("klant1"), "lea")
    assert document["subject"] == {"author": "klant1", "channel": None}
    mentions = {m["external_id"]: m for m in document["mentions"]}
    assert list(mentions) == list(THEIRS)
    m1 = mentions["m1"]
    assert (m1["text"], m1["author"], m1["category"], m1["language"], m1["status"]) == (
        "delivery: post m1", "klant1", "delivery", "nl", "answered")
    assert m1["posted_at"] == local(22, 9).isoformat() and m1["first_response_seconds"] == 1200
    assert [r["text"] for r in m1["replies"]] == ["Dank u, we zoeken het uit."]
    assert [(a["text"], a["note"]) for a in m1["approvals"]] == [(f"Sorry! Over {PHRASE}.", f"Noem {PHRASE} niet")]
    assert [n["text"] for n in m1["notes"]] == [f"Belde ook al: {PHRASE}"]
    assert [f["note"] for f in m1["follow_ups"]] == [f"terugbellen over {PHRASE}"]
    assert {a["action"] for a in m1["audit"]} >= {"reply", "note", "follow_up"}
    assert sorted(a["kind"] for a in m1["alerts"]) == ["breached", "follow_up_due", "spike"]
    assert mentions["m12"]["dismiss_reason"] == "duplicate"
    assert [p["text"] for p in document["our_posts"]] == ["@klant1 wat vervelend, we zoeken het uit"]
    assert all(m["author"] == "klant1" for m in document["mentions"])  # klant6's post is theirs, not here
    async with ctx.db.read() as s:
        exported = (await s.exec(select(AuditEntry).where(AuditEntry.action == "privacy_export"))).scalar_one()
    assert exported.actor == "lea" and "klant1" not in str(exported.detail)
    assert week.ids["m1"] == m1["id"]


async def test_an_empty_handle_is_refused():
    from app.privacy.erasure import ErasureError

    for author in ("", "  ", "@"):
        with pytest.raises(ErasureError):
            Person(author)


async def test_an_erased_waiting_post_is_not_looked_up_again_in_the_channel(ctx):
    from app.intake.recheck import waiting_posts

    week = await build_week(ctx)  # m10 (klant8, bluesky) is still open
    since = local(27, 0)
    assert [m.id for m in await waiting_posts(ctx.db, "push", since, limit=10)] == [week.ids["m10"], week.ids["m11"]]
    await erase_person(ctx, Person("klant8"), "lea")
    assert [m.id for m in await waiting_posts(ctx.db, "push", since, limit=10)] == [week.ids["m11"]]
