"""The RSS/Atom connector against a fake feed server on a real port. The conformance suite
covers 401, 429 (Retry-After), 500 and timeouts; the tests below cover what is RSS's own."""
from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
import pytest_asyncio

from connectors.base import NotAllowed, Redirected, ReplyNotAllowed, ReplyRequest, TooLarge
from connectors.rss import MAX_REDIRECTS, SEEN_LIMIT, RssConfig, RssConnector, unwrap_google_link
from connectors.transport import OutboundClient
from tests.support.connectors.conformance import ConnectorConformance, serve
from tests.support.connectors.fake_rss import (
    ATOM_GOOGLE_ALERTS,
    LAST_MODIFIED,
    RSS_BROKEN,
    RSS_TWO_ITEMS,
    RSS_UNDATED,
    FakeFeed,
    rss,
)
from tests.support.outbound import bomb, hostile

NOW = datetime.now(UTC).replace(microsecond=0)  # fixed for the run: undated entries get it


@pytest_asyncio.fixture
async def fake():
    feed = FakeFeed()
    async with serve(feed.app()) as url:
        feed.base_url = url
        yield feed


@pytest_asyncio.fixture
async def client():
    async with httpx.AsyncClient(timeout=5) as http:
        yield http


@pytest.fixture
def make_connector(fake, client):
    def make(path: str = "/feed.xml") -> RssConnector:
        return RssConnector({"name": "forum", "kind": "rss", "url": fake.base_url + path}, client, now=lambda: NOW)
    return make


@pytest.fixture
def connector(make_connector) -> RssConnector:
    return make_connector()


class TestRssConformance(ConnectorConformance):
    pass


# --- config -----------------------------------------------------------------------------------

def test_config_needs_an_http_url():
    with pytest.raises(ValueError, match="url"):
        RssConfig.from_source({"name": "f", "kind": "rss"})
    with pytest.raises(ValueError, match="http"):
        RssConfig.from_source({"name": "f", "kind": "rss", "url": "file:///etc/passwd"})


@pytest.mark.asyncio
async def test_cannot_reply(connector):
    assert RssConnector.capabilities.can_reply is False
    with pytest.raises(ReplyNotAllowed):
        await connector.reply(ReplyRequest(in_reply_to="forum-1", text="Sorry!", idempotency_key="k"))


# --- reading ----------------------------------------------------------------------------------

@pytest.mark.asyncio
async def test_first_fetch_reads_every_entry(connector, fake):
    result = await connector.fetch(None)
    first, second = result.mentions
    assert (first.external_id, second.external_id) == ("forum-1", "forum-2")
    assert first.posted_at == datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
    assert first.url == "https://forum.example.nl/t/1"
    assert first.language == "nl-nl"
    assert result.skipped == 0
    assert result.cursor["etag"] == fake.etag and result.cursor["last_modified"] == LAST_MODIFIED


@pytest.mark.asyncio
async def test_html_is_passed_as_html_without_scripts(connector):
    first, second = (await connector.fetch(None)).mentions
    assert first.text is None and "<b>kwijt</b>" in first.html
    assert "<script" not in first.html and "alert(1)" not in first.html  # feedparser's sanitiser
    assert second.html == "<p>Acme helpdesk onbereikbaar</p><p>Al een uur in de wacht.</p>"  # RSS text is HTML


@pytest.mark.asyncio
async def test_plain_atom_text_is_passed_as_text(connector, fake):
    fake.publish(b"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Status</title>
      <entry><id>urn:status:1</id><title type="text">Acme &lt;storing&gt;</title>
      <summary type="text">Inloggen lukt niet</summary><updated>2026-11-22T09:00:00Z</updated>
      <link href="https://status.example.nl/1"/></entry></feed>""")
    (mention,) = (await connector.fetch(None)).mentions
    assert mention.html is None and mention.text == "Acme <storing>\n\nInloggen lukt niet"


@pytest.mark.asyncio
async def test_unchanged_feed_answers_304_with_the_stored_validators(connector, fake):
    cursor = (await connector.fetch(None)).cursor
    result = await connector.fetch(cursor)
    assert fake.requests[-1]["if-none-match"] == fake.etag
    assert fake.requests[-1]["if-modified-since"] == LAST_MODIFIED
    assert result.mentions == [] and result.cursor == cursor


@pytest.mark.asyncio
async def test_last_modified_alone_is_used_when_there_is_no_etag(connector, fake):
    fake.etag_enabled = False
    cursor = (await connector.fetch(None)).cursor
    assert cursor["etag"] is None
    assert (await connector.fetch(cursor)).mentions == []
    assert "if-none-match" not in fake.requests[-1]


@pytest.mark.asyncio
async def test_changed_feed_emits_only_entries_not_seen_before(connector, fake):
    cursor = (await connector.fetch(None)).cursor
    fake.publish(RSS_TWO_ITEMS.replace(b"<item>", b"<item><title>Acme weer mis</title><guid>forum-3</guid>"
                                                  b"<pubDate>Sun, 22 Nov 2026 11:00:00 GMT</pubDate></item><item>", 1))
    result = await connector.fetch(cursor)
    assert [m.external_id for m in result.mentions] == ["forum-3"]
    assert result.cursor["etag"] == fake.etag != cursor["etag"]
    assert result.cursor["seen"][:3] == ["forum-3", "forum-1", "forum-2"]


@pytest.mark.asyncio
async def test_regenerated_feed_does_not_re_emit_after_a_restart(connector, fake, make_connector):
    cursor = (await connector.fetch(None)).cursor
    fake.publish(RSS_TWO_ITEMS.replace(b"<channel>", b"<channel><!-- regenerated -->"))  # new ETag only
    assert (await make_connector().fetch(cursor)).mentions == []


@pytest.mark.asyncio
async def test_seen_ids_are_bounded(connector, fake):
    fake.publish(rss([f"<item><title>Acme {i}</title><guid>g{i}</guid></item>" for i in range(SEEN_LIMIT + 100)]))
    result = await connector.fetch(None)
    assert len(result.mentions) == SEEN_LIMIT + 100
    assert len(result.cursor["seen"]) == SEEN_LIMIT


@pytest.mark.asyncio
async def test_backfill_bound_skips_older_entries_for_good(connector, fake):
    result = await connector.fetch(None, since=datetime(2026, 11, 22, 9, 15, tzinfo=UTC))
    assert [m.external_id for m in result.mentions] == ["forum-2"]
    fake.publish(RSS_TWO_ITEMS.replace(b"<channel>", b"<channel><!-- v2 -->"))
    assert (await connector.fetch(result.cursor)).mentions == []  # later polls have no `since`


@pytest.mark.asyncio
async def test_author_is_the_name_never_the_e_mail_address(connector):
    first, second = (await connector.fetch(None)).mentions
    assert first.author == "Jan Klant"
    assert second.author == "Klachtenforum"  # no <author>: the feed speaks
    # The feed's own site stands in for an author page (the customer panel links it).
    assert first.raw["feed_link"] == second.raw["feed_link"] == "https://forum.example.nl/"


@pytest.mark.asyncio
async def test_google_alerts_links_are_unwrapped(connector, fake):
    fake.publish(ATOM_GOOGLE_ALERTS)
    (mention,) = (await connector.fetch(None)).mentions
    assert mention.external_id == "tag:google.com,2013:googlealerts/feed:11111111111111111111"
    assert mention.url == "https://nieuws.example.nl/acme-terugbetaling"
    assert mention.author == "Google Alert - acme"  # the entry's own author is empty
    assert "<b>Acme</b> laat klanten" in mention.html
    assert "onerror" not in mention.html


@pytest.mark.parametrize(("link", "expected"), [
    ("https://www.google.com/url?rct=j&sa=t&url=https://a.example/x%3Fy%3D1&ct=ga", "https://a.example/x?y=1"),
    ("https://www.google.nl/url?q=https://b.example/&sa=U", "https://b.example/"),
    ("https://www.google.com/url?url=javascript:alert(1)", "https://www.google.com/url?url=javascript:alert(1)"),
    ("https://evil.example/url?url=https://a.example/", "https://evil.example/url?url=https://a.example/"),
    ("https://news.example/article", "https://news.example/article"),
])
def test_unwrap_google_link(link, expected):
    assert unwrap_google_link(link) == expected


@pytest.mark.asyncio
async def test_malformed_feed_keeps_what_parsed_and_counts_the_rest(connector, fake):
    fake.publish(RSS_BROKEN)
    result = await connector.fetch(None)
    assert [m.external_id for m in result.mentions] == ["blog-goed"]
    assert result.skipped == 1


@pytest.mark.asyncio
async def test_undated_entries_get_hashed_ids_and_are_not_emitted_twice(connector, fake):
    fake.publish(RSS_UNDATED, last_modified=None)
    first = await connector.fetch(None)
    assert len(first.mentions) == 2 and first.skipped == 1  # the empty <item> has nothing to show
    assert all(m.external_id.startswith("sha256:") and m.posted_at == NOW for m in first.mentions)
    fake.publish(RSS_UNDATED.replace(b"<channel>", b"<channel><!-- v2 -->"), last_modified=None)
    assert (await connector.fetch(first.cursor)).mentions == []


@pytest.mark.asyncio
async def test_follows_a_moved_feed(make_connector):
    assert len((await make_connector("/old-feed").fetch(None)).mentions) == 2


@pytest.mark.asyncio
async def test_follows_at_most_three_redirects(make_connector, fake):
    assert MAX_REDIRECTS == 3
    assert len((await make_connector("/hop/3").fetch(None)).mentions) == 2
    fetched = len(fake.requests)
    with pytest.raises(Redirected, match="RSS feed redirected more than 3 times"):
        await make_connector("/hop/4").fetch(None)
    assert len(fake.requests) == fetched  # the feed itself was never fetched


@pytest.mark.asyncio
async def test_a_feed_on_a_private_address_is_refused_before_anything_is_sent(fake):
    async with OutboundClient() as strict:
        with pytest.raises(NotAllowed, match=r"refused to connect to 127.0.0.1"):
            await RssConnector({"name": "forum", "kind": "rss", "url": fake.base_url + "/old-feed"}, strict).fetch(None)
    assert fake.requests == []


@pytest.mark.asyncio
async def test_a_feed_larger_than_the_cap_fails_the_fetch():
    async with hostile(bomb()) as server, OutboundClient(allow_private_networks=True) as http:
        with pytest.raises(TooLarge, match="RSS feed: the server sent more than 10 MB"):
            await RssConnector({"name": "forum", "kind": "rss", "url": server.url + "/feed.xml"}, http).fetch(None)
