"""X (Twitter) API v2: recent search for the brand's query, replies as the brand account.

API: https://docs.x.com/x-api/posts/search-recent-posts (GET /2/tweets/search/recent),
https://docs.x.com/x-api/posts/create-post (POST /2/tweets),
https://docs.x.com/x-api/users/get-posts (GET /2/users/:id/tweets),
https://docs.x.com/x-api/fundamentals/rate-limits (x-rate-limit-* headers, reset in epoch seconds).

Every post returned is a paid read, so `reads` makes the cost of polling visible. Paging runs
backwards from the newest post; `since_id` may only move once every page is stored, so while
paging the cursor carries the pending next_token and the newest id seen on the first page.
"""
from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import httpx
from pydantic import field_validator

from connectors.base import (
    AuthFailed,
    Capabilities,
    ConnectorError,
    FetchResult,
    NewMention,
    PostedReply,
    ReplyNotAllowed,
    ReplyRequest,
    ReplyUnknown,
    Unreadable,
)
from connectors.http import LostAnswer, http_base_url, json_body, post_without_key, raise_for_status, send, utcnow
from connectors.options import EnvName, OptionalText, SourceOptions, Text, read_options, secret
from connectors.textlength import X_WEIGHTED

API_BASE = "https://api.x.com"
WEB_BASE = "https://x.com"
TEXT_LIMIT = 280
PAGE_SIZE = 100
RECENT_WINDOW = timedelta(days=7) - timedelta(minutes=5)  # recent search refuses older start_time
TWEET_FIELDS = "created_at,lang,conversation_id,referenced_tweets,public_metrics,author_id"
USER_FIELDS = "username,name,public_metrics"
SEARCH_PATH = "/2/tweets/search/recent"
AUTH_HINT = "check bearer_token_env"
_TWEET_ID = re.compile(r"^[0-9]{1,19}$")
_URL = re.compile(r"https?://\S+")
_LEADING_MENTIONS = re.compile(r"^(?:@\w+\s+)+")


class XOptions(SourceOptions):
    """`kind = "x"`: a recent search, read with an app's bearer token."""

    query: Text  # X search syntax
    bearer_token_env: EnvName
    user_id: OptionalText = None  # the brand account: outbound posts, and finding lost replies

    @field_validator("user_id")
    @classmethod
    def _numeric(cls, user_id: str | None) -> str | None:
        if user_id is not None and not _TWEET_ID.match(user_id):
            raise ValueError("the numeric account id, not @handle")
        return user_id


@dataclass(frozen=True)
class XConfig:
    bearer_token: str
    query: str
    user_id: str | None = None
    api_base: str = API_BASE

    @classmethod
    def from_source(cls, source: Mapping[str, Any]) -> XConfig:
        options = read_options(XOptions, source)
        return cls(bearer_token=secret(source, "bearer_token_env", required=True), query=options.query,
                   user_id=options.user_id,
                   api_base=http_base_url(source["base_url"], kind="x") if source.get("base_url") else API_BASE)


def _reply_target(tweet: Mapping[str, Any]) -> str | None:
    for ref in tweet.get("referenced_tweets") or []:
        if ref.get("type") == "replied_to":
            return str(ref["id"])
    return None


def tweet_to_mention(tweet: Mapping[str, Any], users: Mapping[str, Mapping[str, Any]],
                     brand_id: str | None) -> NewMention:
    """One post of a search page → NewMention. Raises on a malformed post."""
    tweet_id, author_id = str(tweet["id"]), str(tweet["author_id"])
    if not _TWEET_ID.match(tweet_id):
        raise ValueError(f"not a post id: {tweet_id!r}")
    user = users.get(author_id) or {}
    username = user.get("username")
    language = tweet.get("lang")
    return NewMention(
        external_id=tweet_id,
        posted_at=datetime.fromisoformat(tweet["created_at"].replace("Z", "+00:00")).astimezone(UTC),
        # A suspended author is missing from `includes`; the id still names them.
        author=username or author_id,
        author_name=user.get("name"),
        text=html.unescape(tweet["text"]),  # v2 escapes &, < and > in its plain text
        url=f"{WEB_BASE}/{username or 'i/web'}/status/{tweet_id}",
        language=None if language in (None, "und", "zxx", "qme", "qst") else language,
        in_reply_to=_reply_target(tweet),
        followers=(user.get("public_metrics") or {}).get("followers_count"),
        outbound=author_id == brand_id,
        raw={"conversation_id": tweet.get("conversation_id"), "public_metrics": tweet.get("public_metrics")},
    )


def _posted(tweet: Mapping[str, Any]) -> PostedReply:
    return PostedReply(external_id=str(tweet["id"]), url=f"{WEB_BASE}/i/web/status/{tweet['id']}")


def refused_parameters(response: httpx.Response) -> set[str]:
    """The query parameters a 400 names: {"errors": [{"parameters": {"since_id": [...]}, ...}]}."""
    try:
        errors = response.json().get("errors") or []
        return {name for error in errors for name in (error.get("parameters") or {})}
    except (ValueError, AttributeError, TypeError):
        return set()


def comparable_text(text: str) -> str:
    """What survives X's rewriting of a posted reply: leading @mentions are added and links
    become t.co links, and the text comes back HTML-escaped."""
    text = _LEADING_MENTIONS.sub("", html.unescape(text).strip())
    return " ".join(_URL.sub("<link>", text).split())


class XConnector:
    kind: ClassVar[str] = "x"
    capabilities: ClassVar[Capabilities] = Capabilities(can_reply=True, text_limit=TEXT_LIMIT,
                                                        credentials=("bearer_token_env",), counter=X_WEIGHTED)
    options: ClassVar[type[XOptions]] = XOptions

    def __init__(self, source: Mapping[str, Any], client: httpx.AsyncClient, *,
                 now: Callable[[], datetime] = utcnow):
        self.config = XConfig.from_source(source)
        self.client = client
        self.now = now

    # --- fetching -------------------------------------------------------------------------

    def _search_params(self, cursor: Mapping[str, Any], since: datetime | None) -> dict[str, str]:
        params = {"query": self.config.query, "max_results": str(PAGE_SIZE), "expansions": "author_id",
                  "tweet.fields": TWEET_FIELDS, "user.fields": USER_FIELDS}
        if cursor.get("since_id"):
            params["since_id"] = cursor["since_id"]
        elif cursor.get("pending_start_time"):
            params["start_time"] = cursor["pending_start_time"]
        elif since is not None:
            params["start_time"] = self._start_time(since)
        if cursor.get("pending_next_token"):
            # Paging must repeat the first page's query: since_id or start_time included.
            params["next_token"] = cursor["pending_next_token"]
        return params

    def _start_time(self, since: datetime) -> str:
        return max(since, self.now() - RECENT_WINDOW).strftime("%Y-%m-%dT%H:%M:%SZ")

    def _recover(self, cursor: dict[str, Any], refused: set[str]) -> dict[str, Any] | None:
        """A cursor X refuses (400) and how to start over. A paging token expires: read again
        from the first page, still after since_id. A since_id older than the 7-day window
        (after a long outage) is refused too: read the whole window. Overlap is absorbed by
        ingest; None when the refusal is about something else."""
        if "next_token" in refused and cursor.get("pending_next_token"):
            return {"since_id": cursor.get("since_id")}
        if "since_id" in refused and cursor.get("since_id"):
            return {"pending_start_time": self._start_time(self.now() - RECENT_WINDOW)}
        return None

    async def fetch(self, cursor: dict[str, Any] | None, *, since: datetime | None = None) -> FetchResult:
        cursor = dict(cursor or {})
        params = self._search_params(cursor, since)
        response = await self._send("GET", SEARCH_PATH, params=params)
        if response.status_code == 400 and (fresh := self._recover(cursor, refused_parameters(response))) is not None:
            cursor, params = fresh, self._search_params(fresh, since)
            response = await self._send("GET", SEARCH_PATH, params=params)
        page = self._json(response)
        tweets = page.get("data") or []
        users = {str(u.get("id")): u for u in (page.get("includes") or {}).get("users") or []}
        mentions, skipped = [], 0
        for tweet in tweets:
            try:
                mentions.append(tweet_to_mention(tweet, users, self.config.user_id))
            except (KeyError, TypeError, ValueError, AttributeError):
                skipped += 1
        meta = page.get("meta") or {}
        newest = cursor.get("pending_newest_id") or meta.get("newest_id")
        if meta.get("next_token"):
            next_cursor = {"since_id": cursor.get("since_id"), "pending_next_token": meta["next_token"],
                           "pending_newest_id": newest,
                           "pending_start_time": params.get("start_time")}
        else:  # last page: every page is stored once this batch is, so since_id may move
            next_cursor = {"since_id": newest or cursor.get("since_id"), "pending_next_token": None,
                           "pending_newest_id": None, "pending_start_time": None}
        return FetchResult(mentions=mentions, cursor=next_cursor, skipped=skipped,
                           more=bool(meta.get("next_token")), reads=len(tweets))

    # --- replying -------------------------------------------------------------------------

    async def reply(self, request: ReplyRequest) -> PostedReply:
        if not _TWEET_ID.match(request.in_reply_to):
            raise ReplyNotAllowed(f"cannot reply to {request.in_reply_to!r}: not an X post id")
        length = X_WEIGHTED.length(request.text)  # X's weighted count: links 23, CJK and emoji 2
        if length > TEXT_LIMIT:
            raise ReplyNotAllowed(f"reply counts {length} characters on X; X allows {TEXT_LIMIT}")
        # X has no idempotency key: a lost answer is checked against the brand's own posts.
        return await post_without_key(lambda: self._post(request), lambda: self.find_reply(request))

    async def _post(self, request: ReplyRequest) -> PostedReply:
        body = {"text": request.text, "reply": {"in_reply_to_tweet_id": request.in_reply_to}}
        response = await self._send("POST", "/2/tweets", json=body, unconfirmed=True)
        if response.status_code == 403 and "duplicate" in response.text.lower():
            return await self._duplicate(request)
        data = self._json(response, unconfirmed=True).get("data") or {}
        if not data.get("id"):
            raise LostAnswer("X answered without the new post's id")
        return _posted(data)

    async def _duplicate(self, request: ReplyRequest) -> PostedReply:
        """X refuses text the account posted recently: our own earlier try of this reply
        (answer lost, the app tries again), or the same words sent to someone else."""
        try:
            found = await self.find_reply(request)
        except ConnectorError as exc:
            raise ReplyUnknown(f"X calls the reply a duplicate and looking for it failed ({exc.reason})") from exc
        if found is None:
            raise ReplyNotAllowed("X refuses text identical to a recent post of the brand: reword the reply")
        return found

    async def find_reply(self, request: ReplyRequest) -> PostedReply | None:
        """Our reply among the brand's newest posts (same parent, same text), if it is there."""
        if not self.config.user_id:
            raise ConnectorError("cannot look for the reply: user_id (the brand account) is not configured")
        page = await self._request("GET", f"/2/users/{self.config.user_id}/tweets", params={
            "max_results": str(PAGE_SIZE), "tweet.fields": "referenced_tweets,created_at"})
        wanted = comparable_text(request.text)
        for tweet in page.get("data") or []:
            if _reply_target(tweet) == request.in_reply_to and comparable_text(tweet.get("text") or "") == wanted:
                return _posted(tweet)
        return None

    # --- HTTP -----------------------------------------------------------------------------

    async def _send(self, method: str, path: str, *, unconfirmed: bool = False, **kwargs: Any) -> httpx.Response:
        return await send(self.client, method, self.config.api_base + path, channel="X",
                          headers={"Authorization": f"Bearer {self.config.bearer_token}"},
                          unconfirmed=unconfirmed, max_bytes=self.capabilities.max_response_bytes, **kwargs)

    def _json(self, response: httpx.Response, *, unconfirmed: bool = False) -> dict[str, Any]:
        if unconfirmed and response.status_code >= 500:
            raise LostAnswer(f"X answered {response.status_code}")
        if unconfirmed and response.status_code == 403:
            raise AuthFailed("X refused to post (403): replying needs a user-context token with tweet.write")
        raise_for_status(response, channel="X", now=self.now(), auth_hint=AUTH_HINT)
        body = json_body(response, channel="X")
        if not isinstance(body, dict):
            raise Unreadable(f"X answered {response.request.url.path} with something that is not an object")
        return body

    async def _request(self, method: str, path: str, *, unconfirmed: bool = False, **kwargs: Any) -> dict[str, Any]:
        return self._json(await self._send(method, path, unconfirmed=unconfirmed, **kwargs), unconfirmed=unconfirmed)
