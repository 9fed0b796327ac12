"""The shared suite for connectors that can `verify`: look posts up again for the edits and
deletions that timelines never show.

A connector's test module runs it next to its ConnectorConformance subclass, with the same
`fake` and `connector` fixtures:

    class TestMastodonVerify(VerifyConformance):
        pass

The fake offers, besides the FakeChannel controls, `delete(external_id)` and
`edit(external_id, text)`, acting as the post's author would on the real network.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any, Protocol

import pytest

from app.intake.sanitize import html_to_text
from connectors.base import KnownPost, NewMention, RateLimited, TemporaryFailure, can_verify
from tests.support.connectors.conformance import FakeChannel, fetch_all


class EditableChannel(FakeChannel, Protocol):
    def delete(self, external_id: str) -> None: ...

    def edit(self, external_id: str, text: str) -> Any: ...


def known(m: NewMention) -> KnownPost:
    """A fetched post as the app stores it (HTML turned into text, as ingest does)."""
    text = html_to_text(m.html) if m.html is not None else m.text or ""
    return KnownPost(external_id=m.external_id, posted_at=m.posted_at, author=m.author, text=text,
                     edited_at=m.edited_at, raw=m.raw)


async def stored_posts(fake: EditableChannel, connector, count: int) -> list[KnownPost]:
    posted = fake.add_posts(count)
    mentions, _, _ = await fetch_all(connector, None)
    by_id = {m.external_id: m for m in mentions}
    return [known(by_id[external_id]) for external_id in posted]


def new_text(m: NewMention) -> str:
    return html_to_text(m.html) if m.html is not None else m.text or ""


class VerifyConformance:
    def test_declares_how_many_posts_a_run_checks(self, connector) -> None:
        assert can_verify(connector)
        assert type(connector).capabilities.verify_batch > 0

    @pytest.mark.asyncio
    async def test_unchanged_posts_bring_no_changes(self, fake: EditableChannel, connector) -> None:
        posts = await stored_posts(fake, connector, 3)
        assert await connector.verify(posts) == []

    @pytest.mark.asyncio
    async def test_a_deleted_post_is_reported_deleted(self, fake: EditableChannel, connector) -> None:
        posts = await stored_posts(fake, connector, 3)
        fake.delete(posts[1].external_id)
        [change] = await connector.verify(posts)
        assert change.external_id == posts[1].external_id and change.deleted

    @pytest.mark.asyncio
    async def test_an_edited_post_comes_with_its_new_text_once(self, fake: EditableChannel, connector) -> None:
        posts = await stored_posts(fake, connector, 2)
        fake.edit(posts[0].external_id, "Pakket is er toch, excuus!")
        [change] = await connector.verify(posts)
        assert change.external_id == posts[0].external_id and not change.deleted
        assert "Pakket is er toch, excuus!" in new_text(change)
        assert change.edited_at is not None and change.edited_at.tzinfo is not None
        # Stored as ingest stores an edit, the post is unchanged from then on.
        assert await connector.verify([known(change), posts[1]]) == []

    @pytest.mark.asyncio
    async def test_429_is_rate_limited(self, fake: EditableChannel, connector) -> None:
        posts = await stored_posts(fake, connector, 1)
        fake.fail_next(429, reset_in=timedelta(minutes=5))
        with pytest.raises(RateLimited):
            await connector.verify(posts)

    @pytest.mark.asyncio
    async def test_500_is_temporary_and_deletes_nothing(self, fake: EditableChannel, connector) -> None:
        posts = await stored_posts(fake, connector, 1)
        fake.fail_next(500)
        with pytest.raises(TemporaryFailure):
            await connector.verify(posts)
