"""RSS 2.0 and Atom feeds (including Google Alerts) as a read-only channel.

We fetch the bytes ourselves with conditional headers and hand them to feedparser, which only
parses: it must never fetch. Feeds carry no reliable order or dates, so the cursor
remembers the ids it has already passed on as well as the validators for the next request.
"""
from __future__ import annotations

import hashlib
import html
import io
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import parse_qs, urljoin, urlsplit

import feedparser
import httpx
from pydantic import field_validator

from connectors.base import Capabilities, FetchResult, NewMention, PostedReply, ReplyNotAllowed, ReplyRequest
from connectors.http import raise_for_status, send, utcnow
from connectors.options import SourceOptions, Text, read_options

SEEN_LIMIT = 500  # ids remembered across polls; a feed rarely keeps more entries than this
MAX_REDIRECTS = 3  # a moved feed is followed this many hops, each under the address policy
# Opening tags of entries, to count the ones a broken feed lost (feedparser only reports what
# it could parse). `<atom:entry` and friends count too.
_ENTRY_TAG = re.compile(rb"<(?:[\w-]+:)?(?:item|entry)[\s>/]")


class RssOptions(SourceOptions):
    """`kind = "rss"`: one RSS or Atom feed (Google Alerts too)."""

    url: Text

    @field_validator("url")
    @classmethod
    def _web_address(cls, url: str) -> str:
        if urlsplit(url).scheme not in ("http", "https"):
            raise ValueError(f"must be an http(s) URL, not {url!r}")
        return url


@dataclass(frozen=True)
class RssConfig:
    url: str

    @classmethod
    def from_source(cls, source: Mapping[str, Any]) -> RssConfig:
        return cls(url=read_options(RssOptions, source).url)


def unwrap_google_link(link: str) -> str:
    """Google Alerts wraps every link as https://www.google.com/url?...&url=REAL&...;
    responders need the real page. Only an http(s) target is unwrapped."""
    parts = urlsplit(link)
    host = parts.hostname or ""
    if parts.path != "/url" or not (host == "google.com" or host.startswith(("www.google.", "google."))):
        return link
    query = parse_qs(parts.query)
    for key in ("url", "q"):
        target = (query.get(key) or [""])[0]
        if urlsplit(target).scheme in ("http", "https"):
            return target
    return link


def _struct_to_utc(value: time.struct_time | None) -> datetime | None:
    # feedparser normalises every date it understands to a UTC struct_time.
    return datetime(*value[:6], tzinfo=UTC) if value else None


def entry_date(entry: Mapping[str, Any]) -> datetime | None:
    return _struct_to_utc(entry.get("published_parsed") or entry.get("updated_parsed"))


def entry_id(entry: Mapping[str, Any]) -> str | None:
    """`<id>`/`<guid>`, else a stable hash of link + title + date. None without a link either:
    a bare title is no identity (and in a broken feed it is usually a cut-off fragment)."""
    if entry.get("id"):
        return str(entry["id"])
    link, title = entry.get("link") or "", entry.get("title") or ""
    date = entry.get("published") or entry.get("updated") or ""
    if not link:
        return None
    return "sha256:" + hashlib.sha256("\n".join((link, title, date)).encode()).hexdigest()


def _as_html(detail: Mapping[str, Any] | None, value: str) -> str:
    is_html = bool(detail and "html" in (detail.get("type") or ""))
    return value if is_html else html.escape(value)


def entry_body(entry: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(text, html): the title and the content (or summary). When any part is HTML the whole
    is passed as `html`, so ingest sanitises it in its one place; otherwise plain `text`."""
    parts: list[tuple[Mapping[str, Any] | None, str]] = []
    if entry.get("title"):
        parts.append((entry.get("title_detail"), entry["title"]))
    content = entry.get("content") or []
    if content and content[0].get("value"):
        parts.append((content[0], content[0]["value"]))
    elif entry.get("summary") and entry.get("summary") != entry.get("title"):
        parts.append((entry.get("summary_detail"), entry["summary"]))
    if not parts:
        return None, None
    if any(detail and "html" in (detail.get("type") or "") for detail, _ in parts):
        return None, "".join(f"<p>{_as_html(detail, value)}</p>" for detail, value in parts)
    return "\n\n".join(value for _, value in parts), None


class RssConnector:
    kind: ClassVar[str] = "rss"
    capabilities: ClassVar[Capabilities] = Capabilities(can_reply=False, text_limit=None)
    options: ClassVar[type[RssOptions]] = RssOptions

    def __init__(self, source: Mapping[str, Any], client: httpx.AsyncClient, *,
                 now: Callable[[], datetime] = utcnow):
        self.config = RssConfig.from_source(source)
        self.client = client
        self.now = now

    async def fetch(self, cursor: dict[str, Any] | None, *, since: datetime | None = None) -> FetchResult:
        cursor = cursor or {}
        response = await send(self.client, "GET", self.config.url, channel="RSS feed",
                              headers=self._conditional_headers(cursor), redirects=MAX_REDIRECTS,
                              max_bytes=self.capabilities.max_response_bytes)
        if response.status_code == 304:
            return FetchResult(mentions=[], cursor=cursor)
        raise_for_status(response, channel="RSS feed", now=self.now())
        # No content-location: feedparser would then resolve relative guids into URLs and an
        # entry's id would change with the feed's address. Links are resolved below instead.
        parsed = feedparser.parse(io.BytesIO(response.content), response_headers={
            "content-type": response.headers.get("content-type", "application/xml")})
        seen = list(cursor.get("seen") or [])
        mentions, current_ids, skipped = self._mentions(parsed, str(response.url), set(seen), since)
        skipped += self._lost_entries(parsed, response.content)
        # Every entry now in the feed was passed on or deliberately passed over (older than
        # the backfill): remember them all, newest feed first, so none surfaces later.
        current = set(current_ids)
        return FetchResult(mentions=mentions, skipped=skipped, cursor={
            "etag": response.headers.get("etag") or cursor.get("etag"),
            "last_modified": response.headers.get("last-modified") or cursor.get("last_modified"),
            "seen": (current_ids + [i for i in seen if i not in current])[:SEEN_LIMIT]})

    @staticmethod
    def _conditional_headers(cursor: Mapping[str, Any]) -> dict[str, str]:
        headers = {"Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5"}
        if cursor.get("etag"):
            headers["If-None-Match"] = cursor["etag"]
        if cursor.get("last_modified"):
            headers["If-Modified-Since"] = cursor["last_modified"]
        return headers

    def _mentions(self, parsed: Any, feed_url: str, seen: set[str], since: datetime | None
                  ) -> tuple[list[NewMention], list[str], int]:
        """New mentions, the ids of every usable entry in the feed, and how many were unusable."""
        feed_title = parsed.feed.get("title") or urlsplit(self.config.url).hostname or "feed"
        language = parsed.feed.get("language")
        # The feed's own site: an entry's author has no page of their own to link to.
        site = parsed.feed.get("link")
        feed_link = unwrap_google_link(urljoin(feed_url, site)) if isinstance(site, str) and site else None
        mentions: list[NewMention] = []
        ids: list[str] = []
        skipped = 0
        for entry in parsed.entries:
            external_id = entry_id(entry)
            text, markup = entry_body(entry)
            if external_id is None or (text is None and markup is None):
                skipped += 1
                continue
            if external_id in seen or external_id in ids:
                continue
            ids.append(external_id)
            posted_at = entry_date(entry)
            if since is not None and posted_at is not None and posted_at < since:
                continue
            link = entry.get("link")
            mentions.append(NewMention(
                external_id=external_id,
                # An undated entry counts from when we first saw it; `seen` keeps it from
                # coming back as new on every poll.
                posted_at=posted_at or self.now(),
                # The name, never the e-mail address RSS puts in <author>.
                author=(entry.get("author_detail") or {}).get("name") or feed_title,
                text=text, html=markup,
                url=unwrap_google_link(urljoin(feed_url, link)) if link else None,
                language=language,
                raw={"feed": feed_title, "feed_link": feed_link},
            ))
        return mentions, ids, skipped

    @staticmethod
    def _lost_entries(parsed: Any, content: bytes) -> int:
        """A malformed (`bozo`) feed keeps what parsed; the entries it lost are counted."""
        if not parsed.get("bozo"):
            return 0
        return max(0, len(_ENTRY_TAG.findall(content)) - len(parsed.entries))

    async def reply(self, request: ReplyRequest) -> PostedReply:
        raise ReplyNotAllowed("an RSS feed cannot be answered; reply on the linked page and record it")
