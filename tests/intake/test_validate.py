"""One bad post never blocks a source: it is cleaned or skipped and counted, and the good
posts of its batch are stored, on SQLite and PostgreSQL alike."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.core.models import Mention, SourceState
from app.intake.scheduler import SourceRunner
from app.intake.validate import MAX_FOLLOWERS, checked
from connectors.base import NewMention
from connectors.registry import build_connector
from tests.support.app import PUSH_SECRET_ENV, Clock, make_config
from tests.support.connectors.conformance import served
from tests.support.connectors.fake_mastodon import TOKEN, FakeMastodon, iso

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def post(**fields) -> NewMention:
    return NewMention(**{"external_id": "1", "posted_at": NOW - timedelta(minutes=5), "author": "klant",
                         "text": "Pakket kwijt", **fields})


def test_control_characters_leave_one_line_fields_and_numbers_fit_their_column():
    m = checked(post(author_name="Boze\x00 Klant\x1b[31m", url="https://x.example/\x00a", followers=2**40,
                     raw={"note": "a\x00b", "list": ["\x00"]}), NOW)
    assert (m.author_name, m.url, m.followers) == ("Boze Klant[31m", "https://x.example/a", MAX_FOLLOWERS)
    assert m.raw == {"note": "ab", "list": [""]}
    assert checked(post(followers=-3), NOW).followers == 0
    assert checked(post(), NOW) == post()   # a sound post passes unchanged


@pytest.mark.parametrize("when", [datetime(1, 1, 1, tzinfo=UTC), datetime(1900, 1, 1, tzinfo=UTC),
                                  datetime(1970, 1, 1, tzinfo=UTC), NOW + timedelta(days=2),
                                  datetime(2026, 12, 5, 11, 0)])   # the last one has no zone
def test_a_post_whose_date_cannot_be_true_is_skipped(when):
    assert checked(post(posted_at=when), NOW) is None
    assert checked(post(edited_at=when), NOW) is None


def test_a_post_without_an_id_or_author_left_is_skipped():
    assert checked(post(external_id="\x00\x01"), NOW) is None
    assert checked(post(author="\x00"), NOW) is None


@pytest.mark.asyncio
async def test_a_poison_post_does_not_block_the_good_posts_of_its_batch(ctx, tmp_path, monkeypatch):
    monkeypatch.setenv("TEST_MASTODON_TOKEN", TOKEN)
    async with served(FakeMastodon()) as fake:
        ctx.config = make_config(tmp_path, (
            f'[[sources]]\nname = "push"\nkind = "webhook"\nsecret_env = "{PUSH_SECRET_ENV}"\n\n'
            f'[[sources]]\nname = "masto"\nkind = "mastodon"\nbase_url = "{fake.base_url}"\n'
            f'notifications = true\ntoken_env = "TEST_MASTODON_TOKEN"\n'))
        good = [fake.mention_brand(fake.customers[0], "Mijn pakket is zoek"),
                fake.mention_brand(fake.customers[1], "Geen internet sinds vanochtend")]
        poison = fake.mention_brand(fake.customers[2], "Factuur\x00 klopt niet")
        poison["account"] = {**poison["account"], "display_name": "Nul\x00 Byte", "followers_count": 2**40}
        fake.notifications[-1]["account"] = poison["account"]
        source = ctx.source("masto")
        runner = SourceRunner(ctx, source, build_connector(source.connector_settings(), ctx.http()))
        first = await runner.poll_once()
        # A later poll (a first one drops what is older than backfill_hours on its own):
        ancient = fake.mention_brand(fake.customers[0], "Uit het jaar 1")
        ancient["created_at"] = iso(datetime(1, 1, 1, tzinfo=UTC))
        ctx.clock = Clock()
        ctx.clock.advance(seconds=source.interval_seconds + 1)
        second = await runner.poll_once()
    assert first.ok and second.ok, (first.reason, second.reason)
    async with ctx.db.read() as session:
        stored = {m.external_id: m for m in (await session.exec(select(Mention))).scalars()}
        state = await session.get(SourceState, "masto")
    assert {s["uri"] for s in good} | {poison["uri"]} == set(stored)
    kept = stored[poison["uri"]]
    assert (kept.author_name, kept.followers, kept.text) == ("Nul Byte", MAX_FOLLOWERS, "@acme Factuur klopt niet")
    assert state.skipped_total == 1   # the post from year 1
