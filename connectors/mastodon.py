"""Mastodon: hashtag timelines, the brand account's mention notifications, an optional keyword
search, and the brand's own posts (so a reply made in the Mastodon app closes its mention).

API: https://docs.joinmastodon.org/methods/timelines/#tag,
https://docs.joinmastodon.org/methods/notifications/#get, https://docs.joinmastodon.org/methods/search/#v2,
https://docs.joinmastodon.org/methods/statuses/#create. Every stream pages forward with `min_id`
(ids are strings); the cursor keeps one id per stream. Posts are identified by `uri`, which is
the same on every server, while `id` is only valid on the brand's own server (kept in `raw`).
"""
from __future__ import annotations

import html
import re
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import quote, urlsplit

import grapheme
import httpx

from connectors.base import (
    PRIVATE_VISIBILITIES,
    Capabilities,
    ConnectorError,
    FetchResult,
    KnownPost,
    NewMention,
    PostedReply,
    ReplyNotAllowed,
    ReplyRequest,
)
from connectors.http import QuotaGuard, json_body, parse_timestamp, raise_for_status, send, utcnow
from connectors.mastodon_config import MastodonConfig, MastodonOptions
from connectors.mastodon_stream import MastodonListener
from connectors.streaming import StreamBatch, StreamSettings

TEXT_LIMIT = 500
PAGE_SIZE = 40  # the maximum for timelines and search
NOTIFICATIONS_PAGE_SIZE = 80  # notifications allow twice as many: half the requests in a backlog
PARENT_CACHE_SIZE = 2000  # id -> uri of answered posts, so threads cost one look-up each
# Re-checked per run: one request on Mastodon 4.3+ (GET /api/v1/statuses?id[]=), one per post
# on older servers, where 20 a run stays far below 300 requests / 5 minutes.
VERIFY_BATCH = 20
AUTH_HINT = "check token_env (a token of the brand account with read and write:statuses scopes)"


@dataclass(frozen=True)
class Stream:
    """One paged Mastodon list. `statuses` pulls the statuses out of a page and pairs each
    with the id the list pages by (a notification id for notifications, else the status id)."""

    key: str
    path: str
    params: dict[str, str]
    paged_by_status_id: bool = True  # status ids are snowflakes: a date maps to an id
    page_size: int = PAGE_SIZE

    def statuses(self, body: Any) -> list[tuple[str | None, Any]]:
        if self.key == "notifications":
            return [(_str_or_none(n.get("id")) if isinstance(n, dict) else None,
                     n.get("status") if isinstance(n, dict) else None) for n in _as_list(body)]
        items = body.get("statuses") if self.key == "search" and isinstance(body, dict) else body
        return [(_str_or_none(s.get("id")) if isinstance(s, dict) else None, s) for s in _as_list(items)]


def id_order(value: str) -> tuple[int, str]:
    """Mastodon ids are numeric strings of growing length: "99" < "100"."""
    return len(value), value


def snowflake_for(moment: datetime) -> str:
    """The smallest status id at `moment`: Mastodon ids are milliseconds << 16 (plus a
    sequence), so `min_id` can start a backfill at a date."""
    return str(int(moment.timestamp() * 1000) << 16)


class MastodonConnector:
    kind: ClassVar[str] = "mastodon"
    capabilities: ClassVar[Capabilities] = Capabilities(
        can_reply=True, text_limit=TEXT_LIMIT, credentials=("token_env",), has_idempotency_key=True,
        verify_batch=VERIFY_BATCH)
    options: ClassVar[type[MastodonOptions]] = MastodonOptions
    fills_gaps: ClassVar[bool] = False  # the streaming API cannot replay: REST reads the gaps

    def __init__(self, source: Mapping[str, Any], client: httpx.AsyncClient, *,
                 now: Callable[[], datetime] = utcnow, stream_settings: StreamSettings = StreamSettings()):
        self.config = MastodonConfig.from_source(source)
        self.client = client
        self.now = now
        self._own_id: str | None = None
        self._own_accts = frozenset(self._normal_acct(a) for a in self.config.own_accounts)
        self._parent_uris: OrderedDict[str, str | None] = OrderedDict()
        self._quota = QuotaGuard("Mastodon")
        self._many_at_once: bool | None = None  # GET /api/v1/statuses?id[]=; None: not tried yet
        self._listener = (MastodonListener(self, self.config.stream_transport, stream_settings)
                          if self.config.stream else None)

    # --- fetching ---------------------------------------------------------------------------

    async def fetch(self, cursor: dict[str, Any] | None, *, since: datetime | None = None) -> FetchResult:
        positions = dict((cursor or {}).get("streams") or {})
        if self.config.token and self._own_id is None:
            await self._verify_credentials()
        mentions: list[NewMention] = []
        skipped = 0
        more = False
        for stream in self._streams():
            page, page_skipped, last_id, full = await self._fetch_stream(stream, positions.get(stream.key), since)
            mentions.extend(page)
            skipped += page_skipped
            more = more or full
            if last_id is not None:
                positions[stream.key] = last_id
        mentions = await self._with_parents(mentions)
        if self._listener is not None:  # a `delete` on the stream names a post by its id only
            for mention in mentions:
                self._listener.remember(mention)
        return FetchResult(mentions=mentions, cursor={"streams": positions}, skipped=skipped, more=more)

    @property
    def streaming(self) -> bool:
        return self._listener is not None

    async def listen(self, cursor: dict[str, Any] | None) -> AsyncIterator[StreamBatch]:
        """The streaming API's posts as they come (`stream = true`; connectors/streaming.py).
        The REST cursor is not touched: its batches carry none."""
        if self._listener is None:
            raise ConnectorError("this Mastodon source does not stream (stream = false)")
        if self.config.token and self._own_id is None:
            await self._verify_credentials()
        async for batch in self._listener.listen():
            yield batch

    def _streams(self) -> list[Stream]:
        streams = [Stream(f"tag:{tag}", f"/api/v1/timelines/tag/{quote(tag, safe='')}", {})
                   for tag in self.config.hashtags]
        if self.config.notifications:
            streams.append(Stream("notifications", "/api/v1/notifications", {"types[]": "mention"},
                                  paged_by_status_id=False, page_size=NOTIFICATIONS_PAGE_SIZE))
            if self._own_id:  # the brand's own posts: replies made in the Mastodon app
                streams.append(Stream("own", f"/api/v1/accounts/{self._own_id}/statuses",
                                      {"exclude_reblogs": "true"}))
        if self.config.search:
            streams.append(Stream("search", "/api/v2/search", {"q": self.config.search, "type": "statuses"}))
        return streams

    async def _fetch_stream(self, stream: Stream, last_id: str | None, since: datetime | None
                            ) -> tuple[list[NewMention], int, str | None, bool]:
        params = {**stream.params, "limit": str(stream.page_size)}
        if last_id:
            params["min_id"] = last_id
        elif since is not None and stream.paged_by_status_id:
            params["min_id"] = snowflake_for(since)
        body = await self._get(stream.path, params)
        entries = stream.statuses(body)
        mentions: list[NewMention] = []
        skipped = 0
        for _, status in entries:
            if isinstance(status, dict) and status.get("reblog"):
                continue  # a boost is not a mention; the original arrives on its own
            mention = self._mention(status, stream.key)
            if mention is None:
                skipped += 1
            elif last_id is not None or since is None or mention.posted_at >= since:
                mentions.append(mention)
        # The cursor moves past every entry with an id, malformed ones included: they would
        # otherwise be fetched (and skipped) forever.
        ids = [entry_id for entry_id, _ in entries if entry_id]
        newest = max(ids, key=id_order) if ids else None
        if last_id is not None and newest is not None and id_order(newest) < id_order(last_id):
            newest = last_id
        return mentions, skipped, newest or last_id, len(entries) >= stream.page_size

    def _mention(self, status: Any, stream_key: str) -> NewMention | None:
        """A status as a NewMention, or None when it lacks what a mention needs."""
        if not isinstance(status, dict):
            return None
        account = status.get("account")
        posted_at = parse_timestamp(status.get("created_at"))
        uri, status_id = status.get("uri"), _str_or_none(status.get("id"))
        if not (isinstance(account, dict) and account.get("acct") and posted_at and uri and status_id):
            return None
        acct = self._account_acct(account)
        content = status.get("content") if isinstance(status.get("content"), str) else ""
        if status.get("spoiler_text"):  # the content warning is part of what the customer said
            content = f"<p>{html.escape(str(status['spoiler_text']))}</p>{content}"
        return NewMention(
            external_id=str(uri),
            posted_at=posted_at,
            author=acct,
            html=content,
            author_name=account.get("display_name") or None,
            url=status.get("url") or str(uri),
            language=status.get("language"),
            followers=account.get("followers_count") if isinstance(account.get("followers_count"), int) else None,
            visibility=status.get("visibility"),
            outbound=self._is_own(account, acct),
            edited_at=parse_timestamp(status.get("edited_at")),
            raw={"id": status_id, "in_reply_to_id": _str_or_none(status.get("in_reply_to_id")),
                 "account_id": _str_or_none(account.get("id")), "acct": acct,
                 "visibility": status.get("visibility"), "stream": stream_key},
        )

    async def _with_parents(self, mentions: list[NewMention]) -> list[NewMention]:
        """Fill `in_reply_to` with the answered post's uri (Mastodon only gives its local id)."""
        known = {m.raw["id"]: m.external_id for m in mentions}
        resolved: list[NewMention] = []
        for mention in mentions:
            parent_id = mention.raw.get("in_reply_to_id")
            if not parent_id:
                resolved.append(mention)
                continue
            uri = known.get(parent_id) or await self._parent_uri(parent_id)
            resolved.append(replace(mention, in_reply_to=uri))
        return resolved

    async def _parent_uri(self, status_id: str) -> str | None:
        if status_id in self._parent_uris:
            self._parent_uris.move_to_end(status_id)
            return self._parent_uris[status_id]
        parent = await self._status(status_id)  # None: the mention starts its own thread
        uri = _str_or_none(parent.get("uri")) if isinstance(parent, dict) else None
        self._parent_uris[status_id] = uri
        if len(self._parent_uris) > PARENT_CACHE_SIZE:
            self._parent_uris.popitem(last=False)
        return uri

    async def _status(self, status_id: str) -> Any:
        """One status by its id on our server; None when it answers 404, which Mastodon does
        for a status that was deleted and for one we may not see (private)."""
        response = await self._request("GET", f"/api/v1/statuses/{quote(status_id, safe='')}")
        if response.status_code == 404:
            return None
        raise_for_status(response, channel="Mastodon", now=self.now(), auth_hint=AUTH_HINT)
        return json_body(response, channel="Mastodon")

    # --- re-checking (edits and deletions never show in a timeline) ---------------------------

    async def verify(self, posts: Sequence[KnownPost]) -> list[NewMention]:
        """Look posts up by the local id kept in `raw` (their uri is no key for the API):
        gone → deleted; a newer `edited_at` → edited, with the new text."""
        # Posts not read through this API have no local id to look them up by.
        wanted = [(post, status_id) for post in posts[:VERIFY_BATCH]
                  if (status_id := _str_or_none(post.raw.get("id"))) is not None]
        statuses = await self._visible_statuses([status_id for _, status_id in wanted])
        changes: list[NewMention] = []
        for post, status_id in wanted:
            status = statuses.get(status_id)
            if status is None:
                changes.append(post.gone())
                continue
            fresh = self._mention(status, str(post.raw.get("stream") or "verify"))
            if (fresh and fresh.external_id == post.external_id and fresh.edited_at
                    and (post.edited_at is None or fresh.edited_at > post.edited_at)):
                changes.append(fresh)
        return changes

    async def _visible_statuses(self, status_ids: list[str]) -> dict[str, Any]:
        """The statuses we can still see, by id. Mastodon 4.3+ answers many ids at once,
        leaving out deleted and hidden ones
        (https://docs.joinmastodon.org/methods/statuses/#index); older servers have no such
        route (404), so each status is looked up on its own from then on."""
        if not status_ids:
            return {}
        if self._many_at_once is not False:
            response = await self._request("GET", "/api/v1/statuses",
                                           params=[("id[]", status_id) for status_id in status_ids])
            if response.status_code not in (404, 405):
                raise_for_status(response, channel="Mastodon", now=self.now(), auth_hint=AUTH_HINT)
                self._many_at_once = True
                return {str(status["id"]): status
                        for status in _as_list(json_body(response, channel="Mastodon"))
                        if isinstance(status, dict) and "id" in status}
            self._many_at_once = False
        found = {}
        for status_id in status_ids:
            status = await self._status(status_id)
            if status is not None:
                found[status_id] = status
        return found

    # --- own account ------------------------------------------------------------------------

    async def _verify_credentials(self) -> None:
        account = await self._get("/api/v1/accounts/verify_credentials", {})
        if isinstance(account, dict) and account.get("id"):
            self._own_id = str(account["id"])
            if account.get("acct"):
                self._own_accts = self._own_accts | {self._account_acct(account)}

    def _normal_acct(self, acct: str, host: str | None = None) -> str:
        """`user@host`, lower case: local accounts come without a host."""
        acct = acct.strip().lstrip("@").lower()
        return acct if "@" in acct else f"{acct}@{host or self.config.host}"

    def _account_acct(self, account: Mapping[str, Any]) -> str:
        # A local account's domain is its profile URL's host, which need not be base_url's.
        return self._normal_acct(str(account["acct"]), urlsplit(str(account.get("url") or "")).hostname)

    def _is_own(self, account: Mapping[str, Any], acct: str) -> bool:
        return (self._own_id is not None and _str_or_none(account.get("id")) == self._own_id) or acct in self._own_accts

    # --- replying ---------------------------------------------------------------------------

    async def reply(self, request: ReplyRequest) -> PostedReply:
        """Post `request.text` as a public answer. `request.raw` is the answered mention's
        `raw` (its local id and visibility); without it the post is looked up by uri."""
        if not self.config.token:
            raise ReplyNotAllowed("Mastodon replies need token_env (the brand account's token)")
        target = await self._reply_target(request)
        visibility = target.get("visibility")
        if visibility in PRIVATE_VISIBILITIES:
            raise ReplyNotAllowed(f"this Mastodon post is {visibility}: answer it privately, never in public")
        text = self._addressed(request.text, target.get("acct"))
        if grapheme.length(text) > TEXT_LIMIT:
            raise ReplyNotAllowed(f"reply is {grapheme.length(text)} characters; Mastodon allows {TEXT_LIMIT}")
        response = await self._request(
            "POST", "/api/v1/statuses",
            data={"status": text, "in_reply_to_id": target["id"],
                  "visibility": "unlisted" if visibility == "unlisted" else "public"},
            # Mastodon keeps the key for an hour and answers a repeat with the first status.
            headers={"Idempotency-Key": request.idempotency_key})
        raise_for_status(response, channel="Mastodon", now=self.now(), auth_hint=AUTH_HINT)
        posted = json_body(response, channel="Mastodon")
        if not (isinstance(posted, dict) and posted.get("uri")):
            raise ConnectorError("Mastodon accepted the reply but returned no status uri")
        return PostedReply(external_id=str(posted["uri"]), url=posted.get("url"))

    async def _reply_target(self, request: ReplyRequest) -> dict[str, Any]:
        raw = request.raw or {}
        if raw.get("id") and raw.get("visibility"):
            return {"id": str(raw["id"]), "visibility": raw["visibility"], "acct": raw.get("acct")}
        # Not from our own fetch: ask our server to find (and federate) the post by its uri.
        body = await self._get("/api/v2/search", {"q": request.in_reply_to, "type": "statuses",
                                                  "resolve": "true", "limit": "5"})
        for status in _as_list(body.get("statuses") if isinstance(body, dict) else None):
            if isinstance(status, dict) and status.get("uri") == request.in_reply_to and status.get("id"):
                account = status.get("account") or {}
                return {"id": str(status["id"]), "visibility": status.get("visibility"),
                        "acct": self._account_acct(account) if account.get("acct") else None}
        raise ConnectorError(f"Mastodon server {self.config.host} cannot find {request.in_reply_to} to answer")

    def _addressed(self, text: str, acct: str | None) -> str:
        """Mastodon notifies only accounts named in the text: start with @user@host like its
        apps do (the full form resolves from any server)."""
        if not acct or acct in self._own_accts:
            return text
        user, _, host = acct.partition("@")
        named = re.compile(rf"(?<![\w@])@{re.escape(user)}(@{re.escape(host)})?(?![\w@.-]*\w)", re.IGNORECASE)
        return text if named.search(text) else f"@{acct} {text}"

    # --- HTTP ---------------------------------------------------------------------------------

    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        self._quota.check(self.now())
        headers = dict(kwargs.pop("headers", None) or {})
        if self.config.token:
            headers["Authorization"] = f"Bearer {self.config.token}"
        response = await send(self.client, method, self.config.base_url + path, channel="Mastodon",
                              headers=headers, max_bytes=self.capabilities.max_response_bytes, **kwargs)
        self._quota.note(response, self.now())
        return response

    async def _get(self, path: str, params: Mapping[str, str]) -> Any:
        response = await self._request("GET", path, params=params)
        raise_for_status(response, channel="Mastodon", now=self.now(), auth_hint=AUTH_HINT)
        return json_body(response, channel="Mastodon")


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _str_or_none(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None
