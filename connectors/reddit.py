"""Reddit: new posts matching a search, and new comments in the brand's subreddits.

API: https://www.reddit.com/dev/api (listings, /api/comment) and
https://github.com/reddit-archive/reddit/wiki/OAuth2 (tokens). OAuth is required and so is a
descriptive User-Agent ("<platform>:<app id>:<version> (by /u/<name>)"); default agents are
throttled hard. Listings are newest first; we re-read the first page each poll and stop paging
once we reach the stored watermark, because `before=` breaks when its anchor is deleted.
The comments listing brings every comment of the subreddits: only those matching the query,
naming the brand account (u/name) or answering one of its posts or comments are kept.
"""
from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import httpx

from connectors.base import (
    AuthFailed,
    Capabilities,
    ConnectorError,
    FetchResult,
    NewMention,
    PostedReply,
    RateLimited,
    ReplyNotAllowed,
    ReplyRequest,
    Unreadable,
)
from connectors.http import (
    LostAnswer,
    json_body,
    post_without_key,
    quota_reset,
    raise_for_status,
    send,
    utcnow,
)
from connectors.reddit_config import RedditConfig, RedditOptions
from connectors.reddit_query import Comment, compile_query
from connectors.textlength import same_text

WEB_BASE = "https://www.reddit.com"
TEXT_LIMIT = 10_000
PAGE_SIZE = 100
MAX_PAGES = 10  # per listing and poll: 1000 new items a minute would be a different product
OVERLAP = timedelta(minutes=10)  # search results can surface late; re-offer this window
TOKEN_MARGIN = timedelta(seconds=60)  # renew before expiry, never with a request in flight
_FULLNAME = re.compile(r"^t[13]_[0-9a-z]+$")
AUTHOR_CACHE_SIZE = 5000  # fullname -> author, so a thread's parents are looked up once
INFO_MAX = 100  # ids per /api/info call
_WAIT = re.compile(r"(\d+)\s*(second|minute)", re.IGNORECASE)


def thing_to_mention(child: Mapping[str, Any], brand_names: frozenset[str]) -> NewMention:
    """One listing child (t3 post or t1 comment) → NewMention. Raises on a malformed item."""
    kind, data = child["kind"], child["data"]
    fullname = data["name"]
    if not _FULLNAME.match(fullname):
        raise ValueError(f"not a post or comment fullname: {fullname!r}")
    text = _body(kind, data)
    author = data["author"]
    return NewMention(
        external_id=fullname,
        posted_at=datetime.fromtimestamp(float(data["created_utc"]), UTC),
        author=author,
        text=text,
        url=WEB_BASE + data["permalink"] if data.get("permalink") else None,
        in_reply_to=data["parent_id"] if kind == "t1" else None,
        outbound=author.lower() in brand_names,
        edited_at=_edited(data),
        # Deleted by the author, or removed by a moderator: Reddit leaves this placeholder.
        deleted=text.rsplit("\n\n", 1)[-1] in ("[deleted]", "[removed]"),
        raw={"subreddit": data.get("subreddit")},
    )


def _body(kind: str, data: Mapping[str, Any]) -> str:
    """What the customer typed: the markdown source reads as plain text (links stay visible),
    and with raw_json=1 it comes without &amp;-escaping. HTML they typed is words on Reddit."""
    if kind == "t1":
        return data["body"]
    return "\n\n".join(part for part in (data["title"], data.get("selftext") or "") if part)


def _data(child: Any) -> Mapping[str, Any]:
    data = child.get("data") if isinstance(child, Mapping) else None
    return data if isinstance(data, Mapping) else {}


def _created(data: Mapping[str, Any]) -> float | None:
    try:
        return float(data["created_utc"])
    except (KeyError, TypeError, ValueError):
        return None


def _edited(data: Mapping[str, Any]) -> datetime | None:
    edited = data.get("edited")  # False, or when (very old posts: plain True)
    if isinstance(edited, bool) or not isinstance(edited, (int, float)):
        return None
    return datetime.fromtimestamp(float(edited), UTC)


class RedditConnector:
    kind: ClassVar[str] = "reddit"
    capabilities: ClassVar[Capabilities] = Capabilities(
        can_reply=True, text_limit=TEXT_LIMIT, credentials=("client_id_env", "client_secret_env"))
    options: ClassVar[type[RedditOptions]] = RedditOptions

    def __init__(self, source: Mapping[str, Any], client: httpx.AsyncClient, *,
                 now: Callable[[], datetime] = utcnow):
        self.config = RedditConfig.from_source(source)
        self.client = client
        self.now = now
        self._token: str | None = None
        self._token_expires: datetime | None = None
        self._quota_reset: datetime | None = None  # set when X-Ratelimit-Remaining hit 0
        self._matches = compile_query(self.config.query) if self.config.query else None
        brand = "|".join(re.escape(n) for n in sorted(self.config.brand_names))
        self._names_brand = re.compile(rf"(?<![\w/])/?u/(?:{brand})(?![\w-])", re.IGNORECASE) if brand else None
        self._authors: OrderedDict[str, str] = OrderedDict()

    # --- fetching -------------------------------------------------------------------------

    def _listings(self) -> dict[str, tuple[str, dict[str, str]]]:
        """Cursor key → (path, params): the search, and new comments of the subreddits."""
        listings: dict[str, tuple[str, dict[str, str]]] = {}
        subs = "+".join(self.config.subreddits)
        if self.config.query:
            params = {"q": self.config.query, "sort": "new", "type": "link"}
            if subs:
                listings["search"] = (f"/r/{subs}/search", {**params, "restrict_sr": "on"})
            else:
                listings["search"] = ("/search", params)
        if subs:
            listings["comments"] = (f"/r/{subs}/comments", {})
        return listings

    async def fetch(self, cursor: dict[str, Any] | None, *, since: datetime | None = None) -> FetchResult:
        cursor = dict(cursor or {})
        mentions: dict[str, NewMention] = {}
        skipped = 0
        for key, (path, params) in self._listings().items():
            children, cursor[key] = await self._read_listing(path, params, cursor.get(key), since)
            found: list[tuple[NewMention, Mapping[str, Any]]] = []
            for child in children:
                if not isinstance(child, Mapping) or child.get("kind") not in ("t1", "t3"):
                    continue
                try:
                    found.append((thing_to_mention(child, self.config.brand_names), child["data"]))
                except (KeyError, TypeError, ValueError, AttributeError):
                    skipped += 1
            self._remember_authors(m for m, _ in found)
            if key == "comments":
                found = await self._relevant(found)
            for mention, _ in found:
                mentions.setdefault(mention.external_id, mention)
        return FetchResult(mentions=list(mentions.values()), cursor=cursor, skipped=skipped)

    # --- which subreddit comments concern us ------------------------------------------------

    async def _relevant(self, comments: list[tuple[NewMention, Mapping[str, Any]]]
                        ) -> list[tuple[NewMention, Mapping[str, Any]]]:
        """Comments that match the query, name the brand account, answer the brand, are the
        brand's own, or tell of a deletion (the comment may be one we hold)."""
        def speaks_to_us(m: NewMention, data: Mapping[str, Any]) -> bool:
            return (m.outbound or m.deleted or self._matches is None
                    or self._matches(Comment(m.text or "", m.author, str(data.get("subreddit") or "")))
                    or bool(self._names_brand and self._names_brand.search(m.text or "")))

        undecided = {m.external_id: (m, data) for m, data in comments if not speaks_to_us(m, data)}
        if undecided and self.config.brand_names:
            for m, data in undecided.values():  # a comment on a post carries the post's author
                if m.in_reply_to and m.in_reply_to == data.get("link_id") and isinstance(data.get("link_author"), str):
                    self._remember(m.in_reply_to, data["link_author"])
            await self._look_up_authors({m.in_reply_to for m, _ in undecided.values() if m.in_reply_to})
        return [(m, data) for m, data in comments if m.external_id not in undecided
                or self._authors.get(m.in_reply_to or "") in self.config.brand_names]

    def _remember(self, fullname: str, author: str) -> None:
        self._authors[fullname] = author.lower()
        self._authors.move_to_end(fullname)
        if len(self._authors) > AUTHOR_CACHE_SIZE:
            self._authors.popitem(last=False)

    def _remember_authors(self, mentions) -> None:
        for m in mentions:
            self._remember(m.external_id, m.author)

    async def _look_up_authors(self, fullnames: set[str]) -> None:
        """Authors of parents we have not seen, from /api/info (100 ids a call)."""
        unknown = sorted(f for f in fullnames if f not in self._authors and _FULLNAME.match(f))
        for start in range(0, len(unknown), INFO_MAX):
            chunk = unknown[start:start + INFO_MAX]
            children, _ = await self._get_listing("/api/info", {"id": ",".join(chunk), "limit": str(INFO_MAX),
                                                               "raw_json": "1"})
            for child in children:
                data = _data(child)
                if isinstance(data.get("name"), str) and isinstance(data.get("author"), str):
                    self._remember(data["name"], data["author"])
            for fullname in chunk:  # gone or invisible: asked once, then taken as not ours
                if fullname not in self._authors:
                    self._remember(fullname, "")

    async def _read_listing(self, path: str, params: dict[str, str], mark: Mapping[str, Any] | None,
                            since: datetime | None) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        """Children newer than the stored mark (minus OVERLAP), paging back until we reach it.
        Returns them with the new mark: the newest fullname and its created_utc."""
        floor: float | None
        if mark:
            floor, newest_name = float(mark["created_utc"]) - OVERLAP.total_seconds(), mark.get("fullname")
        else:  # first poll: the backfill window, or only the first page
            floor, newest_name = (since.timestamp() if since else None), None
        kept: list[dict[str, Any]] = []
        top = dict(mark) if mark else None
        after = None
        for _ in range(MAX_PAGES):
            children, after = await self._get_listing(path, {**params, "limit": str(PAGE_SIZE), "raw_json": "1",
                                                             **({"after": after} if after else {})})
            reached = floor is None or not children  # no mark and no backfill: the first page only
            for child in children:
                data = _data(child)
                created = _created(data)
                if created is None:
                    kept.append(child)  # malformed: passed on to be counted as skipped
                    continue
                if top is None or created > float(top["created_utc"]):
                    top = {"fullname": data.get("name"), "created_utc": created}
                if floor is not None and created < floor:
                    reached = True
                    continue
                reached = reached or (newest_name is not None and data.get("name") == newest_name)
                kept.append(child)
            if reached or not after:
                break
        return kept, top

    # --- replying -------------------------------------------------------------------------

    async def reply(self, request: ReplyRequest) -> PostedReply:
        if not self.config.can_post:
            raise ReplyNotAllowed("replying on Reddit needs the brand account: set username_env and "
                                  "password_env (a script app)")
        if not _FULLNAME.match(request.in_reply_to):
            raise ReplyNotAllowed(f"cannot reply to {request.in_reply_to!r}: not a Reddit post or comment")
        if len(request.text) > TEXT_LIMIT:
            raise ReplyNotAllowed(f"reply is {len(request.text)} characters; Reddit allows {TEXT_LIMIT}")
        # Reddit has no idempotency key: a lost answer is checked against the brand's comments.
        return await post_without_key(lambda: self._post_comment(request), lambda: self.find_reply(request))

    async def _post_comment(self, request: ReplyRequest) -> PostedReply:
        body = await self._request("POST", "/api/comment", data={
            "api_type": "json", "thing_id": request.in_reply_to, "text": request.text}, unconfirmed=True)
        answer = body.get("json") if isinstance(body, dict) else None
        if not isinstance(answer, dict):
            raise LostAnswer("Reddit answered /api/comment without a result")
        errors = answer.get("errors") or []
        if errors:
            code, message = errors[0][0], errors[0][1] if len(errors[0]) > 1 else ""
            if code == "RATELIMIT":
                raise RateLimited(f"Reddit: {message}", self._ratelimit_retry_at(message))
            raise ConnectorError(f"Reddit refused the reply: {code} {message}".strip())
        return self._posted(answer["data"]["things"][0]["data"])

    async def find_reply(self, request: ReplyRequest) -> PostedReply | None:
        """Our reply among the brand's newest comments (same parent, same text), if it is there."""
        children, _ = await self._get_listing(f"/user/{self.config.username}/comments",
                                              {"sort": "new", "limit": str(PAGE_SIZE), "raw_json": "1"})
        for child in children:
            data = _data(child)
            if data.get("parent_id") == request.in_reply_to and same_text(data.get("body") or "", request.text):
                return self._posted(data)
        return None

    @staticmethod
    def _posted(data: Mapping[str, Any]) -> PostedReply:
        permalink = data.get("permalink")
        return PostedReply(external_id=data["name"], url=WEB_BASE + permalink if permalink else None)

    def _ratelimit_retry_at(self, message: str) -> datetime:
        # "you are doing that too much. try again in 3 minutes." is all Reddit tells.
        match = _WAIT.search(message or "")
        seconds = 60
        if match:
            seconds = int(match.group(1)) * (60 if match.group(2).lower() == "minute" else 1)
        return self.now() + timedelta(seconds=seconds)

    # --- HTTP: token, quota, errors ---------------------------------------------------------

    async def _token_header(self) -> dict[str, str]:
        now = self.now()
        if self._token is None or self._token_expires is None or now >= self._token_expires - TOKEN_MARGIN:
            await self._new_token()
        return {"Authorization": f"bearer {self._token}"}

    async def _new_token(self) -> None:
        form = ({"grant_type": "password", "username": self.config.username, "password": self.config.password}
                if self.config.can_post else {"grant_type": "client_credentials"})
        response = await send(self.client, "POST", f"{self.config.auth_base}/api/v1/access_token",
                              channel="Reddit", data=form, auth=(self.config.client_id, self.config.client_secret),
                              headers={"User-Agent": self.config.user_agent},
                              max_bytes=self.capabilities.max_response_bytes)
        if response.status_code == 401:
            raise AuthFailed("Reddit rejected the client_id/client_secret (401 from /api/v1/access_token)")
        raise_for_status(response, channel="Reddit", now=self.now())
        body = json_body(response, channel="Reddit")
        if not isinstance(body, dict) or "access_token" not in body:
            # A wrong password is a 200 with {"error": "invalid_grant"}.
            error = body.get("error") if isinstance(body, dict) else None
            raise AuthFailed(f"Reddit refused the login: {error or 'no access_token'} "
                             "(check username/password and that the app is a script app)")
        self._token = body["access_token"]
        self._token_expires = self.now() + timedelta(seconds=int(body.get("expires_in", 3600)))

    async def _get_listing(self, path: str, params: dict[str, str]) -> tuple[list[Any], str | None]:
        """A Listing's children and its `after`; anything else is a passing problem."""
        body = await self._request("GET", path, params=params)
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict) or not isinstance(data.get("children"), list):
            raise Unreadable(f"Reddit answered {path} with something that is not a listing")
        return data["children"], data.get("after")

    async def _request(self, method: str, path: str, *, unconfirmed: bool = False, **kwargs: Any) -> dict[str, Any]:
        """One API call with the token, honouring the request quota; a 401 renews the token once
        (tokens can be revoked before they expire)."""
        if self._quota_reset and self.now() < self._quota_reset:
            raise RateLimited("Reddit request quota used up", self._quota_reset)
        for attempt in range(2):
            headers = {"User-Agent": self.config.user_agent, **(await self._token_header())}
            response = await send(self.client, method, self.config.api_base + path, channel="Reddit",
                                  headers=headers, unconfirmed=unconfirmed,
                                  max_bytes=self.capabilities.max_response_bytes, **kwargs)
            self._quota_reset = quota_reset(response, self.now())
            if response.status_code == 401 and attempt == 0:
                self._token = None
                continue
            break
        if response.status_code == 401:
            raise AuthFailed("Reddit answered 401 with a fresh token: check the app's credentials")
        if unconfirmed and response.status_code >= 500:
            raise LostAnswer(f"Reddit answered {response.status_code}")
        raise_for_status(response, channel="Reddit", now=self.now())
        return json_body(response, channel="Reddit")
