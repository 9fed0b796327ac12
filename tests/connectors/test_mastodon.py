"""Mastodon connector against a fake Mastodon server in a real uvicorn (tests/support/connectors/fake_mastodon.py)."""
from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import pytest_asyncio

from connectors.base import AuthFailed, ConnectorError, RateLimited, ReplyNotAllowed, ReplyRequest, TemporaryFailure
from connectors.mastodon import VERIFY_BATCH, MastodonConfig, MastodonConnector, id_order, snowflake_for
from tests.support.connectors.conformance import ConnectorConformance, fetch_all, ids, served
from tests.support.connectors.fake_mastodon import HOST, TAG, TOKEN, FakeMastodon
from tests.support.connectors.verify_conformance import VerifyConformance, known, stored_posts


def source(base_url: str, **overrides) -> dict:
    return {"name": "masto", "kind": "mastodon", "base_url": base_url, "hashtags": [f"#{TAG.upper()}"],
            "notifications": True, "token_env": "MASTO_TOKEN", "token": TOKEN, **overrides}


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeMastodon]:
    async with served(FakeMastodon()) as server:
        yield server


@pytest.fixture
def make_connector(fake, client) -> Callable[..., MastodonConnector]:
    return lambda **overrides: MastodonConnector(source(fake.base_url, **overrides), client)


@pytest.fixture
def connector(make_connector) -> MastodonConnector:
    return make_connector()


class TestMastodonConformance(ConnectorConformance):
    pass


class TestMastodonVerify(VerifyConformance):
    pass


# --- config ---------------------------------------------------------------------------------------

def test_config_normalises_hashtags_and_base_url() -> None:
    config = MastodonConfig.from_source(source("https://social.example/", hashtags=["#Acme", "acmehelp"]))
    assert config.hashtags == ("acme", "acmehelp")
    assert config.base_url == "https://social.example"


@pytest.mark.parametrize(("overrides", "message"), [
    ({"base_url": None}, "base_url"),
    ({"base_url": "social.example"}, "base_url"),
    ({"hashtags": [], "notifications": False}, "at least one"),
    ({"token": None}, "token_env"),
    ({"notifications": "yes"}, "true or false"),
])
def test_config_rejects_unusable_sources(overrides, message) -> None:
    with pytest.raises(ValueError, match=message):
        MastodonConfig.from_source(source("https://social.example") | overrides)


def test_ids_order_by_value_not_by_string() -> None:
    assert id_order("99") < id_order("100")
    assert int(snowflake_for(datetime(2024, 1, 1, tzinfo=UTC))) >> 16 == 1704067200000


# --- fetching ---------------------------------------------------------------------------------------

@pytest.mark.asyncio
async def test_backfill_pages_forward_from_since_across_pages(fake, connector) -> None:
    posted = fake.add_posts(90)
    mentions, cursor, _ = await fetch_all(connector, None, since=datetime.now(UTC) - timedelta(days=1))
    assert ids(mentions) == set(posted)
    tag_pages = [query for _, path, query in fake.requests if path == f"/api/v1/timelines/tag/{TAG}"]
    assert len(tag_pages) == 3  # 40 + 40 + 10: a short page says there is no more
    assert all("min_id" in query for query in tag_pages)
    newest = max((s["id"] for s in fake.statuses.values()), key=int)
    assert cursor["streams"][f"tag:{TAG}"] == newest


@pytest.mark.asyncio
async def test_a_notification_backlog_pages_by_eighty(fake, connector) -> None:
    """Mastodon allows 80 notifications a page (40 for timelines): half the requests."""
    customer = fake.customers[0]
    fake.mention_brand(customer, "eerste vraag")
    _, cursor, _ = await fetch_all(connector, None)
    backlog = [fake.mention_brand(customer, f"vraag {i}")["uri"] for i in range(170)]
    fake.requests.clear()
    mentions, _, _ = await fetch_all(connector, cursor)
    assert ids(mentions) == set(backlog)
    pages = [query for _, path, query in fake.requests if path == "/api/v1/notifications"]
    assert [query["limit"] for query in pages] == ["80", "80", "80"]  # 80 + 80 + 10


@pytest.mark.asyncio
async def test_since_drops_older_posts_on_the_first_page(fake, connector) -> None:
    [_old] = fake.add_posts(1)
    fake.clock += timedelta(hours=1)
    [new] = fake.add_posts(1)
    mentions, _, _ = await fetch_all(connector, None, since=fake.clock - timedelta(minutes=5))
    assert ids(mentions) == {new}


@pytest.mark.asyncio
async def test_notification_ids_compare_as_numbers(fake, connector) -> None:
    customer = fake.customers[0]
    first = [fake.mention_brand(customer, f"vraag {i}") for i in range(3)]  # notifications 98, 99, 100
    mentions, cursor, _ = await fetch_all(connector, None)
    assert {s["uri"] for s in first} <= ids(mentions)
    assert cursor["streams"]["notifications"] == "100"
    later = fake.mention_brand(customer, "nog een vraag")
    mentions, _, _ = await fetch_all(connector, cursor)
    assert ids(mentions) == {later["uri"]}


@pytest.mark.asyncio
async def test_mention_fields_html_visibility_and_spoiler(fake, connector) -> None:
    status = fake.mention_brand(fake.customers[1], "Factuur <klopt> niet", visibility="unlisted")
    status["spoiler_text"] = "klacht"
    [mention] = [m for m in (await fetch_all(connector, None))[0] if m.external_id == status["uri"]]
    assert mention.author == "bram@other.example"
    assert mention.author_name == "Bram@Other.Example"
    assert mention.text is None and "Factuur &lt;klopt&gt; niet" in mention.html
    assert mention.html.startswith("<p>klacht</p>")
    assert mention.visibility == "unlisted"
    assert mention.url == status["url"] and mention.language == "nl" and mention.followers == 42
    assert mention.raw["id"] == status["id"] and not mention.outbound


@pytest.mark.asyncio
async def test_brand_reply_made_in_the_app_is_outbound_and_answers_the_mention(fake, connector) -> None:
    question = fake.mention_brand(fake.customers[0], "Waar is mijn pakket?")
    _, cursor, _ = await fetch_all(connector, None)
    # A responder answers in the Mastodon app; the parent came in an earlier poll.
    answer = fake.post(fake.brand, "<p>@anna Sorry! We zoeken het uit.</p>", in_reply_to=question)
    mentions, _, _ = await fetch_all(connector, cursor)
    [reply] = [m for m in mentions if m.external_id == answer["uri"]]
    assert reply.outbound and reply.author == f"acme@{HOST}"
    assert reply.in_reply_to == question["uri"]
    assert ("GET", f"/api/v1/statuses/{question['id']}", {}) in fake.requests


@pytest.mark.asyncio
async def test_parent_in_the_same_batch_needs_no_lookup(fake, connector) -> None:
    question = fake.post(fake.customers[0], f"<p>Help #{TAG}</p>", tags=[TAG])
    follow_up = fake.post(fake.customers[0], f"<p>Nog steeds niks #{TAG}</p>", tags=[TAG], in_reply_to=question)
    mentions, _, _ = await fetch_all(connector, None)
    [mention] = [m for m in mentions if m.external_id == follow_up["uri"]]
    assert mention.in_reply_to == question["uri"]
    assert not [path for _, path, _ in fake.requests if path.startswith("/api/v1/statuses/")]


@pytest.mark.asyncio
async def test_deleted_parent_leaves_in_reply_to_empty(fake, connector) -> None:
    question = fake.post(fake.customers[0], "<p>weg</p>")
    reply = fake.post(fake.customers[2], f"<p>ik ook #{TAG}</p>", tags=[TAG], in_reply_to=question)
    del fake.statuses[question["id"]]
    [mention] = [m for m in (await fetch_all(connector, None))[0] if m.external_id == reply["uri"]]
    assert mention.in_reply_to is None


@pytest.mark.asyncio
async def test_own_accounts_from_config_without_token(fake, make_connector) -> None:
    connector = make_connector(token=None, notifications=False, own_accounts=["@Acme@" + HOST])
    own = fake.post(fake.brand, f"<p>Storing opgelost #{TAG}</p>", tags=[TAG])
    mentions, _, _ = await fetch_all(connector, None)
    assert [m.outbound for m in mentions if m.external_id == own["uri"]] == [True]
    assert all(path != "/api/v1/accounts/verify_credentials" for _, path, _ in fake.requests)


@pytest.mark.asyncio
async def test_keyword_search_stream(fake, make_connector) -> None:
    connector = make_connector(hashtags=[], notifications=False, search="pakket")
    hit = fake.post(fake.customers[0], "<p>Mijn pakket is zoek</p>")
    fake.post(fake.customers[0], "<p>Iets anders</p>")
    mentions, cursor, _ = await fetch_all(connector, None)
    assert ids(mentions) == {hit["uri"]}
    assert cursor["streams"]["search"] == hit["id"]


@pytest.mark.asyncio
async def test_refetch_from_the_same_cursor_returns_the_same_batch(fake, connector) -> None:
    """A crash before commit: the app fetches again from the old cursor and gets the same
    posts (the unique key absorbs them) and the same new cursor."""
    fake.add_posts(2)
    _, cursor, _ = await fetch_all(connector, None)
    fake.add_posts(3)
    first = await connector.fetch(cursor)
    again = await connector.fetch(cursor)
    assert ids(first.mentions) == ids(again.mentions) and len(first.mentions) == 3
    assert first.cursor == again.cursor != cursor


@pytest.mark.asyncio
async def test_non_json_answer_is_temporary() -> None:
    def maintenance_page(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="<html>maintenance</html>")
    async with httpx.AsyncClient(transport=httpx.MockTransport(maintenance_page)) as client:
        broken = MastodonConnector(source("http://masto.test", token=None, notifications=False), client)
        with pytest.raises(TemporaryFailure, match="not JSON"):
            await broken.fetch(None)


@pytest.mark.asyncio
async def test_spent_quota_waits_for_the_reset_without_asking(fake, make_connector) -> None:
    connector = make_connector(token=None, notifications=False)  # one request per poll
    fake.add_posts(1)
    reset = fake.spend_quota(timedelta(minutes=4))
    assert len((await connector.fetch(None)).mentions) == 1  # the answer arrives, and says the quota is spent
    asked = len(fake.requests)
    with pytest.raises(RateLimited) as caught:
        await connector.fetch(None)
    assert len(fake.requests) == asked
    assert abs(caught.value.retry_at - reset) < timedelta(seconds=1)


@pytest.mark.asyncio
async def test_rejected_token_says_what_to_check(fake, connector) -> None:
    fake.revoke_credentials()
    with pytest.raises(AuthFailed, match=r"token rejected \(401\): check token_env .* access token is invalid"):
        await connector.fetch(None)


@pytest.mark.asyncio
async def test_own_account_is_looked_up_once(fake, connector) -> None:
    for _ in range(3):
        await connector.fetch(None)
    assert [path for _, path, _ in fake.requests].count("/api/v1/accounts/verify_credentials") == 1


# --- replying ---------------------------------------------------------------------------------------

def reply_to(mention, key: str = "reply-key-1", text: str = "Wat vervelend! We zoeken het uit. ^AB") -> ReplyRequest:
    return ReplyRequest(in_reply_to=mention.external_id, text=text, idempotency_key=key, raw=mention.raw)


async def fetched(connector, status) -> object:
    mentions, _, _ = await fetch_all(connector, None)
    return next(m for m in mentions if m.external_id == status["uri"])


@pytest.mark.asyncio
async def test_reply_posts_in_thread_with_the_idempotency_key(fake, connector) -> None:
    question = fake.mention_brand(fake.customers[0], "Waar is mijn pakket?")
    posted = await connector.reply(reply_to(await fetched(connector, question)))
    [reply] = fake.posts_by(fake.brand)
    assert posted.external_id == reply["uri"] and posted.url == reply["url"]
    assert reply["in_reply_to_id"] == question["id"]
    assert reply["content"].startswith(f"<p>@anna@{HOST} Wat vervelend")  # the customer gets notified
    assert fake.idempotency == {"reply-key-1": reply["id"]}


@pytest.mark.asyncio
async def test_reply_retry_after_dropped_connection_posts_once(fake, connector) -> None:
    question = fake.mention_brand(fake.customers[1], "Factuur klopt niet")
    request = reply_to(await fetched(connector, question), text="@Bram@other.example Sorry, we kijken mee.")
    fake.drop_next_post = True
    with pytest.raises(TemporaryFailure):
        await connector.reply(request)
    assert len(fake.posts_by(fake.brand)) == 1  # stored, answer lost
    posted = await connector.reply(request)  # the app retries with the same key
    [reply] = fake.posts_by(fake.brand)
    assert posted.external_id == reply["uri"]
    assert reply["content"] == "<p>@Bram@other.example Sorry, we kijken mee.</p>"  # not addressed twice


@pytest.mark.asyncio
@pytest.mark.parametrize("visibility", ["direct", "private"])
async def test_never_replies_publicly_to_private_posts(fake, connector, visibility) -> None:
    question = fake.mention_brand(fake.customers[0], "Mijn adres is ...", visibility=visibility)
    with pytest.raises(ReplyNotAllowed, match=visibility):
        await connector.reply(reply_to(await fetched(connector, question)))
    assert fake.posts_by(fake.brand) == []


@pytest.mark.parametrize(("text", "expected"), [
    ("Sorry!", f"@anna@{HOST} Sorry!"),
    ("@anna sorry!", "@anna sorry!"),
    (f"Hoi @Anna@{HOST.upper()}!", f"Hoi @Anna@{HOST.upper()}!"),
    ("@annabel sorry", f"@anna@{HOST} @annabel sorry"),
])
def test_reply_addresses_the_author_once(connector, text, expected) -> None:
    assert connector._addressed(text, f"anna@{HOST}") == expected


@pytest.mark.asyncio
async def test_reply_without_raw_resolves_the_post_by_uri(fake, connector) -> None:
    question = fake.mention_brand(fake.customers[2], "Storing?")
    posted = await connector.reply(ReplyRequest(in_reply_to=question["uri"], text="We kijken ernaar.",
                                                idempotency_key="k2"))
    [reply] = fake.posts_by(fake.brand)
    assert posted.external_id == reply["uri"] and reply["in_reply_to_id"] == question["id"]
    assert ("GET", "/api/v2/search", {"q": question["uri"], "type": "statuses", "resolve": "true",
                                      "limit": "5"}) in fake.requests


@pytest.mark.asyncio
async def test_reply_to_unknown_post_is_a_clear_error(fake, connector) -> None:
    with pytest.raises(ConnectorError, match="cannot find"):
        await connector.reply(ReplyRequest(in_reply_to="https://elsewhere.example/statuses/1", text="Hoi",
                                           idempotency_key="k3"))


@pytest.mark.asyncio
async def test_reply_over_the_limit_is_refused_before_posting(fake, connector) -> None:
    question = fake.mention_brand(fake.customers[0], "Hallo")
    with pytest.raises(ReplyNotAllowed, match="500"):
        await connector.reply(reply_to(await fetched(connector, question), text="x" * 495))
    assert fake.posts_by(fake.brand) == []


# --- re-checking ------------------------------------------------------------------------------------

def status_lookups(fake: FakeMastodon) -> list[str]:
    """The ids looked up one at a time."""
    return [path.rsplit("/", 1)[-1] for method, path, _ in fake.requests
            if method == "GET" and path.startswith("/api/v1/statuses/")]


@pytest.mark.asyncio
async def test_verify_looks_up_the_local_id_not_the_uri(fake, connector) -> None:
    status = fake.mention_brand(fake.customers[1], "Factuur klopt niet")  # bram@other.example
    [mention] = [m for m in (await fetch_all(connector, None))[0] if m.external_id == status["uri"]]
    fake.requests.clear()
    fake.delete(status["uri"])
    [change] = await connector.verify([known(mention)])
    assert change.deleted and fake.many_lookups == [[status["id"]]]
    # Gone from the notifications as well, as on a real server.
    assert status["uri"] not in ids((await fetch_all(connector, None))[0])


@pytest.mark.asyncio
async def test_verify_asks_for_its_whole_batch_at_once_and_skips_posts_without_local_id(fake, connector) -> None:
    posts = await stored_posts(fake, connector, VERIFY_BATCH + 3)
    fake.requests.clear()
    foreign = replace(posts[0], raw={})  # not read through this server's API
    fake.delete(posts[2].external_id)
    [change] = await connector.verify([foreign, *posts])
    assert change.deleted and change.external_id == posts[2].external_id
    assert len(fake.requests) == 1 and status_lookups(fake) == []
    assert fake.many_lookups == [[p.raw["id"] for p in posts[:VERIFY_BATCH - 1]]]


@pytest.mark.asyncio
async def test_a_server_before_4_3_is_asked_one_status_at_a_time(fake, connector) -> None:
    fake.version_4_3 = False
    posts = await stored_posts(fake, connector, 3)
    fake.requests.clear()
    fake.delete(posts[1].external_id)
    [change] = await connector.verify(posts)
    assert change.deleted and change.external_id == posts[1].external_id
    assert status_lookups(fake) == [p.raw["id"] for p in posts]
    fake.requests.clear()
    assert await connector.verify(posts[:1]) == []   # remembered: no more tries at the batch route
    assert status_lookups(fake) == [posts[0].raw["id"]] and len(fake.requests) == 1


@pytest.mark.asyncio
async def test_an_older_edit_than_the_stored_one_is_no_change(fake, connector) -> None:
    [post] = await stored_posts(fake, connector, 1)
    status = fake.edit(post.external_id, "nieuw")
    stored = replace(post, edited_at=datetime.fromisoformat(status["edited_at"]) + timedelta(seconds=1))
    assert await connector.verify([stored]) == []
