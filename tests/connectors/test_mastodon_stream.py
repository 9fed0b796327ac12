"""Mastodon's streaming API through the connector's `listen`, against a fake Mastodon that
streams over server-sent events and WebSocket in a real uvicorn
(tests/support/connectors/fake_mastodon_stream.py)."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from connectors.base import AuthFailed, TemporaryFailure
from connectors.mastodon import MastodonConnector, MastodonOptions
from connectors.streaming import StreamBatch, StreamSettings, can_stream, sse_events
from tests.support.connectors.conformance import served
from tests.support.connectors.fake_mastodon import TAG, TOKEN
from tests.support.connectors.fake_mastodon_stream import FakeMastodonStreaming

pytestmark = pytest.mark.asyncio
QUICK = StreamSettings(idle_seconds=1.0, batch_seconds=0.05)


def source(base_url: str, transport: str, **overrides) -> dict:
    return {"name": "masto", "kind": "mastodon", "base_url": base_url, "hashtags": [TAG], "notifications": True,
            "token_env": "MASTO_TOKEN", "token": TOKEN, "stream": True, "stream_transport": transport, **overrides}


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeMastodonStreaming]:
    async with served(FakeMastodonStreaming()) as server:
        yield server


@pytest.fixture(params=["sse", "websocket"])
def transport(request) -> str:
    return request.param


class Listening:
    """Runs `listen` in the background, gathering batches until it ends (its error kept)."""

    def __init__(self, connector: MastodonConnector):
        self.batches: list[StreamBatch] = []
        self.error: BaseException | None = None
        self.task = asyncio.create_task(self._run(connector))

    async def _run(self, connector: MastodonConnector) -> None:
        try:
            async for batch in connector.listen(None):
                self.batches.append(batch)
        except Exception as exc:
            self.error = exc

    @property
    def mentions(self):
        return [m for b in self.batches for m in b.mentions]

    async def until(self, predicate, timeout: float = 10.0) -> None:
        async def wait() -> None:
            while not predicate():
                if self.task.done():
                    raise AssertionError(f"listening ended: {self.error!r}")
                await asyncio.sleep(0.02)
        await asyncio.wait_for(wait(), timeout)

    async def stop(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


async def listening(fake, client, transport, **overrides) -> Listening:
    connector = MastodonConnector(source(fake.base_url, transport, **overrides), client, stream_settings=QUICK)
    run = Listening(connector)
    await run.until(lambda: any(b.connected for b in run.batches))
    return run


async def test_stream_is_an_option_of_its_own() -> None:
    assert MastodonOptions(hashtags=["acme"], stream=True).stream_transport == "websocket"
    with pytest.raises(ValueError, match="stream_transport"):
        MastodonOptions(hashtags=["acme"], stream=True, stream_transport="carrier-pigeon")
    with pytest.raises(ValueError, match="stream_poll_seconds"):
        MastodonOptions(hashtags=["acme"], stream=True, stream_poll_seconds=5)


async def test_posts_edits_and_deletions_arrive_live(fake, client, transport) -> None:
    run = await listening(fake, client, transport)
    try:
        await fake.wait_for_streams(("hashtag", TAG), ("user:notification", None))
        tagged = fake.add_posts(1, html=f"<p>Pakket kwijt #{TAG}</p>")[0]
        mention = fake.mention_brand(fake.customers[1], "Waar blijft mijn bestelling?")
        await run.until(lambda: len(run.mentions) == 2)
        assert {m.external_id for m in run.mentions} == {tagged, mention["uri"]}
        by_uri = {m.external_id: m for m in run.mentions}
        assert "Pakket kwijt" in by_uri[tagged].html and by_uri[tagged].raw["id"]
        assert by_uri[mention["uri"]].author == "bram@other.example"

        fake.edit(tagged, "Pakket toch gevonden")
        await run.until(lambda: len(run.mentions) == 3)
        edited = run.mentions[-1]
        assert edited.external_id == tagged and edited.edited_at is not None and "gevonden" in edited.html

        fake.delete(tagged)
        await run.until(lambda: len(run.mentions) == 4)
        deleted = run.mentions[-1]
        assert deleted.external_id == tagged and deleted.deleted and deleted.author
    finally:
        await run.stop()
    kinds = {"sse": {"sse:hashtag", "sse:user:notification"}, "websocket": {"ws"}}[transport]
    assert set(fake.stream_connections) == kinds


async def test_the_streaming_server_named_by_the_instance_is_used(fake, client) -> None:
    run = await listening(fake, client, "sse")
    await run.stop()
    paths = [path for _, path, _ in fake.requests]
    assert "/api/v1/accounts/verify_credentials" in paths
    assert fake.stream_connections  # reached through configuration.urls.streaming


async def test_boosts_other_notifications_and_unknown_deletions_are_ignored(fake, client) -> None:
    run = await listening(fake, client, "sse")
    try:
        await fake.wait_for_listeners(2)
        fake._publish("user:notification", None, "notification", '{"type": "favourite", "status": null}')
        fake._publish("hashtag", TAG, "delete", "123456")  # a post we never passed on
        fake._publish("hashtag", TAG, "update", "not json")
        uri = fake.add_posts(1)[0]
        await run.until(lambda: len(run.mentions) == 1)
        assert run.mentions[0].external_id == uri
        assert sum(b.skipped for b in run.batches) == 1
    finally:
        await run.stop()


async def test_a_dropped_stream_ends_listening_with_a_temporary_failure(fake, client, transport) -> None:
    run = await listening(fake, client, transport)
    await fake.wait_for_listeners(1)
    fake.drop_streams()
    await asyncio.wait_for(run.task, 10)
    assert isinstance(run.error, TemporaryFailure)


async def test_a_heartbeat_gap_is_a_dead_line(fake, client) -> None:
    fake.heartbeat_seconds = 0.2
    run = await listening(fake, client, "sse")
    await asyncio.sleep(0.6)
    assert not run.task.done()  # heartbeats keep a quiet stream alive
    fake.silent = True
    await asyncio.wait_for(run.task, 10)
    assert isinstance(run.error, TemporaryFailure) and "heartbeat" in run.error.reason


async def test_a_refused_token_is_an_auth_failure(fake, client, transport) -> None:
    fake.revoke_credentials()
    connector = MastodonConnector(source(fake.base_url, transport), client, stream_settings=QUICK)
    with pytest.raises(AuthFailed):
        async for _ in connector.listen(None):
            pass


async def test_a_source_without_stream_does_not_listen(fake, client) -> None:
    connector = MastodonConnector(source(fake.base_url, "sse", stream=False), client)
    assert not can_stream(connector) and callable(connector.listen)


async def test_server_sent_events_are_parsed_as_the_standard_says() -> None:
    async def lines():
        for line in [":)", "", "event: update", "data: {\"a\":", "data: 1}", "", ": thump", "data: x", ""]:
            yield line
    events = [e async for e in sse_events(lines())]
    assert [(e.event, e.data) for e in events] == [("", None), ("update", '{"a":\n1}'), ("", None), ("message", "x")]
