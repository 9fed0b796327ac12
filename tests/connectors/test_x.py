"""The X API v2 connector against a fake X on a real port."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
import pytest_asyncio

from connectors.base import (
    AuthFailed,
    ConnectorError,
    RateLimited,
    ReplyNotAllowed,
    ReplyRequest,
    ReplyUnknown,
    TemporaryFailure,
)
from connectors.x import XConfig, XConnector, comparable_text
from tests.support.connectors.conformance import ConnectorConformance, fetch_all, serve
from tests.support.connectors.fake_x import (
    BEARER,
    BRAND_ID,
    RESET_EPOCH,
    T0,
    FakeX,
    escape_text,
    invalid_parameter,
    problem,
)

NOW = T0 + timedelta(hours=3)


@pytest_asyncio.fixture
async def fake():
    x = FakeX()
    async with serve(x.app()) as url:
        x.base_url = url
        yield x


@pytest_asyncio.fixture
async def client():
    async with httpx.AsyncClient(timeout=5) as http:
        yield http


def source(base_url: str, **overrides) -> dict:
    return {"name": "x-acme", "kind": "x", "base_url": base_url, "query": "acme", "bearer_token_env": "X_BEARER",
            "bearer_token": BEARER, "user_id": BRAND_ID, **overrides}


@pytest.fixture
def make_connector(fake, client):
    return lambda **overrides: XConnector(source(fake.base_url, **overrides), client, now=lambda: NOW)


@pytest.fixture
def connector(make_connector) -> XConnector:
    return make_connector()


class TestXConformance(ConnectorConformance):
    @pytest.fixture
    def connector(self, fake, client) -> XConnector:
        # The real clock: X's reset header is an absolute time, which the fake reads off the wall.
        return XConnector(source(fake.base_url), client)


def search_calls(fake: FakeX) -> list[dict[str, str]]:
    return [params for method, path, params in fake.requests if path == "/2/tweets/search/recent"]


# --- config -----------------------------------------------------------------------------------

@pytest.mark.parametrize("missing", ["bearer_token", "query"])
def test_config_requires(missing):
    config = source("http://x")
    del config[missing]
    with pytest.raises(ValueError, match=missing):
        XConfig.from_source(config)


def test_user_id_must_be_numeric():
    with pytest.raises(ValueError, match="user_id"):
        XConfig.from_source(source("http://x", user_id="@AcmeCare"))


# --- reading ----------------------------------------------------------------------------------

@pytest.mark.asyncio
async def test_first_fetch_maps_posts_and_authors(connector, fake):
    customer = fake.user("2244994945", "boze_klant", "Boze Klant", followers=5400)
    parent = fake.tweet(escape_text("acme, waar blijft mijn pakket? & nu?"), author_id=customer)
    fake.tweet("@AcmeCare acme nog steeds niks", author_id=customer, in_reply_to=parent)
    result = await connector.fetch(None, since=T0 - timedelta(hours=1))
    first, second = sorted(result.mentions, key=lambda m: m.external_id)
    assert first.external_id == parent and first.author == "boze_klant" and first.author_name == "Boze Klant"
    assert first.text == "acme, waar blijft mijn pakket? & nu?"  # v2 escapes & < > in plain text
    assert first.posted_at == T0 and first.posted_at.tzinfo is not None
    assert first.url == f"https://x.com/boze_klant/status/{parent}"
    assert first.followers == 5400 and first.language == "nl"
    assert second.in_reply_to == parent
    assert result.reads == 2 and result.more is False
    params = search_calls(fake)[0]
    assert params["expansions"] == "author_id"
    assert {"created_at", "lang", "conversation_id", "referenced_tweets", "public_metrics"} <= set(
        params["tweet.fields"].split(","))
    assert params["user.fields"] == "username,name,public_metrics"
    assert params["start_time"] == "2026-11-22T08:00:00Z"


@pytest.mark.asyncio
async def test_backfill_start_is_clamped_to_the_seven_day_window(connector, fake):
    await connector.fetch(None, since=NOW - timedelta(days=30))
    start = datetime.fromisoformat(search_calls(fake)[0]["start_time"].replace("Z", "+00:00"))
    assert NOW - timedelta(days=7) < start < NOW - timedelta(days=6, hours=23)


@pytest.mark.asyncio
async def test_post_text_is_unescaped_plain_text(connector, fake):
    fake.tweet(escape_text("acme <script>alert(1)</script> & <b>boos</b>"))
    (mention,) = (await connector.fetch(None)).mentions
    assert mention.html is None
    assert mention.text == "acme <script>alert(1)</script> & <b>boos</b>"  # the words typed; escaped on display


@pytest.mark.asyncio
async def test_brand_posts_are_outbound(connector, fake):
    fake.tweet("acme klantenservice hier", author_id=BRAND_ID)
    (mention,) = (await connector.fetch(None)).mentions
    assert mention.outbound is True and mention.author == "AcmeCare"


@pytest.mark.asyncio
async def test_nothing_new_keeps_since_id_and_costs_nothing(connector, fake):
    fake.tweet("acme 1")
    cursor = (await connector.fetch(None)).cursor
    result = await connector.fetch(cursor)
    assert result.mentions == [] and result.reads == 0 and result.more is False
    assert result.cursor["since_id"] == cursor["since_id"]
    assert search_calls(fake)[-1]["since_id"] == cursor["since_id"]


@pytest.mark.asyncio
async def test_since_id_moves_only_after_the_last_page(connector, fake):
    ids = [fake.tweet(f"acme klacht {i}") for i in range(150)]
    page1 = await connector.fetch(None)
    assert page1.more is True and page1.reads == 100
    assert page1.cursor["since_id"] is None  # not yet: the older 50 are still to come
    assert page1.cursor["pending_newest_id"] == ids[-1]
    page2 = await connector.fetch(page1.cursor)
    assert page2.more is False and page2.reads == 50
    assert page2.cursor == {"since_id": ids[-1], "pending_next_token": None, "pending_newest_id": None,
                            "pending_start_time": None}
    assert {m.external_id for m in page1.mentions + page2.mentions} == set(ids)
    assert search_calls(fake)[1]["next_token"] == page1.cursor["pending_next_token"]


@pytest.mark.asyncio
async def test_paging_repeats_since_id_and_resumes_after_a_restart(connector, fake, make_connector):
    old = fake.tweet("acme oud")
    cursor = (await connector.fetch(None)).cursor
    newer = [fake.tweet(f"acme nieuw {i}") for i in range(120)]
    page1 = await connector.fetch(cursor)
    restarted = make_connector()  # the stored cursor is all it knows
    page2 = await restarted.fetch(page1.cursor)
    assert search_calls(fake)[-1]["since_id"] == old == search_calls(fake)[-2]["since_id"]
    assert {m.external_id for m in page1.mentions + page2.mentions} == set(newer)
    assert page2.cursor["since_id"] == newer[-1]


@pytest.mark.asyncio
async def test_first_poll_paging_repeats_its_start_time(connector, fake):
    [fake.tweet(f"acme {i}") for i in range(120)]
    page1 = await connector.fetch(None, since=T0 - timedelta(hours=1))
    await connector.fetch(page1.cursor, since=T0 - timedelta(minutes=30))  # a later retry of the first poll
    first, second = search_calls(fake)
    assert second["start_time"] == first["start_time"] == "2026-11-22T08:00:00Z"


@pytest.mark.asyncio
async def test_an_expired_paging_token_restarts_from_the_first_page(connector, fake):
    old = fake.tweet("acme oud")
    cursor = (await connector.fetch(None)).cursor
    newer = {fake.tweet(f"acme nieuw {i}") for i in range(150)}
    page1 = await connector.fetch(cursor)
    fake.token_generation += 1  # the stored next_token is no longer valid
    mentions, final, _ = await fetch_all(connector, page1.cursor)
    assert newer <= {m.external_id for m in page1.mentions + mentions}  # nothing lost
    assert final["since_id"] == max(newer, key=int)
    assert all(call["since_id"] == old for call in search_calls(fake)[1:])


@pytest.mark.asyncio
async def test_a_since_id_outside_the_window_falls_back_to_the_window(connector, fake):
    old = fake.tweet("acme van lang geleden")
    cursor = (await connector.fetch(None)).cursor
    fresh = fake.tweet("acme vandaag")
    fake.oldest_since_id = int(old) + 1
    result = await connector.fetch(cursor)
    assert fresh in {m.external_id for m in result.mentions}
    assert "since_id" not in search_calls(fake)[-1] and search_calls(fake)[-1]["start_time"]
    assert result.cursor["since_id"] == fresh


@pytest.mark.asyncio
async def test_another_bad_request_is_reported(connector, fake):
    fake.faults.append(invalid_parameter("query", "acme", "There were errors processing your request: "
                                                           "Ambiguous use of and as a keyword"))
    with pytest.raises(ConnectorError, match=r"400"):
        await connector.fetch(None)


@pytest.mark.asyncio
async def test_malformed_post_is_skipped_and_counted(connector, fake):
    good = fake.tweet("acme goed")
    bad = fake.tweet("acme zonder datum")
    del fake.find(bad)["created_at"]
    result = await connector.fetch(None)
    assert [m.external_id for m in result.mentions] == [good]
    assert result.skipped == 1 and result.reads == 2  # a skipped post was still paid for


@pytest.mark.asyncio
async def test_author_missing_from_includes_falls_back_to_the_id(connector, fake):
    fake.tweet("acme van een geschorst account", author_id="999")
    del fake.users["999"]
    (mention,) = (await connector.fetch(None)).mentions
    assert mention.author == "999" and mention.followers is None


# --- failures ---------------------------------------------------------------------------------

@pytest.mark.asyncio
async def test_429_honours_the_epoch_reset(connector, fake):
    fake.faults.append(problem(429, "Too Many Requests", "Too Many Requests",
                               {"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(RESET_EPOCH)}))
    with pytest.raises(RateLimited) as caught:
        await connector.fetch(None)
    assert caught.value.retry_at == datetime.fromtimestamp(RESET_EPOCH, UTC)


@pytest.mark.asyncio
async def test_401_is_auth_failed_with_a_reason(make_connector):
    with pytest.raises(AuthFailed, match=r"X token rejected \(401\)"):
        await make_connector(bearer_token="wrong").fetch(None)


@pytest.mark.asyncio
async def test_503_is_temporary(connector, fake):
    fake.fail_next(503)
    with pytest.raises(TemporaryFailure, match="503"):
        await connector.fetch(None)


# --- replying ---------------------------------------------------------------------------------

def reply_to(tweet_id: str, text: str = "Wat vervelend! Kunt u ons een DM sturen? ^AB") -> ReplyRequest:
    return ReplyRequest(in_reply_to=tweet_id, text=text, idempotency_key="key-1")


@pytest.mark.asyncio
async def test_reply_posts_once(connector, fake):
    parent = fake.tweet("acme help")
    posted = await connector.reply(reply_to(parent))
    (stored,) = fake.replies_by(BRAND_ID, parent)
    assert posted.external_id == stored["id"]
    assert posted.url == f"https://x.com/i/web/status/{stored['id']}"


@pytest.mark.asyncio
async def test_lost_answer_finds_the_stored_reply(connector, fake):
    parent = fake.tweet("acme help")
    fake.drop_post_answers = 1
    request = reply_to(parent, "Sorry! Kijk op https://acme.example/status voor de storing ^AB")
    posted = await connector.reply(request)
    (stored,) = fake.replies_by(BRAND_ID, parent)  # exactly one post
    assert posted.external_id == stored["id"]


@pytest.mark.asyncio
async def test_a_second_attempt_finds_the_first_instead_of_posting_twice(connector, fake):
    parent = fake.tweet("acme help")
    first = await connector.reply(reply_to(parent))
    again = await connector.reply(reply_to(parent))  # X refuses the duplicate; we look it up
    assert again == first and len(fake.replies_by(BRAND_ID, parent)) == 1


@pytest.mark.asyncio
async def test_the_same_words_to_someone_else_must_be_reworded(connector, fake):
    customer = fake.user("77", "klant77", "Klant")
    first, second = fake.tweet("acme help", author_id=customer), fake.tweet("acme ook", author_id=customer)
    await connector.reply(reply_to(first))
    with pytest.raises(ReplyNotAllowed, match="reword"):
        await connector.reply(reply_to(second))
    assert fake.replies_by(BRAND_ID, second) == []


@pytest.mark.asyncio
async def test_a_refused_post_is_auth_failed(connector, fake):
    parent = fake.tweet("acme help")
    fake.faults.append(problem(403, "Forbidden", "You are not permitted to perform this action."))
    with pytest.raises(AuthFailed, match=r"tweet.write"):
        await connector.reply(reply_to(parent))


@pytest.mark.asyncio
async def test_lost_answer_and_failed_look_up_is_unknown(connector, fake):
    parent = fake.tweet("acme help")
    fake.drop_post_answers = 1
    fake.timeline_status = 503
    with pytest.raises(ReplyUnknown):
        await connector.reply(reply_to(parent))
    assert len(fake.replies_by(BRAND_ID, parent)) == 1


@pytest.mark.asyncio
async def test_lost_answer_without_brand_account_is_unknown(make_connector, fake):
    parent = fake.tweet("acme help")
    fake.drop_post_answers = 1
    with pytest.raises(ReplyUnknown, match="user_id"):
        await make_connector(user_id=None).reply(reply_to(parent))


@pytest.mark.asyncio
async def test_reply_over_the_limit_is_not_sent(connector, fake):
    parent = fake.tweet("acme help")
    with pytest.raises(ReplyNotAllowed, match="280"):
        await connector.reply(reply_to(parent, "x" * 281))
    assert fake.replies_by(BRAND_ID, parent) == []


@pytest.mark.asyncio
async def test_the_limit_is_x_weighted_count_not_len(connector, fake):
    parent = fake.tweet("acme help")
    long_link = "Sorry! De stand: https://www.acme.nl/status/" + "s" * 260 + " ^AB"
    assert len(long_link) > 280
    await connector.reply(reply_to(parent, long_link))  # the link counts 23
    assert len(fake.replies_by(BRAND_ID, parent)) == 1
    other = fake.tweet("acme 帮助")
    with pytest.raises(ReplyNotAllowed, match="282"):
        await connector.reply(reply_to(other, "谢" * 141))  # 141 characters, weighing 282
    with pytest.raises(ReplyNotAllowed, match="282"):
        await connector.reply(reply_to(other, "🙏" * 141))
    assert fake.replies_by(BRAND_ID, other) == []


def test_comparable_text_ignores_what_x_rewrites():
    sent = "Sorry & excuses, zie https://acme.example/a?b=1 ^AB"
    stored = "@boze_klant Sorry &amp; excuses, zie https://t.co/xYz12 ^AB"
    assert comparable_text(stored) == comparable_text(sent)
    assert comparable_text("@klant Iets anders") != comparable_text(sent)
