"""A fake Bluesky PDS (+ the AppView endpoints it proxies) speaking real XRPC.

Shapes and behaviour follow docs.bsky.app and the atproto lexicons:
- sessions: https://docs.bsky.app/docs/api/com-atproto-server-create-session and
  .../com-atproto-server-refresh-session (refresh token as Bearer); an expired access token is
  `400 {"error": "ExpiredToken"}`, a wrong password `401 {"error": "AuthenticationRequired"}`
- https://docs.bsky.app/docs/api/app-bsky-feed-search-posts (`q`, `sort=latest`, `since`
  inclusive on sortAt, `cursor`, `limit` ≤ 100) and
  https://docs.bsky.app/docs/api/app-bsky-notification-list-notifications (`reasons`, newest first)
- https://docs.bsky.app/docs/api/com-atproto-repo-create-record: app.bsky.feed.post keys must
  be TIDs (https://atproto.com/specs/tid); a create on an existing key is
  `400 {"error": "RecordAlreadyExists"}` (lexicon error since atproto#4728; older PDSes
  answered 500, see `legacy_duplicate_500`)
- https://docs.bsky.app/docs/api/app-bsky-feed-get-posts: `uris` at most 25 (lexicon
  maxLength; more is `400 InvalidRequest`); posts that do not exist (deleted) are left out of
  `posts`. A record rewritten with com.atproto.repo.putRecord keeps its uri and gets a new cid.
- rate limits: https://docs.bsky.app/docs/advanced-guides/rate-limits — `RateLimit-Limit`,
  `-Remaining`, `-Reset` (epoch seconds), `-Policy`; 429 `{"error": "RateLimitExceeded"}`
"""
from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.support.connectors.conformance import DroppedResponse, Fault

IDENTIFIER = "acme.bsky.social"
APP_PASSWORD = "abcd-efgh-ijkl-mnop"
BRAND_DID = "did:plc:acmebrand000000000000000"
QUERY = "acme"
TID_SYNTAX = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class FakeBluesky:
    markup = "text"

    def __init__(self) -> None:
        self.base_url = ""
        self.clock = datetime.now(UTC) - timedelta(hours=2)
        self.posts: dict[str, dict[str, Any]] = {}  # uri -> PostView
        self.notifications: list[dict[str, Any]] = []
        self.records: dict[str, dict[str, Any]] = {}  # our repo: rkey -> {uri, cid, value}
        self.faults: list[Fault] = []
        self.requests: list[tuple[str, str, dict[str, Any]]] = []
        self.asked_reasons: list[list[str]] = []  # `reasons` of each listNotifications call
        self.get_posts_calls: list[list[str]] = []  # `uris` of each getPosts call
        self.sessions_created = 0
        self.refreshes = 0
        self.revoked = False
        self.drop_next_create = False
        self.legacy_duplicate_500 = False
        self._access: set[str] = set()
        self._expired: set[str] = set()
        self._refresh: set[str] = set()
        self._seq = itertools.count(1)
        self.brand = {"did": BRAND_DID, "handle": IDENTIFIER, "displayName": "Acme"}
        self.customers = [{"did": f"did:plc:customer{i:017d}", "handle": f"{name}.bsky.social",
                           "displayName": name.title()}
                          for i, name in enumerate(["anna", "bram", "chen"])]

    # --- controls (FakeChannel) ------------------------------------------------------------------

    def add_posts(self, count: int, *, html: str | None = None) -> list[str]:
        return [self.post(self.customers[i % len(self.customers)], html or f"Waar blijft mijn pakket, {QUERY}?")["uri"]
                for i in range(count)]

    def add_malformed(self) -> None:
        post = self.post(self.customers[0], f"kapot {QUERY}")
        del post["record"]["createdAt"], post["author"]["did"]

    def fail_next(self, status: int, *, reset_in: timedelta | None = None) -> datetime | None:
        reset = datetime.now(UTC) + reset_in if reset_in is not None else None
        headers = {"RateLimit-Remaining": "0", "RateLimit-Reset": str(int(reset.timestamp()))} if reset else {}
        errors = {429: ("RateLimitExceeded", "Rate Limit Exceeded"),
                  500: ("InternalServerError", "Internal Server Error")}
        error, message = errors.get(status, ("Error", "error"))
        self.faults.append(Fault(status, headers, {"error": error, "message": message}))
        return reset

    def revoke_credentials(self) -> None:
        """The app password was revoked: tokens and logins are refused."""
        self.revoked = True
        self._access.clear()
        self._refresh.clear()

    def expire_access_tokens(self) -> None:
        self._expired |= self._access
        self._access.clear()

    # --- content ---------------------------------------------------------------------------------

    def _tick(self) -> datetime:
        self.clock += timedelta(seconds=7)
        return self.clock

    def post(self, author: dict[str, Any], text: str, *, reply_to: dict[str, Any] | None = None,
             rkey: str | None = None) -> dict[str, Any]:
        created = self._tick()
        n = next(self._seq)
        rkey = rkey or f"3l{n:011d}"
        uri = f"at://{author['did']}/app.bsky.feed.post/{rkey}"
        record: dict[str, Any] = {"$type": "app.bsky.feed.post", "text": text, "createdAt": iso(created),
                                  "langs": ["nl"]}
        if reply_to:
            root = reply_to["record"].get("reply", {}).get("root") or {"uri": reply_to["uri"], "cid": reply_to["cid"]}
            record["reply"] = {"root": root, "parent": {"uri": reply_to["uri"], "cid": reply_to["cid"]}}
        view = {"uri": uri, "cid": f"bafyreib{n:052d}", "author": dict(author), "record": record,
                "indexedAt": iso(created), "replyCount": 0, "repostCount": 0, "likeCount": 0, "labels": []}
        self.posts[uri] = view
        return view

    def mention_brand(self, author: dict[str, Any], text: str, *, reason: str = "mention",
                      reply_to: dict[str, Any] | None = None) -> dict[str, Any]:
        view = self.post(author, f"@{IDENTIFIER} {text}", reply_to=reply_to)
        self.notifications.append({"uri": view["uri"], "cid": view["cid"], "author": view["author"],
                                   "reason": reason, "record": view["record"], "isRead": False,
                                   "indexedAt": view["indexedAt"]})
        return view

    def delete(self, uri: str) -> None:
        """The author deletes the post (deleteRecord): gone from the AppView, notifications too."""
        del self.posts[uri]
        self.notifications = [n for n in self.notifications if n["uri"] != uri]

    def edit(self, uri: str, text: str) -> dict[str, Any]:
        """The author rewrites the post record (putRecord): same uri, new text, new cid."""
        view = self.posts[uri]
        view["record"] = {**view["record"], "text": text}
        view["cid"] = f"bafyreib{next(self._seq):052d}"
        return view

    def add_like(self, author: dict[str, Any], subject: dict[str, Any]) -> None:
        """A notification the connector must not ask for (reason `like`)."""
        self.notifications.append({"uri": f"at://{author['did']}/app.bsky.feed.like/{next(self._seq)}",
                                   "cid": "bafylike", "author": author, "reason": "like",
                                   "reasonSubject": subject["uri"],
                                   "record": {"$type": "app.bsky.feed.like"}, "isRead": False,
                                   "indexedAt": iso(self._tick())})

    # --- HTTP -------------------------------------------------------------------------------------

    @staticmethod
    def _sort_at(view: dict[str, Any]) -> str:
        return min(view["record"].get("createdAt") or view["indexedAt"], view["indexedAt"])

    def _json(self, body: Any, status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
        reset = int((datetime.now(UTC) + timedelta(minutes=5)).timestamp())
        rate = {"RateLimit-Limit": "3000", "RateLimit-Remaining": "2999", "RateLimit-Reset": str(reset),
                "RateLimit-Policy": "3000;w=300"}
        return JSONResponse(body, status, headers={**rate, **(headers or {})})

    def _error(self, status: int, error: str, message: str) -> JSONResponse:
        return self._json({"error": error, "message": message}, status)

    def _fault(self, request: Request) -> Response | None:
        self.requests.append((request.method, request.url.path.rsplit("/", 1)[-1], dict(request.query_params)))
        if self.faults:
            fault = self.faults.pop(0)
            return self._json(fault.body, fault.status, fault.headers)
        return None

    def _bearer(self, request: Request) -> str | None:
        header = request.headers.get("authorization", "")
        return header.removeprefix("Bearer ") if header.startswith("Bearer ") else None

    def _authed(self, request: Request) -> Response | None:
        denied = self._fault(request)
        if denied:
            return denied
        token = self._bearer(request)
        if token is None:
            return self._error(401, "AuthMissing", "Authentication Required")
        if token in self._expired:
            return self._error(400, "ExpiredToken", "Token has expired")
        if token not in self._access:
            return self._error(401, "InvalidToken", "Token could not be verified")
        return None

    def _session(self) -> JSONResponse:
        n = next(self._seq)
        access, refresh = f"access-{n}", f"refresh-{n}"
        self._access.add(access)
        self._refresh.add(refresh)
        return self._json({"did": BRAND_DID, "handle": IDENTIFIER, "accessJwt": access, "refreshJwt": refresh,
                           "active": True, "email": "webcare@acme.example"})

    async def create_session(self, request: Request) -> Response:
        denied = self._fault(request)
        if denied:
            return denied
        body = await request.json()
        if self.revoked or body.get("identifier") != IDENTIFIER or body.get("password") != APP_PASSWORD:
            return self._error(401, "AuthenticationRequired", "Invalid identifier or password")
        self.sessions_created += 1
        return self._session()

    async def refresh_session(self, request: Request) -> Response:
        denied = self._fault(request)
        if denied:
            return denied
        token = self._bearer(request)
        if token not in self._refresh:
            return self._error(400, "ExpiredToken", "Token has been revoked")
        self._refresh.discard(token)  # refresh tokens are single use
        self.refreshes += 1
        return self._session()

    async def search_posts(self, request: Request) -> Response:
        denied = self._authed(request)
        if denied:
            return denied
        q = request.query_params.get("q", "").lower()
        since = request.query_params.get("since")
        limit = min(int(request.query_params.get("limit", 25)), 100)
        offset = int(request.query_params.get("cursor") or 0)
        hits = [p for p in self.posts.values() if q in p["record"].get("text", "").lower()
                and (since is None or self._sort_at(p) >= since)]
        hits.sort(key=self._sort_at, reverse=True)
        page = hits[offset:offset + limit]
        body: dict[str, Any] = {"posts": page, "hitsTotal": len(hits)}
        if offset + limit < len(hits):
            body["cursor"] = str(offset + limit)
        return self._json(body)

    async def list_notifications(self, request: Request) -> Response:
        denied = self._authed(request)
        if denied:
            return denied
        reasons = request.query_params.getlist("reasons")
        self.asked_reasons.append(reasons)
        limit = min(int(request.query_params.get("limit", 50)), 100)
        offset = int(request.query_params.get("cursor") or 0)
        items = sorted((n for n in self.notifications if not reasons or n["reason"] in reasons),
                       key=lambda n: n["indexedAt"], reverse=True)
        body: dict[str, Any] = {"notifications": items[offset:offset + limit], "priority": False}
        if offset + limit < len(items):
            body["cursor"] = str(offset + limit)
        return self._json(body)

    async def get_posts(self, request: Request) -> Response:
        denied = self._authed(request)
        if denied:
            return denied
        uris = request.query_params.getlist("uris")
        self.get_posts_calls.append(uris)
        if len(uris) > 25:
            return self._error(400, "InvalidRequest", "Error: uris must not have more than 25 elements")
        return self._json({"posts": [self.posts[u] for u in uris if u in self.posts]})

    async def create_record(self, request: Request) -> Response:
        denied = self._authed(request)
        if denied:
            return denied
        body = await request.json()
        rkey, record = body.get("rkey"), body.get("record") or {}
        if body.get("repo") != BRAND_DID or body.get("collection") != "app.bsky.feed.post":
            return self._error(400, "InvalidRequest", "Invalid repo or collection")
        if not isinstance(rkey, str) or not TID_SYNTAX.match(rkey):
            return self._error(400, "InvalidRequest", f"Invalid record key for app.bsky.feed.post: {rkey}")
        if not isinstance(record.get("text"), str) or not record.get("createdAt"):
            return self._error(400, "InvalidRecord", "Record/text must be a string")
        if rkey in self.records:
            if self.legacy_duplicate_500:
                return self._error(500, "InternalServerError", "Internal Server Error")
            return self._error(400, "RecordAlreadyExists", "Record already exists")
        parent = self.posts.get(((record.get("reply") or {}).get("parent") or {}).get("uri"))
        view = self.post(self.brand, record["text"], reply_to=parent, rkey=rkey)
        view["record"] = record
        self.records[rkey] = {"uri": view["uri"], "cid": view["cid"], "value": record}
        if self.drop_next_create:
            self.drop_next_create = False
            return DroppedResponse()  # stored, but the answer never arrives
        return self._json({"uri": view["uri"], "cid": view["cid"], "validationStatus": "valid"})

    async def get_record(self, request: Request) -> Response:
        denied = self._fault(request)
        if denied:
            return denied
        found = self.records.get(request.query_params.get("rkey", ""))
        if request.query_params.get("repo") != BRAND_DID or found is None:
            return self._error(400, "RecordNotFound", "Could not locate record")
        return self._json(found)

    def app(self) -> Starlette:
        xrpc = "/xrpc/"
        return Starlette(routes=[
            Route(xrpc + "com.atproto.server.createSession", self.create_session, methods=["POST"]),
            Route(xrpc + "com.atproto.server.refreshSession", self.refresh_session, methods=["POST"]),
            Route(xrpc + "app.bsky.feed.searchPosts", self.search_posts),
            Route(xrpc + "app.bsky.notification.listNotifications", self.list_notifications),
            Route(xrpc + "app.bsky.feed.getPosts", self.get_posts),
            Route(xrpc + "com.atproto.repo.createRecord", self.create_record, methods=["POST"]),
            Route(xrpc + "com.atproto.repo.getRecord", self.get_record),
        ])
