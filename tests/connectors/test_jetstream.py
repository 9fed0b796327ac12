"""Jetstream connector against a fake Jetstream WebSocket server (tests/support/connectors/fake_jetstream.py)."""
from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import select

from app.core.config import ConfigError, SourceConfig
from app.core.models import Mention
from app.intake import store
from app.intake.scheduler import SourceRunner
from connectors.base import NotAllowed, ReplyNotAllowed, ReplyRequest, TemporaryFailure
from connectors.http import parse_timestamp
from connectors.jetstream import DEFAULT_BASE_URL, JetstreamConfig, JetstreamConnector, StreamLimits, to_us
from connectors.jetstream_events import SeenPosts
from connectors.transport import OutboundClient
from tests.support.app import Clock, make_config
from tests.support.connectors.conformance import ConnectorConformance, FaultyTransport, fetch_all, free_port, ids
from tests.support.connectors.fake_jetstream import BRAND_DID, POST, QUERY, FakeJetstream, running
from tests.support.outbound import CheckedAs, fake_dns

CUSTOMER = "did:plc:klant00000000000000000001"
OTHER = "did:plc:anders0000000000000000001"
# Short waits: the fake is quiet once it has replayed its log. The handshake's deadline is
# generous: on a loaded machine a local handshake took over half a second (a test that stalls
# the handshake on purpose waits it out).
FAST = StreamLimits(max_events=1000, max_seconds=5.0, idle_seconds=0.2, open_timeout=5.0)


def source(base_url: str | None, **overrides) -> dict:
    return {"name": "js", "kind": "jetstream", "base_url": base_url, "query": QUERY,
            "own_accounts": [BRAND_DID, "acme.bsky.social"]} | overrides


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeJetstream]:
    async with running(FakeJetstream()) as server:
        yield server


@pytest.fixture
def make_connector(fake, client) -> Callable[..., JetstreamConnector]:
    return lambda limits=FAST, **overrides: JetstreamConnector(source(fake.base_url, **overrides), client,
                                                               limits=limits)


@pytest.fixture
def connector(make_connector) -> JetstreamConnector:
    return make_connector()


class HandshakeFaults(FaultyTransport):
    """The suite's transport faults aimed at the WebSocket handshake (the connector does not
    speak HTTP through its client): a timeout is a handshake the server never answers."""

    def __init__(self, fake: FakeJetstream):
        super().__init__()
        self.fake = fake

    def fail_next(self, error: Exception) -> None:
        assert isinstance(error, httpx.TimeoutException), "only timeouts have a WebSocket equivalent here"
        self.fake.stall_handshakes += 1


class TestJetstreamConformance(ConnectorConformance):
    @pytest.fixture
    def faults(self, fake) -> HandshakeFaults:
        return HandshakeFaults(fake)


def by_id(mentions) -> dict:
    return {m.external_id: m for m in mentions}


def as_stored(cursor: dict) -> dict:
    return json.loads(json.dumps(cursor))


# --- config ------------------------------------------------------------------------------------

def test_config_defaults_and_base_url_forms() -> None:
    assert JetstreamConfig.from_source(source(None)).url == DEFAULT_BASE_URL
    assert JetstreamConfig.from_source(source("https://js.example.org")).url == "wss://js.example.org/subscribe"
    config = JetstreamConfig.from_source(source("ws://127.0.0.1:6008/subscribe?x=1"))
    assert config.url == "ws://127.0.0.1:6008/subscribe"
    assert config.own_dids == {BRAND_DID}  # handles cannot match: Jetstream names DIDs only


@pytest.mark.parametrize(("overrides", "message"), [
    ({"query": None, "own_accounts": ["acme.bsky.social"]}, "needs a query"),
    ({"wanted_dids": ["acme.bsky.social"]}, "must be DIDs"),
    ({"base_url": "ftp://js.example.org"}, "wss://"),
])
def test_config_rejects_unusable_sources(overrides, message) -> None:
    with pytest.raises(ValueError, match=message):
        JetstreamConfig.from_source(source(None) | overrides)


def test_app_config_accepts_the_jetstream_keys_and_no_others(tmp_path) -> None:
    toml = ('[[sources]]\nname = "firehose"\nkind = "jetstream"\nquery = "acme"\n'
            'wanted_dids = ["did:plc:x"]\nbase_url = "wss://js.example.org/subscribe"\n')
    [loaded] = make_config(tmp_path, toml).sources
    assert loaded.options == {"query": "acme", "wanted_dids": ["did:plc:x"]}
    with pytest.raises(ConfigError, match="identifier"):
        make_config(tmp_path, toml + 'identifier = "acme.bsky.social"\n')


def test_only_reads_and_needs_no_credentials() -> None:
    caps = JetstreamConnector.capabilities
    assert not caps.can_reply and caps.credentials == ()


@pytest.mark.asyncio
async def test_reply_is_refused(connector) -> None:
    with pytest.raises(ReplyNotAllowed):
        await connector.reply(ReplyRequest(in_reply_to="at://x/app.bsky.feed.post/1", text="hoi", idempotency_key="k"))


# --- what is kept --------------------------------------------------------------------------------

@pytest.mark.asyncio
async def test_keeps_whole_word_matches_of_the_query_only(fake, connector) -> None:
    hit = fake.create(CUSTOMER, "Storing bij ACME al de hele ochtend")
    tag = fake.create(OTHER, "#acme waar blijft mijn pakket", created=fake.clock + timedelta(hours=1))
    fake.create(CUSTOMER, "Op vakantie in Acmeville")
    fake.create(CUSTOMER, "Mooi weer vandaag")
    fake.like(OTHER, hit)
    fake.identity(OTHER, "anders.bsky.social")
    mentions, cursor, skipped = await fetch_all(connector, None)
    assert ids(mentions) == {hit["uri"], tag["uri"]} and skipped == 0
    assert fake.requests[0]["wantedCollections"] == [POST] and fake.requests[0]["compress"] == ["false"]
    mention = by_id(mentions)[hit["uri"]]
    rkey = hit["uri"].rsplit("/", 1)[-1]
    assert mention.channel == "bluesky"  # the bluesky kind's channel: both kinds dedupe on the at:// uri
    assert mention.url == f"https://bsky.app/profile/{CUSTOMER}/post/{rkey}"
    assert (mention.author, mention.text, mention.language) == (CUSTOMER, "Storing bij ACME al de hele ochtend", "nl")
    assert mention.posted_at == parse_timestamp(hit["record"]["createdAt"])
    # A client clock ahead of time: posted when Jetstream saw it, not in the future.
    assert by_id(mentions)[tag["uri"]].posted_at == datetime.fromtimestamp(tag["time_us"] / 1e6, UTC)
    assert not mention.outbound and mention.raw["cid"] == hit["cid"]
    assert cursor["time_us"] == fake.log[-1].time_us  # events we do not keep move the cursor too


@pytest.mark.asyncio
async def test_posts_by_mentioning_or_answering_the_brand_are_kept_without_the_keyword(fake, make_connector) -> None:
    connector = make_connector(query=None)
    ours = fake.create(BRAND_DID, "We kijken ernaar")
    mention = fake.create(CUSTOMER, "@acme.bsky.social help", mentions=(BRAND_DID,))
    reply = fake.create(CUSTOMER, "Nog steeds niks", reply_to=ours)
    other = fake.create(OTHER, "hoi", mentions=(CUSTOMER,))
    fake.create(CUSTOMER, "eens", reply_to=other)
    found = by_id((await fetch_all(connector, None))[0])
    assert set(found) == {ours["uri"], mention["uri"], reply["uri"]}
    assert found[ours["uri"]].outbound and not found[mention["uri"]].outbound
    assert found[reply["uri"]].in_reply_to == ours["uri"]
    assert found[reply["uri"]].raw["root"] == {"uri": ours["uri"], "cid": ours["cid"]}


@pytest.mark.asyncio
async def test_wanted_dids_narrow_the_stream_at_the_server(fake, make_connector) -> None:
    connector = make_connector(wanted_dids=[CUSTOMER])
    mine = fake.create(CUSTOMER, "acme 1")
    fake.create(OTHER, "acme 2")
    mentions, _, _ = await fetch_all(connector, None)
    assert ids(mentions) == {mine["uri"]} and fake.requests[0]["wantedDids"] == [CUSTOMER]


@pytest.mark.asyncio
async def test_edits_reach_posts_passed_on_even_without_the_keyword(fake, connector) -> None:
    post = fake.create(CUSTOMER, "acme levert niet")
    first, cursor, _ = await fetch_all(connector, None)
    edited_post = fake.update(post, "levert niet (toch binnen)")
    stranger = fake.create(OTHER, "iets anders")
    fake.update(stranger, "nog steeds iets anders")
    late = fake.create(OTHER, "niks")
    late_edit = fake.update(late, "nu toch over acme")
    mentions, cursor, _ = await fetch_all(connector, cursor)
    found = by_id(mentions)
    assert set(found) == {post["uri"], late["uri"]}
    edit = found[post["uri"]]
    assert edit.text == "levert niet (toch binnen)" and edit.posted_at == by_id(first)[post["uri"]].posted_at
    assert edit.edited_at == datetime.fromtimestamp(edited_post["time_us"] / 1e6, UTC)
    assert found[late["uri"]].edited_at == datetime.fromtimestamp(late_edit["time_us"] / 1e6, UTC)
    again, _, _ = await fetch_all(connector, cursor)
    assert again == []  # the last event (an edit) is not handed out twice


@pytest.mark.asyncio
async def test_only_deletes_of_posts_passed_on_are_reported(fake, connector) -> None:
    post = fake.create(CUSTOMER, "acme kwijt")
    stranger = fake.create(OTHER, "iets anders")
    _, cursor, _ = await fetch_all(connector, None)
    fake.delete(post)
    fake.delete(stranger)
    mentions, cursor, _ = await fetch_all(connector, cursor)
    assert [(m.external_id, m.deleted) for m in mentions] == [(post["uri"], True)]
    assert post["uri"] not in SeenPosts(cursor["seen"], limit=10)


def test_seen_posts_keep_the_newest_within_the_limit() -> None:
    seen = SeenPosts(limit=3)
    for n in range(5):
        seen.add(f"at://d/p/{n}")
    seen.add("at://d/p/2")  # seen again: newest now
    kept = SeenPosts(seen.dump(), limit=3)
    assert [u in kept for u in ("at://d/p/0", "at://d/p/1", "at://d/p/2", "at://d/p/3", "at://d/p/4")] == \
        [False, False, True, True, True]


# --- cursor and stream -----------------------------------------------------------------------------

@pytest.mark.asyncio
async def test_first_poll_replays_from_since(fake, connector) -> None:
    fake.create(CUSTOMER, "acme oud")
    since = fake.clock + timedelta(milliseconds=500)
    new = fake.create(CUSTOMER, "acme nieuw")
    mentions, _, _ = await fetch_all(connector, None, since=since)
    assert ids(mentions) == {new["uri"]}
    assert fake.requests[0]["cursor"] == [str(to_us(since) - 1)]


@pytest.mark.asyncio
async def test_resumes_from_the_stored_cursor_without_loss_or_repeats(fake, make_connector) -> None:
    posted = []
    for n in range(7):
        posted.append(fake.create(CUSTOMER, f"acme {n}")["uri"])
        fake.create(OTHER, f"ruis {n}")
    small = replace(FAST, max_events=3)
    first = await make_connector(limits=small).fetch(None)
    assert first.more and len(first.mentions) == 2
    cursor = as_stored(first.cursor)
    rest, _, _ = await fetch_all(make_connector(limits=small), cursor)  # a restarted worker
    got = [m.external_id for m in first.mentions + rest]
    assert got == posted
    assert fake.requests[1]["cursor"] == [str(cursor["time_us"])]


@pytest.mark.asyncio
async def test_a_dropped_connection_keeps_what_arrived_and_resumes_after_it(fake, connector) -> None:
    posted = [fake.create(CUSTOMER, f"acme {n}")["uri"] for n in range(5)]
    fake.drop_after = 2
    first = await connector.fetch(None)
    assert [m.external_id for m in first.mentions] == posted[:2] and first.more
    rest, _, _ = await fetch_all(connector, as_stored(first.cursor))
    assert [m.external_id for m in rest] == posted[2:]


@pytest.mark.asyncio
async def test_a_connection_dropped_before_any_event_is_temporary(fake, connector) -> None:
    fake.add_posts(1)
    fake.drop_after = 0
    with pytest.raises(TemporaryFailure, match="closed"):
        await connector.fetch(None)


@pytest.mark.asyncio
async def test_an_unreachable_server_is_temporary(client) -> None:
    connector = JetstreamConnector(source(f"ws://127.0.0.1:{free_port()}/subscribe"), client, limits=FAST)
    with pytest.raises(TemporaryFailure, match="unreachable"):
        await connector.fetch(None)


@pytest.mark.asyncio
async def test_malformed_frames_are_skipped_counted_once_and_passed(fake, connector) -> None:
    good = fake.create(CUSTOMER, "acme 1")
    fake.raw_frame("{not json")
    fake.raw_frame(b"\x28\xb5\x2f\xfd compressed")
    fake.raw_frame(json.dumps(["a", "list"]))
    fake.raw_frame(json.dumps({"did": CUSTOMER, "time_us": "soon", "kind": "commit"}))
    fake.raw_frame(json.dumps({"did": CUSTOMER, "time_us": fake.log[-1].time_us + 1, "kind": "commit",
                               "commit": {"operation": "create", "collection": POST, "rkey": "3lx",
                                          "record": {"text": "acme", "createdAt": "yesterday"}, "cid": "b"}}))
    fake.raw_frame(json.dumps({"did": CUSTOMER, "time_us": fake.log[-1].time_us + 1, "kind": "commit"}))
    fake.add_malformed()
    later = fake.create(CUSTOMER, "acme 2")
    mentions, cursor, skipped = await fetch_all(connector, None)
    assert ids(mentions) == {good["uri"], later["uri"]} and skipped == 7
    again, _, skipped_again = await fetch_all(connector, cursor)
    assert again == [] and skipped_again == 0


@pytest.mark.asyncio
async def test_stops_once_caught_up_with_the_live_tail(fake, make_connector) -> None:
    connector = make_connector(limits=replace(FAST, idle_seconds=5.0))
    fake.create(CUSTOMER, "acme oud")
    task = asyncio.create_task(connector.fetch(None))
    while not fake.requests:
        await asyncio.sleep(0.01)
    fake.clock = datetime.now(UTC)  # the live edge
    live = fake.create(CUSTOMER, "acme nu")
    result = await asyncio.wait_for(task, 3)  # well before the idle wait
    assert live["uri"] in ids(result.mentions) and not result.more


# --- end to end through the scheduler and ingest -----------------------------------------------------

@pytest.fixture
def runner_for(ctx, fake, client):
    ctx.clock = Clock(datetime.now(UTC))

    def make() -> SourceRunner:
        config = SourceConfig(name="firehose", kind="jetstream", base_url=fake.base_url, query=QUERY)
        connector = JetstreamConnector(config.connector_settings((BRAND_DID,)), client, limits=FAST)
        return SourceRunner(ctx, config, connector)
    return make


async def stored(ctx) -> dict[str, Mention]:
    async with ctx.db.read() as session:
        return {m.external_id: m for m in (await session.exec(select(Mention))).scalars()}


@pytest.mark.asyncio
async def test_edit_and_delete_reach_the_stored_mentions(ctx, fake, runner_for) -> None:
    runner = runner_for()
    keep = fake.create(CUSTOMER, "acme pakket kwijt")
    gone = fake.create(OTHER, "acme is traag")
    ours = fake.create(BRAND_DID, "Sorry, we zoeken het uit", reply_to=keep)
    stranger = fake.create(OTHER, "iets anders")
    assert (await runner.poll_once()).stored == 3
    edit = fake.update(keep, "acme pakket kwijt — toch gevonden")
    fake.delete(gone)
    fake.delete(stranger)
    ctx.clock.advance(seconds=60)
    assert (await runner.poll_once()).ok
    rows = await stored(ctx)
    assert set(rows) == {keep["uri"], gone["uri"], ours["uri"]}
    assert {m.channel for m in rows.values()} == {"bluesky"}
    assert rows[keep["uri"]].text == "acme pakket kwijt — toch gevonden"
    assert rows[keep["uri"]].edited_at == datetime.fromtimestamp(edit["time_us"] / 1e6, UTC)
    assert rows[gone["uri"]].removed and not rows[keep["uri"]].removed
    assert rows[ours["uri"]].direction == "outbound"
    assert rows[keep["uri"]].status == "answered"  # our reply in the Bluesky app closed it


@pytest.mark.asyncio
async def test_a_crash_before_commit_refetches_the_batch_once(ctx, fake, runner_for, monkeypatch) -> None:
    runner = runner_for()
    first = fake.create(CUSTOMER, "acme 1")
    assert (await runner.poll_once()).stored == 1
    second = fake.create(CUSTOMER, "acme 2")

    async def killed(*args, **kwargs):
        raise RuntimeError("killed before commit")

    real = store.save_cursor
    monkeypatch.setattr(store, "save_cursor", killed)
    ctx.clock.advance(seconds=60)
    assert not (await runner.poll_once()).ok
    monkeypatch.setattr(store, "save_cursor", real)
    restarted = runner_for()  # a new process: only the stored cursor survives
    ctx.clock.advance(minutes=30)
    assert (await restarted.poll_once()).stored == 1
    assert set(await stored(ctx)) == {first["uri"], second["uri"]}


# --- the app's address policy (the WebSocket does not go through the client's transport) -------

@pytest.mark.asyncio
async def test_the_app_clients_address_policy_holds_for_the_websocket_too(fake):
    fake.create(CUSTOMER, "acme app kapot")
    async with OutboundClient() as strict:
        with pytest.raises(NotAllowed, match=r"Jetstream: refused to connect to 127.0.0.1: a loopback address"):
            await JetstreamConnector(source(fake.base_url), strict, limits=FAST).fetch(None)
    assert fake.requests == []
    async with OutboundClient(allow_private_networks=True) as allowing:
        result = await JetstreamConnector(source(fake.base_url), allowing, limits=FAST).fetch(None)
    assert [m.text for m in result.mentions] == ["acme app kapot"]


@pytest.mark.asyncio
async def test_the_websocket_connects_to_the_address_that_was_checked(fake, monkeypatch):
    fake_dns(monkeypatch, {"jetstream.example.net": []})  # asking DNS again would fail
    fake.create(CUSTOMER, "acme app kapot")
    async with httpx.AsyncClient() as client:
        client.address_policy = CheckedAs("jetstream.example.net")
        url = fake.base_url.replace("127.0.0.1", "jetstream.example.net")
        result = await JetstreamConnector(source(url), client, limits=FAST).fetch(None)
    assert [m.text for m in result.mentions] == ["acme app kapot"]
