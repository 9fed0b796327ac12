"""Bluesky connector against a fake PDS in a real uvicorn (tests/support/connectors/fake_bluesky.py)."""
from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio

from connectors.base import AuthFailed, ConnectorError, ReplyNotAllowed, ReplyRequest, TemporaryFailure
from connectors.bluesky import (
    DEFAULT_BASE_URL,
    SEARCH_OVERLAP,
    TID_ALPHABET,
    BlueskyConfig,
    BlueskyConnector,
    parse_timestamp,
    record_key,
)
from tests.support.connectors.conformance import ConnectorConformance, Fault, fetch_all, ids, served
from tests.support.connectors.fake_bluesky import APP_PASSWORD, BRAND_DID, IDENTIFIER, QUERY, TID_SYNTAX, FakeBluesky
from tests.support.connectors.verify_conformance import VerifyConformance, known, stored_posts


def source(base_url: str | None, **overrides) -> dict:
    return {"name": "bsky", "kind": "bluesky", "base_url": base_url, "identifier": IDENTIFIER,
            "app_password_env": "BSKY_APP_PASSWORD", "app_password": APP_PASSWORD, "query": QUERY,
            "notifications": True} | overrides


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeBluesky]:
    async with served(FakeBluesky()) as server:
        yield server


@pytest.fixture
def make_connector(fake, client) -> Callable[..., BlueskyConnector]:
    return lambda **overrides: BlueskyConnector(source(fake.base_url, **overrides), client)


@pytest.fixture
def connector(make_connector) -> BlueskyConnector:
    return make_connector()


class TestBlueskyConformance(ConnectorConformance):
    pass


class TestBlueskyVerify(VerifyConformance):
    pass


def day_ago() -> datetime:
    return datetime.now(UTC) - timedelta(days=1)


def calls(fake: FakeBluesky, nsid: str) -> list[dict]:
    return [query for _, name, query in fake.requests if name == nsid]


# --- config and record keys ---------------------------------------------------------------------------

def test_config_defaults_to_the_bluesky_entryway() -> None:
    config = BlueskyConfig.from_source(source(None, identifier="@Acme.bsky.social"))
    assert config.base_url == DEFAULT_BASE_URL and config.identifier == "Acme.bsky.social"


@pytest.mark.parametrize(("overrides", "message"), [
    ({"identifier": None}, "identifier"),
    ({"app_password": ""}, "app_password"),
    ({"query": None, "notifications": False}, "query or notifications"),
    ({"notifications": 1}, "true or false"),
])
def test_config_rejects_unusable_sources(overrides, message) -> None:
    with pytest.raises(ValueError, match=message):
        BlueskyConfig.from_source(source(None, **overrides))


def decode_tid_micros(tid: str) -> int:
    value = 0
    for char in tid:
        value = value * 32 + TID_ALPHABET.index(char)
    return value >> 10


def test_record_key_is_a_deterministic_tid_in_the_past() -> None:
    keys = {record_key(f"reply-{i}") for i in range(500)}
    assert len(keys) == 500
    assert record_key("reply-1") == record_key("reply-1")
    for key in keys:
        assert TID_SYNTAX.match(key), key
        moment = datetime.fromtimestamp(decode_tid_micros(key) / 1e6, UTC)
        assert datetime(2023, 1, 1, tzinfo=UTC) <= moment < datetime.now(UTC)


# --- search -----------------------------------------------------------------------------------------------

@pytest.mark.asyncio
async def test_search_pages_back_to_since_then_moves_the_watermark(fake, connector) -> None:
    posted = fake.add_posts(250)
    mentions, cursor, _ = await fetch_all(connector, None, since=day_ago())
    assert ids(mentions) == set(posted)
    pages = calls(fake, "app.bsky.feed.searchPosts")
    assert [p.get("cursor") for p in pages] == [None, "100", "200"]
    assert all(p["sort"] == "latest" and p["since"] for p in pages)
    newest = max(parse_timestamp(fake.posts[u]["indexedAt"]) for u in posted)
    assert parse_timestamp(cursor["search"]["since"]) == newest - SEARCH_OVERLAP
    assert cursor["search"]["page"] is None


@pytest.mark.asyncio
async def test_first_poll_without_since_takes_one_page(fake, connector) -> None:
    fake.add_posts(150)
    result = await connector.fetch(None)
    assert len([m for m in result.mentions if m.raw["reason"] is None]) == 100 and not result.more


@pytest.mark.asyncio
async def test_overlap_returns_recent_posts_again_but_only_moves_forward(fake, connector) -> None:
    fake.add_posts(3)
    first, cursor, _ = await fetch_all(connector, None, since=day_ago())
    again = await connector.fetch(cursor)
    assert ids(again.mentions) <= ids(first)  # re-offered inside the overlap; the app's key absorbs them
    assert again.cursor["search"]["since"] == cursor["search"]["since"]
    [new] = fake.add_posts(1)
    later, _, _ = await fetch_all(connector, again.cursor)
    assert new in ids(later)


@pytest.mark.asyncio
async def test_post_fields_thread_refs_and_web_url(fake, connector) -> None:
    top = fake.post(fake.customers[0], f"Storing bij {QUERY}?")
    middle = fake.post(fake.customers[1], f"Ja, {QUERY} ligt eruit", reply_to=top)
    mentions, _, _ = await fetch_all(connector, None, since=day_ago())
    [mention] = [m for m in mentions if m.external_id == middle["uri"]]
    did, rkey = middle["author"]["did"], middle["uri"].rsplit("/", 1)[-1]
    assert mention.url == f"https://bsky.app/profile/{did}/post/{rkey}"
    assert mention.author == "bram.bsky.social" and mention.author_name == "Bram"
    assert mention.in_reply_to == top["uri"] and mention.language == "nl"
    assert mention.raw["cid"] == middle["cid"] and mention.raw["did"] == did
    assert mention.raw["root"] == {"uri": top["uri"], "cid": top["cid"]}
    assert mention.posted_at.tzinfo is not None and not mention.outbound


@pytest.mark.asyncio
async def test_brand_posts_are_outbound_by_did_or_handle(fake, make_connector) -> None:
    own = fake.post(fake.brand, f"Storing bij {QUERY} opgelost")
    other_brand = fake.post({"did": "did:plc:acmesupport", "handle": "support.acme.nl", "displayName": "Acme"},
                            f"{QUERY} support hier")
    connector = make_connector(own_accounts=["did:plc:acmesupport"], notifications=False)
    mentions, _, _ = await fetch_all(connector, None, since=day_ago())
    outbound = {m.external_id for m in mentions if m.outbound}
    assert outbound == {own["uri"], other_brand["uri"]}


@pytest.mark.asyncio
async def test_future_created_at_is_clamped_to_indexed_at(fake, connector) -> None:
    post = fake.post(fake.customers[2], f"{QUERY} klok loopt voor")
    post["record"]["createdAt"] = "2099-01-01T00:00:00.000Z"
    [mention] = [m for m in (await connector.fetch(None)).mentions if m.external_id == post["uri"]]
    assert mention.posted_at == parse_timestamp(post["indexedAt"])


# --- notifications -------------------------------------------------------------------------------------

@pytest.mark.asyncio
async def test_notifications_page_back_to_the_watermark(fake, make_connector) -> None:
    connector = make_connector(query=None)
    first = [fake.mention_brand(fake.customers[0], f"vraag {i}") for i in range(3)]
    fake.add_like(fake.customers[1], first[0])
    mentions, cursor, _ = await fetch_all(connector, None, since=day_ago())
    assert ids(mentions) == {p["uri"] for p in first}
    assert fake.asked_reasons[0] == ["mention", "reply"]  # the like is never fetched
    assert cursor["notifications"]["watermark"]["uri"] == first[-1]["uri"]
    later = [fake.mention_brand(fake.customers[i % 3], f"nog {i}", reason="reply") for i in range(150)]
    fake.requests.clear()
    mentions, cursor, _ = await fetch_all(connector, cursor)
    assert ids(mentions) == {p["uri"] for p in later}
    assert [q.get("cursor") for q in calls(fake, "app.bsky.notification.listNotifications")] == [None, "100"]
    assert cursor["notifications"]["watermark"]["uri"] == later[-1]["uri"]
    assert (await connector.fetch(cursor)).mentions == []


# --- session ---------------------------------------------------------------------------------------------

@pytest.mark.asyncio
async def test_session_is_created_once_and_refreshed_on_expiry(fake, connector) -> None:
    fake.add_posts(1)
    for _ in range(3):
        await connector.fetch(None)
    assert fake.sessions_created == 1 and fake.refreshes == 0
    fake.expire_access_tokens()  # 400 ExpiredToken on the next call
    await connector.fetch(None)
    assert fake.sessions_created == 1 and fake.refreshes == 1


@pytest.mark.asyncio
async def test_session_is_recreated_only_when_refresh_fails(fake, connector) -> None:
    await connector.fetch(None)
    fake.expire_access_tokens()
    fake._refresh.clear()  # the refresh token expired as well
    await connector.fetch(None)
    assert fake.sessions_created == 2 and fake.refreshes == 0


@pytest.mark.asyncio
async def test_wrong_app_password_says_what_to_check(fake, make_connector) -> None:
    with pytest.raises(AuthFailed, match="app_password_env"):
        await make_connector(app_password="wrong").fetch(None)


# --- replying --------------------------------------------------------------------------------------------

async def question(fake, connector, text: str = "waar is mijn pakket?"):
    top = fake.mention_brand(fake.customers[0], text)
    follow_up = fake.mention_brand(fake.customers[0], "hallo??", reason="reply", reply_to=top)
    mentions, _, _ = await fetch_all(connector, None, since=day_ago())
    return top, next(m for m in mentions if m.external_id == follow_up["uri"])


def answer(mention, key: str = "reply-key-1", text: str = "Wat vervelend! We zoeken het uit. ^AB") -> ReplyRequest:
    return ReplyRequest(in_reply_to=mention.external_id, text=text, idempotency_key=key, raw=mention.raw)


@pytest.mark.asyncio
async def test_reply_creates_a_threaded_record_keyed_by_the_idempotency_key(fake, connector) -> None:
    top, mention = await question(fake, connector)
    posted = await connector.reply(answer(mention))
    [(rkey, record)] = fake.records.items()
    assert rkey == record_key("reply-key-1")
    assert posted.external_id == record["uri"] == f"at://{BRAND_DID}/app.bsky.feed.post/{rkey}"
    assert posted.url == f"https://bsky.app/profile/{BRAND_DID}/post/{rkey}"
    reply = record["value"]["reply"]
    assert reply["parent"] == {"uri": mention.external_id, "cid": mention.raw["cid"]}
    assert reply["root"] == {"uri": top["uri"], "cid": top["cid"]}
    assert parse_timestamp(record["value"]["createdAt"]) is not None


@pytest.mark.asyncio
async def test_reply_retry_after_dropped_connection_leaves_one_record(fake, connector) -> None:
    _, mention = await question(fake, connector)
    fake.drop_next_create = True
    first = await connector.reply(answer(mention))  # answer lost: the record is found by its key
    second = await connector.reply(answer(mention))  # the app retries anyway: "already exists"
    assert first.external_id == second.external_id
    assert len(fake.records) == 1
    assert calls(fake, "com.atproto.repo.getRecord")


@pytest.mark.asyncio
async def test_legacy_pds_500_on_duplicate_is_still_success(fake, connector) -> None:
    fake.legacy_duplicate_500 = True
    _, mention = await question(fake, connector)
    first = await connector.reply(answer(mention))
    assert (await connector.reply(answer(mention))).external_id == first.external_id
    assert len(fake.records) == 1


@pytest.mark.asyncio
async def test_failed_create_is_temporary_and_the_retry_posts_once(fake, connector) -> None:
    _, mention = await question(fake, connector)
    await connector.session.ensure()
    fake.fail_next(500)
    with pytest.raises(TemporaryFailure):
        await connector.reply(answer(mention))
    assert fake.records == {}
    await connector.reply(answer(mention))
    assert len(fake.records) == 1


@pytest.mark.asyncio
async def test_reply_without_raw_looks_the_post_up(fake, connector) -> None:
    top = fake.mention_brand(fake.customers[1], "storing?")
    await connector.reply(ReplyRequest(in_reply_to=top["uri"], text="We kijken ernaar.", idempotency_key="k2"))
    [record] = fake.records.values()
    assert record["value"]["reply"]["root"] == record["value"]["reply"]["parent"] == {"uri": top["uri"],
                                                                                      "cid": top["cid"]}


@pytest.mark.asyncio
async def test_reply_to_a_vanished_post_is_a_clear_error(fake, connector) -> None:
    with pytest.raises(ConnectorError, match="cannot find"):
        await connector.reply(ReplyRequest(in_reply_to=f"at://{BRAND_DID}/app.bsky.feed.post/3kzzzzzzzzzzz",
                                           text="Hoi", idempotency_key="k3"))


@pytest.mark.asyncio
async def test_text_limit_counts_graphemes(fake, connector) -> None:
    _, mention = await question(fake, connector)
    flags = "🇳🇱" * 300  # 600 code points, 300 graphemes
    await connector.reply(answer(mention, text=flags))
    with pytest.raises(ReplyNotAllowed, match="300"):
        await connector.reply(answer(mention, key="k-long", text=flags + "!"))
    assert len(fake.records) == 1


# --- re-checking --------------------------------------------------------------------------------

@pytest.mark.asyncio
async def test_verify_asks_at_most_25_uris_per_call(fake, connector) -> None:
    posts = await stored_posts(fake, connector, 30)
    fake.delete(posts[-1].external_id)
    changes = await connector.verify(posts)
    assert [c.external_id for c in changes if c.deleted] == [posts[-1].external_id]
    assert [len(uris) for uris in fake.get_posts_calls] == [25, 5]


@pytest.mark.asyncio
async def test_an_edit_renews_the_cid_replies_refer_to(fake, connector) -> None:
    top, mention = await question(fake, connector)
    post = known(mention)
    view = fake.edit(post.external_id, "Laat maar, gevonden")
    [change] = await connector.verify([post])
    assert change.text == "Laat maar, gevonden"
    assert change.raw["cid"] == view["cid"] != post.raw["cid"]
    assert change.raw["root"] == {"uri": top["uri"], "cid": top["cid"]}  # the thread did not change


@pytest.mark.asyncio
async def test_a_new_cid_with_the_same_text_is_no_edit(fake, connector) -> None:
    [post] = await stored_posts(fake, connector, 1)
    fake.edit(post.external_id, fake.posts[post.external_id]["record"]["text"])  # e.g. only langs changed
    assert await connector.verify([post]) == []


@pytest.mark.asyncio
async def test_an_answer_without_posts_deletes_nothing(fake, connector) -> None:
    [post] = await stored_posts(fake, connector, 1)
    fake.faults.append(Fault(200, {}, {"cursor": "x"}))
    with pytest.raises(TemporaryFailure, match="without a posts list"):
        await connector.verify([post])
