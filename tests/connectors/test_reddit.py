"""The Reddit connector against a fake Reddit on a real port."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
import pytest_asyncio
from starlette.responses import JSONResponse

from connectors.base import (
    AuthFailed,
    ConnectorError,
    RateLimited,
    ReplyNotAllowed,
    ReplyRequest,
    ReplyUnknown,
    TemporaryFailure,
)
from connectors.reddit import OVERLAP, RedditConfig, RedditConnector
from tests.support.connectors.conformance import ConnectorConformance, serve
from tests.support.connectors.fake_reddit import (
    BRAND,
    CLIENT_ID,
    CLIENT_SECRET,
    PASSWORD,
    QUERY,
    SUB,
    T0,
    USER_AGENT,
    FakeReddit,
)


class Clock:
    """Starts at the real time: Reddit's reset header counts seconds from now."""

    def __init__(self) -> None:
        self.value = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.value


@pytest_asyncio.fixture
async def fake():
    reddit = FakeReddit()
    async with serve(reddit.app()) as url:
        reddit.base_url = url
        yield reddit


@pytest_asyncio.fixture
async def client():
    async with httpx.AsyncClient(timeout=5) as http:
        yield http


@pytest.fixture
def clock() -> Clock:
    return Clock()


def source(base_url: str, **overrides) -> dict:
    config = {"name": "reddit-acme", "kind": "reddit", "base_url": base_url, "query": QUERY, "subreddits": [SUB],
              "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "username": BRAND, "password": PASSWORD,
              "client_id_env": "REDDIT_ID", "client_secret_env": "REDDIT_SECRET", "username_env": "REDDIT_USER",
              "password_env": "REDDIT_PASSWORD", "user_agent": USER_AGENT, **overrides}
    return {k: v for k, v in config.items() if v is not None}


@pytest.fixture
def make_connector(fake, client, clock):
    return lambda **overrides: RedditConnector(source(fake.base_url, **overrides), client, now=clock)


@pytest.fixture
def connector(make_connector) -> RedditConnector:
    return make_connector()


class TestRedditConformance(ConnectorConformance):
    pass


def listing_calls(fake: FakeReddit, suffix: str) -> list[dict[str, str]]:
    return [params for method, path, params in fake.requests if method == "GET" and path.endswith(suffix)]


# --- config -----------------------------------------------------------------------------------

@pytest.mark.parametrize("user_agent", [None, "", "python-requests/2.31", "Mozilla/5.0 (X11; Linux)"])
def test_refuses_to_start_without_a_descriptive_user_agent(user_agent):
    with pytest.raises(ValueError, match="user_agent"):
        RedditConfig.from_source(source("http://r", user_agent=user_agent))


def test_needs_a_query_or_subreddits():
    with pytest.raises(ValueError, match="query"):
        RedditConfig.from_source(source("http://r", query=None, subreddits=None))


def test_username_and_password_go_together():
    with pytest.raises(ValueError, match="password"):
        RedditConfig.from_source(source("http://r", password=None))


def test_real_hosts_by_default():
    config = RedditConfig.from_source(source(None))
    assert (config.api_base, config.auth_base) == ("https://oauth.reddit.com", "https://www.reddit.com")


# --- auth -------------------------------------------------------------------------------------

@pytest.mark.asyncio
async def test_token_is_kept_until_it_expires(connector, fake, clock):
    fake.token_ttl = 3600
    await connector.fetch(None)
    await connector.fetch(None)
    assert fake.tokens_issued == 1
    clock.value += timedelta(minutes=59, seconds=30)  # within the renewal margin
    await connector.fetch(None)
    assert fake.tokens_issued == 2


@pytest.mark.asyncio
async def test_every_request_carries_the_user_agent(connector, fake):
    await connector.fetch(None)
    token_request = next(headers for method, path, headers in fake.requests if path == "/api/v1/access_token")
    assert token_request["user-agent"] == USER_AGENT


@pytest.mark.asyncio
async def test_app_only_access_uses_client_credentials(make_connector, fake):
    connector = make_connector(username=None, password=None)
    [post] = fake.add_posts(1)
    assert post in {m.external_id for m in (await connector.fetch(None)).mentions}
    with pytest.raises(ReplyNotAllowed, match="username"):
        await connector.reply(ReplyRequest(in_reply_to=post, text="Sorry!", idempotency_key="k"))


@pytest.mark.asyncio
async def test_wrong_password_is_auth_failed(make_connector):
    with pytest.raises(AuthFailed, match="invalid_grant"):
        await make_connector(password="wrong").fetch(None)


@pytest.mark.asyncio
async def test_wrong_client_secret_is_auth_failed(make_connector):
    with pytest.raises(AuthFailed, match="client_id/client_secret"):
        await make_connector(client_secret="wrong").fetch(None)


@pytest.mark.asyncio
async def test_a_revoked_token_is_renewed_once(connector, fake):
    await connector.fetch(None)
    connector._token = "revoked-early"  # as if Reddit dropped it before expiry
    fake.add_posts(1)
    assert len((await connector.fetch(None)).mentions) == 1
    assert fake.tokens_issued == 2


# --- reading ----------------------------------------------------------------------------------

@pytest.mark.asyncio
async def test_search_and_subreddit_comments(connector, fake):
    post = fake.post("Acme bezorging", selftext="Waar is **mijn** pakket?\n\nAl [een week](https://x.example).")
    reply = fake.comment("Bij mij ook & nog steeds niks van Acme", parent=post)
    elsewhere = fake.post("acme elders", sub="other")
    result = await connector.fetch(None)
    by_id = {m.external_id: m for m in result.mentions}
    assert set(by_id) == {post, reply}  # restrict_sr keeps r/other out
    assert by_id[post].url == f"https://www.reddit.com/r/{SUB}/comments/{post[3:]}/"
    assert by_id[post].text == "Acme bezorging\n\nWaar is **mijn** pakket?\n\nAl [een week](https://x.example)."
    assert by_id[reply].in_reply_to == post
    assert by_id[reply].text == "Bij mij ook & nog steeds niks van Acme" and by_id[reply].html is None
    assert by_id[post].posted_at == datetime.fromtimestamp(fake.find(post)["created_utc"], UTC)
    [search] = listing_calls(fake, "/search")
    assert search["sort"] == "new" and search["restrict_sr"] == "on" and search["raw_json"] == "1"
    assert elsewhere not in by_id


@pytest.mark.asyncio
async def test_search_across_reddit_without_subreddits(make_connector, fake):
    elsewhere = fake.post("acme elders", sub="other")
    result = await make_connector(subreddits=[]).fetch(None)
    assert [m.external_id for m in result.mentions] == [elsewhere]
    assert {path for _, path, _ in fake.requests if path != "/api/v1/access_token"} == {"/search"}


@pytest.mark.asyncio
async def test_link_post_without_text_is_its_title(connector, fake):
    post = fake.post("Acme app crasht")
    (mention,) = (await connector.fetch(None)).mentions
    assert mention.external_id == post and mention.text == "Acme app crasht" and mention.html is None


@pytest.mark.asyncio
async def test_brand_comments_are_outbound(connector, fake):
    post = fake.post("Acme vraag")
    ours = fake.comment("Wat vervelend! ^AB", parent=post, author=BRAND)
    mentions = {m.external_id: m for m in (await connector.fetch(None)).mentions}
    assert mentions[ours].outbound is True and mentions[post].outbound is False


@pytest.mark.asyncio
async def test_edited_deleted_and_removed(connector, fake):
    post = fake.post("Acme levering", selftext="Nog steeds niks")
    fake.find(post)["edited"] = float(T0 + 600)
    gone = fake.comment("[deleted]", parent=post, author="[deleted]")
    removed = fake.comment("[removed]", parent=post)
    mentions = {m.external_id: m for m in (await connector.fetch(None)).mentions}
    assert mentions[post].edited_at == datetime.fromtimestamp(T0 + 600, UTC)
    assert not mentions[post].deleted
    assert mentions[gone].deleted and mentions[removed].deleted


# --- which subreddit comments are kept ----------------------------------------------------------

def comment_ids(result) -> set[str]:
    return {m.external_id for m in result.mentions if m.external_id.startswith("t1_")}


@pytest.mark.asyncio
async def test_subreddit_comments_must_match_the_query_or_concern_the_brand(connector, fake):
    customer_post = fake.post("Acme levering")
    brand_post = fake.post("Storing opgelost", author=BRAND)
    brand_comment = fake.comment("Wij kijken mee ^AB", parent=customer_post, author=BRAND)
    kept = {
        fake.comment("Bij mij ook, acme is traag", parent=customer_post),      # matches the query
        fake.comment("Ping /u/acme_care, help?", parent=customer_post),        # names the brand account
        fake.comment("Bij mij nog steeds stuk", parent=brand_post),            # answers the brand's post
        fake.comment("Dank, maar wanneer dan?", parent=brand_comment),         # answers the brand's comment
        fake.comment("[deleted]", parent=customer_post, author="[deleted]"),  # may be one we hold
        brand_comment,                                                        # ours: closes what it answers
    }
    other = fake.comment("Welke winkel is dit?", parent=customer_post)
    dropped = {other, fake.comment("Ik ook niet", parent=other)}
    result = await connector.fetch(None)
    assert comment_ids(result) == kept
    assert not dropped & comment_ids(result)
    assert listing_calls(fake, "/api/info") == []  # every parent was in the listings already


@pytest.mark.asyncio
async def test_a_parent_outside_the_listing_is_looked_up_once(connector, fake):
    post = fake.post("Acme vraag", created=T0)
    ours = fake.comment("Stuur ons een DM ^AB", parent=post, author=BRAND, created=T0 + 60)
    answer = fake.comment("Gedaan!", parent=ours, created=T0 + 7200)
    unrelated = fake.comment("Hoe laat is het?", parent=post, created=T0 + 7260)
    since = datetime.fromtimestamp(T0 + 3600, UTC)  # the brand's comment is older
    result = await connector.fetch(None, since=since)
    assert comment_ids(result) == {answer}
    assert [call["id"] for call in listing_calls(fake, "/api/info")] == [f"{ours}"]
    fake.comment("Nog een vraag", parent=ours, created=T0 + 7300)
    await connector.fetch(result.cursor)
    assert len(listing_calls(fake, "/api/info")) == 1  # remembered
    assert unrelated not in comment_ids(result)


@pytest.mark.asyncio
async def test_naming_the_brand_account_means_exactly_that_account(make_connector, fake):
    post = fake.post("Levering")
    named = fake.comment("Vraag voor u/Acme_Care: waar is het?", parent=post)
    fake.comment("Ken je u/acme_care_fan?", parent=post)
    assert comment_ids(await make_connector(query="levering").fetch(None)) == {named}


@pytest.mark.asyncio
async def test_the_query_is_read_as_reddit_search_reads_it(make_connector, fake):
    post = fake.post("Acme bezorging")
    hit = fake.comment("Mijn acme pakket is zoek", parent=post)
    miss = fake.comment("acme spam hier", parent=post)
    result = await make_connector(query="acme -spam (pakket OR levering)").fetch(None)
    assert hit in comment_ids(result) and miss not in comment_ids(result)


@pytest.mark.asyncio
async def test_without_a_brand_account_only_the_query_counts(make_connector, fake):
    brand_post = fake.post("Storing opgelost", author=BRAND)
    answer = fake.comment("Nog steeds stuk", parent=brand_post)
    ours = fake.comment("Wij kijken ^AB", parent=answer, author=BRAND)
    reader = make_connector(username=None, password=None)
    assert comment_ids(await reader.fetch(None)) == set()
    assert listing_calls(fake, "/api/info") == []
    # own_accounts (from [brand]) name the account a read-only app cannot know by itself
    reader = make_connector(username=None, password=None, own_accounts=["acme@social.example", f"u/{BRAND}"])
    result = await reader.fetch(None)
    assert comment_ids(result) == {answer, ours}
    assert [m.external_id for m in result.mentions if m.outbound] == [ours]


@pytest.mark.asyncio
async def test_without_a_query_every_subreddit_comment_counts(make_connector, fake):
    post = fake.post("Hallo")
    comment = fake.comment("Welkom", parent=post)
    assert comment_ids(await make_connector(query=None).fetch(None)) == {comment}


@pytest.mark.asyncio
async def test_an_answer_that_is_not_a_listing_is_temporary(connector, fake):
    fake.faults.append(JSONResponse({"kind": "Listing"}))
    with pytest.raises(TemporaryFailure, match="not a listing"):
        await connector.fetch(None)


@pytest.mark.asyncio
async def test_first_poll_pages_back_to_the_backfill_bound(connector, fake):
    posts = [fake.post(f"acme {i}", created=T0 + i * 60) for i in range(250)]
    since = datetime.fromtimestamp(T0 + 30 * 60, UTC)
    result = await connector.fetch(None, since=since)
    assert {m.external_id for m in result.mentions} == set(posts[30:])
    assert len(listing_calls(fake, "/search")) == 3


@pytest.mark.asyncio
async def test_next_poll_reads_the_first_page_with_overlap_only(connector, fake):
    old = [fake.post(f"acme {i}", created=T0 + i * 60) for i in range(150)]
    cursor = (await connector.fetch(None, since=datetime.fromtimestamp(T0, UTC))).cursor
    assert cursor["search"] == {"fullname": old[-1], "created_utc": float(T0 + 149 * 60)}
    new = [fake.post(f"acme nieuw {i}", created=T0 + 149 * 60 + (i + 1) * 60) for i in range(3)]
    before = len(listing_calls(fake, "/search"))
    result = await connector.fetch(cursor)
    assert len(listing_calls(fake, "/search")) == before + 1  # the watermark is on the first page
    got = {m.external_id for m in result.mentions}
    assert set(new) <= got
    overlap = int(OVERLAP.total_seconds() // 60)
    assert got - set(new) == set(old[-overlap - 1:])  # re-offered within OVERLAP, absorbed by ingest
    assert result.cursor["search"]["fullname"] == new[-1]


@pytest.mark.asyncio
async def test_paging_continues_until_the_watermark(connector, fake):
    fake.post("acme oud", created=T0)
    cursor = (await connector.fetch(None)).cursor
    burst = [fake.post(f"acme storing {i}", created=T0 + 3600 + i) for i in range(180)]
    result = await connector.fetch(cursor)
    assert set(burst) <= {m.external_id for m in result.mentions}
    assert listing_calls(fake, "/search")[-1]["after"]  # the second page was read


@pytest.mark.asyncio
async def test_nothing_new_keeps_the_cursor(connector, fake):
    fake.add_posts(2)
    cursor = (await connector.fetch(None)).cursor
    result = await connector.fetch(cursor)
    assert result.cursor == cursor
    assert all(m.posted_at.timestamp() >= cursor["search"]["created_utc"] - OVERLAP.total_seconds()
               for m in result.mentions)


@pytest.mark.asyncio
async def test_empty_listings_give_an_empty_batch(connector):
    result = await connector.fetch(None)
    assert result.mentions == [] and result.skipped == 0


@pytest.mark.asyncio
async def test_markdown_arrives_unescaped(connector, fake):
    fake.post("Acme", selftext="a < b & c > d <script>x</script>")
    (mention,) = (await connector.fetch(None)).mentions
    assert mention.text == "Acme\n\na < b & c > d <script>x</script>"  # raw_json=1: no &amp;; words, not markup
    assert mention.html is None


@pytest.mark.asyncio
async def test_quota_spent_stops_before_the_next_request(make_connector, fake, clock):
    connector = make_connector(subreddits=[])  # one listing: one request per poll
    fake.remaining, fake.reset_seconds = 0, 120
    await connector.fetch(None)  # the answer that spent the quota was still served
    calls = len(fake.requests)
    with pytest.raises(RateLimited) as caught:
        await connector.fetch(None)
    assert caught.value.retry_at == clock.value + timedelta(seconds=120)
    assert len(fake.requests) == calls  # no request wasted on a certain 429
    clock.value += timedelta(seconds=121)
    fake.remaining = 50
    await connector.fetch(None)


# --- replying ---------------------------------------------------------------------------------

def reply_to(parent: str, text: str = "Wat vervelend! Stuur ons een chatbericht met uw ordernummer. ^AB"):
    return ReplyRequest(in_reply_to=parent, text=text, idempotency_key="key-1")


@pytest.mark.asyncio
async def test_reply_posts_a_comment(connector, fake):
    post = fake.post("Acme help")
    posted = await connector.reply(reply_to(post))
    (stored,) = fake.replies_by(BRAND, post)
    assert posted.external_id == stored["name"] and posted.external_id.startswith("t1_")
    assert posted.url == "https://www.reddit.com" + stored["permalink"]


@pytest.mark.asyncio
async def test_lost_answer_finds_the_stored_reply(connector, fake):
    post = fake.post("Acme help")
    fake.drop_comment_answers = 1
    posted = await connector.reply(reply_to(post))
    (stored,) = fake.replies_by(BRAND, post)  # exactly one comment
    assert posted.external_id == stored["name"]


@pytest.mark.asyncio
async def test_lost_answer_and_failed_look_up_is_unknown(connector, fake):
    post = fake.post("Acme help")
    fake.drop_comment_answers = 1
    fake.user_comments_status = 500
    with pytest.raises(ReplyUnknown):
        await connector.reply(reply_to(post))
    assert len(fake.replies_by(BRAND, post)) == 1


@pytest.mark.asyncio
async def test_reddit_refusal_is_reported(connector, fake):
    post = fake.post("Acme help")
    fake.faults.append(JSONResponse({"json": {"errors": [["THREAD_LOCKED", "that thread is locked", "parent"]]}}))
    with pytest.raises(ConnectorError, match="THREAD_LOCKED"):
        await connector.reply(reply_to(post))


@pytest.mark.asyncio
async def test_comment_rate_limit_is_rate_limited(connector, fake, clock):
    post = fake.post("Acme help")
    fake.faults.append(JSONResponse({"json": {"errors": [
        ["RATELIMIT", "you are doing that too much. try again in 3 minutes.", "ratelimit"]]}}))
    with pytest.raises(RateLimited) as caught:
        await connector.reply(reply_to(post))
    assert caught.value.retry_at == clock.value + timedelta(minutes=3)


@pytest.mark.asyncio
async def test_reply_over_the_limit_is_not_sent(connector, fake):
    post = fake.post("Acme help")
    with pytest.raises(ReplyNotAllowed, match="10000"):
        await connector.reply(reply_to(post, "x" * 10_001))
    assert fake.replies_by(BRAND, post) == []
