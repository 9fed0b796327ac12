"""The ingest function every connector uses: exactly once, crash-safe, outbound, threads."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.core.models import Event, Mention, SourceState
from app.intake import store
from app.intake.store import IngestContext, SourceRef, ingest_batch
from app.sla import SlaPolicy
from connectors.base import NewMention

pytestmark = pytest.mark.asyncio
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
SOURCE = SourceRef(name="masto", kind="mastodon")


def batch(*ids: str, minutes_ago: int = 5, **kw) -> list[NewMention]:
    return [NewMention(external_id=i, posted_at=NOW - timedelta(minutes=minutes_ago), author="klant@x",
                       text=f"bericht {i}", **kw) for i in ids]


@pytest.fixture
def ictx() -> IngestContext:
    return IngestContext(policy=SlaPolicy(), own_accounts=frozenset({"brand@mastodon.social"}))


async def counts(ctx) -> tuple[int, int, dict | None]:
    async with ctx.db.read() as s:
        mentions = (await s.exec(select(func.count()).select_from(Mention))).scalar_one()
        events = (await s.exec(select(func.count()).select_from(Event)
                               .where(Event.type == "mention.created"))).scalar_one()
        state = await s.get(SourceState, SOURCE.name)
        return mentions, events, state.cursor if state else None


async def test_same_batch_twice_stores_it_once(ctx, ictx):
    first = await ingest_batch(ctx.db, SOURCE, batch("1", "2", "3"), ictx, cursor={"min_id": "3"}, now=NOW)
    second = await ingest_batch(ctx.db, SOURCE, batch("1", "2", "3"), ictx, cursor={"min_id": "3"}, now=NOW)
    assert (first.accepted, first.duplicates) == (3, 0)
    assert (second.accepted, second.duplicates) == (0, 3)
    assert await counts(ctx) == (3, 3, {"min_id": "3"})


async def test_duplicates_inside_one_batch_are_absorbed(ctx, ictx):
    result = await ingest_batch(ctx.db, SOURCE, batch("1", "1", "2"), ictx, now=NOW)
    assert (result.accepted, result.duplicates) == (2, 1)


async def test_fault_after_insert_leaves_rows_and_cursor_unchanged(ctx, ictx, monkeypatch):
    await ingest_batch(ctx.db, SOURCE, batch("1"), ictx, cursor={"min_id": "1"}, now=NOW)
    before = await counts(ctx)

    async def crash(*args, **kwargs):
        raise RuntimeError("power cut after INSERT, before commit")

    monkeypatch.setattr(store, "save_cursor", crash)
    with pytest.raises(RuntimeError):
        await ingest_batch(ctx.db, SOURCE, batch("2", "3", "4"), ictx, cursor={"min_id": "4"}, now=NOW)
    assert await counts(ctx) == before

    monkeypatch.undo()
    rerun = await ingest_batch(ctx.db, SOURCE, batch("2", "3", "4"), ictx, cursor={"min_id": "4"}, now=NOW)
    assert rerun.accepted == 3
    assert await counts(ctx) == (4, 4, {"min_id": "4"})


async def test_brand_posts_are_outbound_and_not_queued(ctx, ictx):
    own = NewMention(external_id="o1", posted_at=NOW, author="Brand@mastodon.social", text="Wij helpen graag")
    await ingest_batch(ctx.db, SOURCE, [own], ictx, now=NOW)
    async with ctx.db.read() as s:
        row = (await s.exec(select(Mention))).scalars().one()
        events = (await s.exec(select(func.count()).select_from(Event)
                               .where(Event.type == "mention.created"))).scalar_one()
    assert row.direction == "outbound" and row.due_at is None and events == 0


async def test_reply_made_in_the_channel_app_closes_the_mention(ctx, ictx):
    await ingest_batch(ctx.db, SOURCE, batch("q1", minutes_ago=30), ictx, now=NOW)
    answer = NewMention(external_id="a1", posted_at=NOW - timedelta(minutes=10), author="brand@mastodon.social",
                        text="Sorry! We kijken mee.", in_reply_to="q1")
    await ingest_batch(ctx.db, SOURCE, [answer], ictx, now=NOW)
    async with ctx.db.read() as s:
        q = (await s.exec(select(Mention).where(Mention.external_id == "q1"))).scalars().one()
        a = (await s.exec(select(Mention).where(Mention.external_id == "a1"))).scalars().one()
    assert q.status == "answered" and q.first_response_seconds == 20 * 60 and q.within_target
    assert a.conversation_id == q.id


async def test_customer_answer_to_our_reply_is_a_new_open_mention_in_the_thread(ctx, ictx):
    await ingest_batch(ctx.db, SOURCE, batch("q1", minutes_ago=30), ictx, now=NOW)
    ours = NewMention(external_id="a1", posted_at=NOW - timedelta(minutes=20), author="brand@mastodon.social",
                      text="Kunt u uw ordernummer sturen?", in_reply_to="q1")
    theirs = NewMention(external_id="c1", posted_at=NOW - timedelta(minutes=5), author="klant@x",
                        text="Het is 12345", in_reply_to="a1")
    await ingest_batch(ctx.db, SOURCE, [ours], ictx, now=NOW)
    await ingest_batch(ctx.db, SOURCE, [theirs], ictx, now=NOW)
    async with ctx.db.read() as s:
        rows = {m.external_id: m for m in (await s.exec(select(Mention))).scalars()}
    assert rows["c1"].status == "open" and rows["c1"].conversation_id == rows["q1"].id
    assert rows["c1"].due_at == rows["c1"].posted_at + timedelta(hours=1)


async def test_first_poll_marks_old_items_backfill_and_drops_beyond_backfill_hours(ctx, ictx):
    old = batch("old", minutes_ago=90)
    ancient = batch("ancient", minutes_ago=60 * 30)
    fresh = batch("fresh", minutes_ago=10)
    await ingest_batch(ctx.db, SOURCE, old + ancient + fresh, ictx, first_poll=True, backfill_hours=24, now=NOW)
    async with ctx.db.read() as s:
        rows = {m.external_id: m for m in (await s.exec(select(Mention))).scalars()}
    assert set(rows) == {"old", "fresh"}
    assert rows["old"].backfill and not rows["fresh"].backfill


async def test_edits_update_text_and_deletions_mark_removed(ctx, ictx):
    await ingest_batch(ctx.db, SOURCE, batch("e1", "d1"), ictx, now=NOW)
    edited = NewMention(external_id="e1", posted_at=NOW - timedelta(minutes=5), author="klant@x",
                        html="<p>nieuwe tekst</p>", edited_at=NOW)
    deleted = NewMention(external_id="d1", posted_at=NOW - timedelta(minutes=5), author="klant@x", text="",
                         deleted=True)
    await ingest_batch(ctx.db, SOURCE, [edited, deleted], ictx, now=NOW)
    async with ctx.db.read() as s:
        rows = {m.external_id: m for m in (await s.exec(select(Mention))).scalars()}
    assert rows["e1"].text == "nieuwe tekst" and rows["d1"].removed


def post(ext: str, author: str, days_ago: float) -> NewMention:
    return NewMention(external_id=ext, posted_at=NOW - timedelta(days=days_ago), author=author, text="weer kapot")


async def repeat_flags(ctx) -> dict[str, bool]:
    async with ctx.db.read() as s:
        return {m.external_id: "repeat" in m.urgency_reasons for m in (await s.exec(select(Mention))).scalars()}


@pytest.mark.parametrize("authors_per_read", [500, 1])  # 1: every author read on its own
async def test_repeat_contact_is_another_post_by_the_author_within_seven_days(ctx, ictx, monkeypatch,
                                                                               authors_per_read):
    monkeypatch.setattr(store, "AUTHORS_PER_READ", authors_per_read)
    # Stored earlier: one post 11 days back and one 3 days back (8 days apart: no repeat).
    await ingest_batch(ctx.db, SOURCE, [post("old", "anna", 11), post("a1", "anna", 3), post("b1", "bob", 9),
                                        post("d1", "dave", 2), post("e1", "erik", 1)],
                       ictx, now=NOW)
    # One batch: anna again (3 days after a1), bob twice (the second one repeats the first
    # of the same batch), carl once, a redelivery of a1 that must not count itself, and dave
    # and erik, whose earlier posts only the database knows.
    await ingest_batch(ctx.db, SOURCE, [post("a2", "anna", 0.1), post("b2", "bob", 1), post("b3", "bob", 0.5),
                                        post("c1", "carl", 0.2), post("a1", "anna", 3),
                                        post("d2", "dave", 0.3), post("e2", "erik", 0.4)], ictx, now=NOW)
    # A late arrival older than everything stored of its author counts nothing before it.
    await ingest_batch(ctx.db, SOURCE, [post("c0", "carl", 2)], ictx, now=NOW)
    assert await repeat_flags(ctx) == {"old": False, "a1": False, "b1": False, "a2": True, "b2": False,
                                       "b3": True, "c1": False, "c0": False, "d1": False, "d2": True,
                                       "e1": False, "e2": True}


async def test_edits_and_deletions_reach_stored_posts_whatever_the_filters(ctx):
    # Stored while it matched; now its edit holds an excluded word and its deletion carries no
    # text at all: the noise filters may throw away neither.
    filtered = IngestContext(policy=SlaPolicy(), exclude_terms=("giveaway",), min_terms=2,
                             query_terms=("acme", "kapot"))
    first = [NewMention(external_id=i, posted_at=NOW - timedelta(minutes=5), author="klant@x",
                        text="acme scherm kapot") for i in ("e1", "d1")]
    await ingest_batch(ctx.db, SOURCE, first, filtered, now=NOW)
    edited = NewMention(external_id="e1", posted_at=NOW - timedelta(minutes=5), author="klant@x",
                        text="acme giveaway", edited_at=NOW)
    deleted = NewMention(external_id="d1", posted_at=NOW - timedelta(minutes=5), author="klant@x", text="",
                         deleted=True)
    unknown = NewMention(external_id="x9", posted_at=NOW - timedelta(minutes=5), author="klant@x", text="",
                         deleted=True)
    result = await ingest_batch(ctx.db, SOURCE, [edited, deleted, unknown], filtered, now=NOW)
    async with ctx.db.read() as s:
        rows = {m.external_id: m for m in (await s.exec(select(Mention))).scalars()}
    assert rows.keys() == {"e1", "d1"}  # a deletion of a post we never held is not a new row
    assert rows["e1"].text == "acme giveaway" and rows["d1"].removed
    assert (result.accepted, result.filtered) == (0, 0)


async def test_exclude_terms_and_muted_authors_are_filtered(ctx):
    ictx = IngestContext(policy=SlaPolicy(), exclude_terms=("vacature",), mute_authors=frozenset({"bot@x"}))
    items = [NewMention(external_id="1", posted_at=NOW, author="bot@x", text="hallo"),
             NewMention(external_id="2", posted_at=NOW, author="a", text="Nieuwe VACATURE bij ons"),
             NewMention(external_id="3", posted_at=NOW, author="a", text="Pakket kwijt")]
    result = await ingest_batch(ctx.db, SOURCE, items, ictx, now=NOW)
    assert (result.accepted, result.filtered) == (1, 2)


async def test_keyword_searches_need_min_terms(ctx):
    ictx = IngestContext(policy=SlaPolicy(), query_terms=("acme", "storing"), min_terms=2)
    items = [NewMention(external_id="1", posted_at=NOW, author="a", text="Storing bij Acme in Utrecht"),
             NewMention(external_id="2", posted_at=NOW, author="a", text="Acme heeft mooie schoenen")]
    result = await ingest_batch(ctx.db, SOURCE, items, ictx, now=NOW)
    assert (result.accepted, result.filtered) == (1, 1)


async def test_query_terms_leave_operators_out():
    from app.core.config import SourceConfig
    from app.core.context import query_terms

    source = SourceConfig(name="x1", kind="x", bearer_token_env="X_TOKEN",
                          query='acme (storing OR outage) -is:retweet lang:nl "geen internet"')
    assert query_terms(source) == ("acme", "storing", "outage", "geen", "internet")
