"""Bluesky: keyword search (`app.bsky.feed.searchPosts`) and the brand account's mention and
reply notifications (`app.bsky.notification.listNotifications`), through one logged-in session.

API: https://docs.bsky.app/docs/api/app-bsky-feed-search-posts,
https://docs.bsky.app/docs/api/app-bsky-notification-list-notifications,
https://docs.bsky.app/docs/api/com-atproto-repo-create-record, https://atproto.com/specs/record-key.
Posts are identified by their at:// uri. Replies are created with a record key derived from
the app's idempotency key, so a retry after a lost answer finds the first record instead of
posting twice.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import grapheme
import httpx
from pydantic import field_validator, model_validator

from connectors.base import (
    Capabilities,
    ConnectorError,
    FetchResult,
    KnownPost,
    NewMention,
    PostedReply,
    ReplyNotAllowed,
    ReplyRequest,
    TemporaryFailure,
    Unreadable,
)
from connectors.bluesky_session import AUTH_HINT, CHANNEL, Session
from connectors.http import (
    http_base_url,
    json_body,
    json_list,
    json_object,
    parse_timestamp,
    raise_for_status,
    utcnow,
    xrpc_error,
)
from connectors.options import EnvName, Flag, OptionalText, SourceOptions, Text, own_accounts, read_options, secret
from connectors.textlength import same_text

DEFAULT_BASE_URL = "https://bsky.social"  # the entryway; it proxies app.bsky.* to the AppView
POST_COLLECTION = "app.bsky.feed.post"
TEXT_LIMIT = 300  # graphemes
PAGE_SIZE = 100  # the maximum for both lists
GET_POSTS_MAX = 25  # uris per app.bsky.feed.getPosts call (the lexicon's maxLength)
VERIFY_BATCH = 4 * GET_POSTS_MAX  # posts re-checked per run: four calls
NOTIFICATION_REASONS = ("mention", "reply")
# searchPosts `since` compares the post's sortAt (about min(createdAt, indexedAt)); posts
# indexed a little late still get in, and the overlap is absorbed by the app's unique key.
SEARCH_OVERLAP = timedelta(minutes=1)


class BlueskyOptions(SourceOptions):
    """`kind = "bluesky"`: the brand account's session (`base_url`: its entryway or PDS)."""

    identifier: Text  # the brand account's handle (a leading "@" is dropped) or DID
    app_password_env: EnvName  # an app password of that account
    query: OptionalText = None  # a keyword search
    notifications: Flag = False  # mentions of and replies to the brand account

    @field_validator("identifier")
    @classmethod
    def _without_at(cls, identifier: str) -> str:
        return identifier.lstrip("@")

    @model_validator(mode="after")
    def _reads_something(self) -> BlueskyOptions:
        if not (self.query or self.notifications):
            raise ValueError("needs query or notifications = true")
        return self


@dataclass(frozen=True)
class BlueskyConfig:
    identifier: str
    app_password: str
    base_url: str = DEFAULT_BASE_URL
    query: str | None = None
    notifications: bool = False
    own_accounts: tuple[str, ...] = ()

    @classmethod
    def from_source(cls, source: Mapping[str, Any]) -> BlueskyConfig:
        options = read_options(BlueskyOptions, source)
        return cls(identifier=options.identifier, app_password=secret(source, "app_password_env", required=True),
                   base_url=http_base_url(source.get("base_url") or DEFAULT_BASE_URL, kind="bluesky"),
                   query=options.query, notifications=options.notifications,
                   own_accounts=tuple(a.lstrip("@").lower() for a in own_accounts(source)))


# --- record keys --------------------------------------------------------------------------------

TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"  # base32-sortable (atproto TID syntax)
_TID_WINDOW_START = int(datetime(2023, 1, 1, tzinfo=UTC).timestamp() * 1_000_000)
_TID_WINDOW = 1 << 45  # microseconds, about 13 months: every derived TID lies in the past


def record_key(idempotency_key: str) -> str:
    """A valid TID (13 base32-sortable characters, top bit 0), the same for the same key.
    app.bsky.feed.post records must be keyed by TIDs; the timestamp part carries no meaning
    here, it only has to be deterministic (55 bits of the key's SHA-256 are kept)."""
    digest = int.from_bytes(hashlib.sha256(idempotency_key.encode()).digest()[:8], "big")
    micros = _TID_WINDOW_START + (digest >> 10) % _TID_WINDOW
    value = (micros << 10) | (digest & 0x3FF)
    return "".join(TID_ALPHABET[(value >> shift) & 31] for shift in range(60, -1, -5))


# --- parsing ---------------------------------------------------------------------------------------

def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def web_url(uri: str, did: str) -> str:
    return f"https://bsky.app/profile/{did}/post/{uri.rsplit('/', 1)[-1]}"


def strong_ref(value: Any) -> dict[str, str] | None:
    if isinstance(value, dict) and isinstance(value.get("uri"), str) and isinstance(value.get("cid"), str):
        return {"uri": value["uri"], "cid": value["cid"]}
    return None


def sort_at(item: Mapping[str, Any]) -> datetime | None:
    """When the post counts as posted: createdAt, but never later than the network saw it
    (a client clock ahead of time must not start an SLA in the future)."""
    created = parse_timestamp((item.get("record") or {}).get("createdAt"))
    indexed = parse_timestamp(item.get("indexedAt"))
    if created is None:
        return None
    return min(created, indexed) if indexed else created


# --- connector --------------------------------------------------------------------------------------

class BlueskyConnector:
    kind: ClassVar[str] = "bluesky"
    capabilities: ClassVar[Capabilities] = Capabilities(
        can_reply=True, text_limit=TEXT_LIMIT, credentials=("app_password_env",), has_idempotency_key=True,
        verify_batch=VERIFY_BATCH)
    options: ClassVar[type[BlueskyOptions]] = BlueskyOptions

    def __init__(self, source: Mapping[str, Any], client: httpx.AsyncClient, *,
                 now: Callable[[], datetime] = utcnow):
        self.config = BlueskyConfig.from_source(source)
        self.now = now
        self.session = Session(client, self.config, now, max_bytes=self.capabilities.max_response_bytes)

    async def fetch(self, cursor: dict[str, Any] | None, *, since: datetime | None = None) -> FetchResult:
        cursor = dict(cursor or {})
        mentions: list[NewMention] = []
        skipped = 0
        more = False
        if self.config.query:
            found, bad, cursor["search"], again = await self._search(cursor.get("search") or {}, since)
            mentions += found
            skipped += bad
            more = more or again
        if self.config.notifications:
            found, bad, cursor["notifications"], again = await self._notifications(cursor.get("notifications") or {},
                                                                                   since)
            mentions += found
            skipped += bad
            more = more or again
        return FetchResult(mentions=mentions, cursor=cursor, skipped=skipped, more=more)

    async def _search(self, state: dict[str, Any], since: datetime | None
                      ) -> tuple[list[NewMention], int, dict[str, Any], bool]:
        """Newest first, paged back with `cursor` down to `since`; when a pass is complete the
        newest sortAt seen becomes the next pass's `since`."""
        lower = state.get("since") or (iso(since) if since else None)
        params: dict[str, Any] = {"q": self.config.query, "sort": "latest", "limit": PAGE_SIZE}
        if lower:
            params["since"] = lower
        if state.get("page"):
            params["cursor"] = state["page"]
        body = await self._get("app.bsky.feed.searchPosts", params)
        posts = json_list(body.get("posts"))
        mentions, skipped = self._mentions(posts)
        times = [t for t in (sort_at(p) for p in posts if isinstance(p, dict)) if t]
        previous = parse_timestamp(state["newest"]) if state.get("newest") else None
        newest = max([*times, *([previous] if previous else [])], default=None)
        # Without a lower bound (first poll, no backfill window) the first page is all we take.
        if body.get("cursor") and posts and lower:
            return mentions, skipped, {"since": lower, "page": body["cursor"],
                                       "newest": iso(newest) if newest else None}, True
        next_since = iso(newest - SEARCH_OVERLAP) if newest else lower
        return mentions, skipped, {"since": next_since, "page": None, "newest": None}, False

    async def _notifications(self, state: dict[str, Any], since: datetime | None
                             ) -> tuple[list[NewMention], int, dict[str, Any], bool]:
        """Newest first; page back until the watermark (the newest notification of the last
        pass) or, on the first poll, until `since`."""
        mark = state.get("watermark")
        floor = parse_timestamp(state.get("floor")) or since
        params: dict[str, Any] = {"reasons": list(NOTIFICATION_REASONS), "limit": PAGE_SIZE}
        if state.get("page"):
            params["cursor"] = state["page"]
        body = await self._get("app.bsky.notification.listNotifications", params)
        items = json_list(body.get("notifications"))
        fresh: list[Any] = []
        reached = False
        for item in items:
            if self._at_or_below(item, mark, floor):
                reached = True
                break
            fresh.append(item)
        mentions, skipped = self._mentions([i for i in fresh if not isinstance(i, dict)
                                            or i.get("reason") in NOTIFICATION_REASONS])
        pending = state.get("pending") or next((w for w in map(_watermark, items) if w), None)
        # Without watermark or floor the first page is the whole backfill.
        keep_paging = not reached and bool(body.get("cursor")) and bool(items) and bool(mark or floor)
        if keep_paging:
            return mentions, skipped, {"watermark": mark, "page": body["cursor"], "pending": pending,
                                       "floor": iso(floor) if floor else None}, True
        return mentions, skipped, {"watermark": pending or mark, "page": None, "pending": None, "floor": None}, False

    @staticmethod
    def _at_or_below(item: Any, mark: Mapping[str, Any] | None, floor: datetime | None) -> bool:
        if not isinstance(item, dict):
            return False
        indexed = parse_timestamp(item.get("indexedAt"))
        if mark:
            mark_time = parse_timestamp(mark.get("indexed_at"))
            if item.get("uri") == mark.get("uri") or (indexed and mark_time and indexed < mark_time):
                return True
        return bool(floor and indexed and indexed < floor)

    def _mentions(self, items: list[Any]) -> tuple[list[NewMention], int]:
        mentions = [self._mention(item) for item in items]
        return [m for m in mentions if m is not None], sum(m is None for m in mentions)

    def _mention(self, item: Any) -> NewMention | None:
        """A PostView or a notification (both carry uri, cid, author, record, indexedAt)."""
        if not isinstance(item, dict):
            return None
        author, record = item.get("author"), item.get("record")
        uri, cid, posted_at = item.get("uri"), item.get("cid"), sort_at(item)
        if not (isinstance(author, dict) and isinstance(record, dict) and isinstance(record.get("text"), str)
                and isinstance(uri, str) and uri.startswith("at://") and isinstance(cid, str)
                and author.get("did") and author.get("handle") and posted_at):
            return None
        reply = json_object(record.get("reply"))
        parent, root = strong_ref(reply.get("parent")), strong_ref(reply.get("root"))
        langs = json_list(record.get("langs"))
        did, handle = str(author["did"]), str(author["handle"]).lower()
        return NewMention(
            external_id=uri,
            posted_at=posted_at,
            author=handle,
            text=record["text"],  # atproto text is plain text; the dashboard escapes it
            author_name=author.get("displayName") or None,
            url=web_url(uri, did),
            language=langs[0] if langs and isinstance(langs[0], str) else None,
            in_reply_to=parent["uri"] if parent else None,
            outbound=self._is_own(did, handle),
            raw={"uri": uri, "cid": cid, "did": did, "handle": handle,
                 "root": root or {"uri": uri, "cid": cid}, "reason": item.get("reason")},
        )

    def _is_own(self, did: str, handle: str) -> bool:
        own = set(self.config.own_accounts) | {self.config.identifier.lower()}
        own |= {x.lower() for x in (self.session.did, self.session.handle) if x}
        return did.lower() in own or handle in own

    # --- re-checking (edits and deletions never show in search or notifications) -----------------

    async def verify(self, posts: Sequence[KnownPost]) -> list[NewMention]:
        """getPosts, 25 uris a call. A uri missing from the answer is deleted (or hidden from
        us: blocked, taken down; either way nobody to answer). A new cid with other text is an
        edit; Bluesky keeps no edit time, so the moment we noticed stands in."""
        posts = list(posts[:VERIFY_BATCH])
        changes: list[NewMention] = []
        for start in range(0, len(posts), GET_POSTS_MAX):
            chunk = posts[start:start + GET_POSTS_MAX]
            body = await self._get("app.bsky.feed.getPosts", {"uris": [p.external_id for p in chunk]})
            if not isinstance(body.get("posts"), list):  # never read "no posts" as "all deleted"
                raise Unreadable(f"{CHANNEL} getPosts answered without a posts list")
            found = {view.get("uri"): view for view in body["posts"] if isinstance(view, dict)}
            for post in chunk:
                view = found.get(post.external_id)
                fresh = self._mention(view) if view is not None else None
                if view is None:
                    changes.append(post.gone())
                elif fresh and fresh.raw["cid"] != post.raw.get("cid") and not same_text(fresh.text or "", post.text):
                    # The new cid goes into `raw` too: a reply must reference this version.
                    raw = {**post.raw, **{k: v for k, v in fresh.raw.items() if v is not None}}
                    changes.append(replace(fresh, edited_at=self.now(), raw=raw))
        return changes

    # --- replying -------------------------------------------------------------------------------

    async def reply(self, request: ReplyRequest) -> PostedReply:
        """Post a reply whose record key is derived from the idempotency key. `request.raw` is
        the answered mention's `raw` (uri, cid, root); without it the post is looked up."""
        length = grapheme.length(request.text)
        if length > TEXT_LIMIT:
            raise ReplyNotAllowed(f"reply is {length} characters; Bluesky allows {TEXT_LIMIT}")
        parent, root = await self._thread_refs(request)
        await self.session.ensure()  # the repo to write to is our DID
        rkey = record_key(request.idempotency_key)
        try:
            response = await self.session.call("POST", "com.atproto.repo.createRecord", json={
                "repo": self.session.did, "collection": POST_COLLECTION, "rkey": rkey,
                "record": {"$type": POST_COLLECTION, "text": request.text, "createdAt": iso(self.now()),
                           "reply": {"root": root, "parent": parent}}})
        except TemporaryFailure:
            return await self._existing(rkey, lost=True)
        if _already_exists(response):
            return await self._existing(rkey, lost=False)
        if response.status_code >= 500:
            # Older PDS versions answer a duplicate rkey with a 500: look before retrying.
            return await self._existing(rkey, lost=True, cause=response)
        raise_for_status(response, channel=CHANNEL, now=self.now(), auth_hint=AUTH_HINT)
        created = json_body(response, channel=CHANNEL)
        assert self.session.did is not None  # signed in: the post above needed the session
        return PostedReply(external_id=created["uri"], url=web_url(created["uri"], self.session.did))

    async def _existing(self, rkey: str, *, lost: bool, cause: httpx.Response | None = None) -> PostedReply:
        """Our record under `rkey`, if the PDS has it. A lost or failed create that did not
        land is a TemporaryFailure: retrying with the same key cannot post twice."""
        uri = f"at://{self.session.did}/{POST_COLLECTION}/{rkey}"
        if lost:
            response = await self.session.call("GET", "com.atproto.repo.getRecord", params={
                "repo": self.session.did, "collection": POST_COLLECTION, "rkey": rkey})
            if xrpc_error(response) == "RecordNotFound" or response.status_code == 404:
                if cause is not None:
                    raise_for_status(cause, channel=CHANNEL, now=self.now())
                raise TemporaryFailure(f"{CHANNEL} reply did not arrive; retrying with the same key is safe")
            raise_for_status(response, channel=CHANNEL, now=self.now(), auth_hint=AUTH_HINT)
        return PostedReply(external_id=uri, url=web_url(uri, self.session.did or ""))

    async def _thread_refs(self, request: ReplyRequest) -> tuple[dict[str, str], dict[str, str]]:
        raw = request.raw or {}
        parent = strong_ref(raw)
        if parent and parent["uri"] == request.in_reply_to:
            return parent, strong_ref(raw.get("root")) or parent
        body = await self._get("app.bsky.feed.getPosts", {"uris": [request.in_reply_to]})
        for post in body.get("posts") or []:
            parent = strong_ref(post)
            if parent and parent["uri"] == request.in_reply_to:
                reply = (post.get("record") or {}).get("reply") or {}
                return parent, strong_ref(reply.get("root")) or parent
        raise ConnectorError(f"{CHANNEL} cannot find {request.in_reply_to} to answer (deleted?)")

    async def _get(self, nsid: str, params: Mapping[str, Any]) -> dict[str, Any]:
        response = await self.session.call("GET", nsid, params=params)
        raise_for_status(response, channel=CHANNEL, now=self.now(), auth_hint=AUTH_HINT)
        body = json_body(response, channel=CHANNEL)
        if not isinstance(body, dict):
            raise Unreadable(f"{CHANNEL} {nsid} answered something other than an object")
        return body


def _watermark(item: Any) -> dict[str, Any] | None:
    if isinstance(item, dict) and isinstance(item.get("uri"), str) and parse_timestamp(item.get("indexedAt")):
        return {"uri": item["uri"], "indexed_at": item["indexedAt"]}
    return None


def _already_exists(response: httpx.Response) -> bool:
    return 400 <= response.status_code < 500 and (
        xrpc_error(response) == "RecordAlreadyExists" or "already exists" in response.text.lower())
