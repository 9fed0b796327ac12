"""A fake X API v2 speaking the real protocol, closely enough for the connector's tests.

Shapes follow https://docs.x.com/x-api/posts/search-recent-posts ({"data": [...], "includes":
{"users": [...]}, "meta": {"newest_id", "oldest_id", "result_count", "next_token"}}; no "data"
when nothing matched; only the requested tweet.fields come back, plus id, text and
edit_history_tweet_ids), https://docs.x.com/x-api/posts/create-post (201 {"data": {"id",
"text"}}; 403 for duplicate content), https://docs.x.com/x-api/users/get-posts and
https://docs.x.com/x-api/fundamentals/rate-limits (x-rate-limit-limit/-remaining/-reset, the
reset in epoch seconds; errors as RFC 7807-style problems {"title", "detail", "type", "status"}).
"""
from __future__ import annotations

import html
import itertools
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.support.connectors.conformance import DroppedResponse

BEARER = "AAAAAAAAAAAAAAAAAAAAAtest-bearer-token"
BRAND_ID = "1500000000000000001"
T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
RESET_EPOCH = int(datetime(2026, 11, 22, 12, 15, tzinfo=UTC).timestamp())
_URL = re.compile(r"https?://\S+")


def problem(status: int, title: str, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"title": title, "detail": detail, "type": "about:blank", "status": status},
                        status_code=status, media_type="application/problem+json", headers=headers)


def invalid_parameter(name: str, value: str, message: str) -> JSONResponse:
    return JSONResponse({"errors": [{"parameters": {name: [value]}, "message": message}],
                         "title": "Invalid Request", "detail": "One or more parameters to your request was invalid.",
                         "type": "https://api.twitter.com/2/problems/invalid-request"}, status_code=400)


def escape_text(text: str) -> str:
    """How X serves a post's text: only &, < and > are escaped."""
    return html.escape(text, quote=False)


class FakeX:
    markup = "text"  # FakeChannel: what the channel's posts are written in

    def __init__(self) -> None:
        self.base_url = ""  # set once served
        self.tweets: list[dict[str, Any]] = []  # full objects; ids ascend with time
        self.users: dict[str, dict[str, Any]] = {}
        self.faults: list[Response] = []
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.revoked = False
        self.drop_post_answers = 0  # store the next N posts, then drop the connection
        self.timeline_status = 200  # the look-up of the brand's posts
        self.oldest_since_id = 0  # a smaller since_id lies outside the 7-day window: 400
        self.token_generation = 0  # bumped to expire every paging token handed out
        self._ids = itertools.count(1_861_000_000_000_000_000)
        self.user(BRAND_ID, "AcmeCare", "Acme Klantenservice", followers=12000)

    # --- controls (FakeChannel) -----------------------------------------------------------

    def add_posts(self, count: int, *, html: str | None = None) -> list[str]:
        # X posts are plain text, served with &, < and > escaped.
        text = escape_text(html) if html else "acme, waar blijft mijn pakket?"
        return [self.tweet(text) for _ in range(count)]

    def add_malformed(self) -> None:
        tweet = self.find(self.tweet("acme kapot"))
        del tweet["created_at"], tweet["author_id"]

    def fail_next(self, status: int, *, reset_in: timedelta | None = None) -> None:
        headers = {}
        if reset_in is not None:  # epoch seconds, from the wall clock as X's servers do
            reset = datetime.now(UTC) + reset_in
            headers = {"x-rate-limit-limit": "450", "x-rate-limit-remaining": "0",
                       "x-rate-limit-reset": str(int(reset.timestamp()))}
        titles = {429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"}
        self.faults.append(problem(status, titles.get(status, "Error"), titles.get(status, "Error"), headers))

    def revoke_credentials(self) -> None:
        self.revoked = True

    # --- building content -----------------------------------------------------------------

    def user(self, user_id: str, username: str, name: str, followers: int = 10) -> str:
        self.users[user_id] = {"id": user_id, "username": username, "name": name,
                               "public_metrics": {"followers_count": followers, "following_count": 1,
                                                  "tweet_count": 5, "listed_count": 0}}
        return user_id

    def tweet(self, text: str, *, author_id: str = "2244994945", minutes: float | None = None,
              lang: str = "nl", in_reply_to: str | None = None) -> str:
        if author_id not in self.users:
            self.user(author_id, f"klant{author_id[-3:]}", f"Klant {author_id[-3:]}")
        tweet_id = str(next(self._ids))
        created = T0 + timedelta(minutes=len(self.tweets) if minutes is None else minutes)
        tweet = {"id": tweet_id, "text": text, "edit_history_tweet_ids": [tweet_id], "author_id": author_id,
                 "created_at": created.strftime("%Y-%m-%dT%H:%M:%S.000Z"), "lang": lang,
                 "conversation_id": tweet_id, "public_metrics": {"retweet_count": 0, "reply_count": 0,
                                                                 "like_count": 0, "quote_count": 0}}
        if in_reply_to:
            tweet["referenced_tweets"] = [{"type": "replied_to", "id": in_reply_to}]
            tweet["conversation_id"] = self.find(in_reply_to)["conversation_id"]
        self.tweets.append(tweet)
        return tweet_id

    def find(self, tweet_id: str) -> dict[str, Any]:
        return next(t for t in self.tweets if t["id"] == tweet_id)

    def replies_by(self, author_id: str, parent: str) -> list[dict[str, Any]]:
        return [t for t in self.tweets if t.get("author_id") == author_id
                and {"type": "replied_to", "id": parent} in t.get("referenced_tweets", [])]

    # --- protocol -------------------------------------------------------------------------

    @staticmethod
    def _headers() -> dict[str, str]:
        return {"x-rate-limit-limit": "450", "x-rate-limit-remaining": "449", "x-rate-limit-reset": str(RESET_EPOCH)}

    @staticmethod
    def _shape(tweet: dict[str, Any], fields: str) -> dict[str, Any]:
        wanted = {"id", "text", "edit_history_tweet_ids", *filter(None, fields.split(","))}
        return {k: v for k, v in tweet.items() if k in wanted}

    def _gate(self, request: Request) -> Response | None:
        self.requests.append((request.method, request.url.path, dict(request.query_params)))
        if self.faults:
            return self.faults.pop(0)
        if self.revoked or request.headers.get("authorization") != f"Bearer {BEARER}":
            return problem(401, "Unauthorized", "Unauthorized")
        return None

    def _page(self, request: Request, matches: list[dict[str, Any]]) -> Response:
        q = request.query_params
        size = int(q.get("max_results", 10))
        if not 10 <= size <= 100:
            return problem(400, "Invalid Request", "The `max_results` query parameter value is not between 10 and 100")
        matches = sorted(matches, key=lambda t: int(t["id"]), reverse=True)
        offset = 0
        if "next_token" in q:
            generation, _, start = q["next_token"].removeprefix("b26v89c19zqg8o3f").partition("x")
            if int(generation) != self.token_generation:
                return invalid_parameter("next_token", q["next_token"], "The `next_token` query parameter value "
                                         f"[{q['next_token']}] is not valid for this request")
            offset = int(start)
        page = matches[offset:offset + size]
        meta: dict[str, Any] = {"result_count": len(page)}
        if page:
            meta |= {"newest_id": page[0]["id"], "oldest_id": page[-1]["id"]}
        if offset + size < len(matches):
            meta["next_token"] = f"b26v89c19zqg8o3f{self.token_generation}x{offset + size}"
        if not page:
            return JSONResponse({"meta": meta}, headers=self._headers())
        body: dict[str, Any] = {"data": [self._shape(t, q.get("tweet.fields", "")) for t in page], "meta": meta}
        if "author_id" in q.get("expansions", ""):
            authors = dict.fromkeys(t["author_id"] for t in page if "author_id" in t)
            user_fields = {"id", "name", "username", *q.get("user.fields", "").split(",")}
            body["includes"] = {"users": [{k: v for k, v in self.users[a].items() if k in user_fields}
                                          for a in authors if a in self.users]}
        return JSONResponse(body, headers=self._headers())

    async def search(self, request: Request) -> Response:
        if refused := self._gate(request):
            return refused
        q = request.query_params
        since_id = int(q.get("since_id", 0))
        if "since_id" in q and since_id < self.oldest_since_id:
            return invalid_parameter("since_id", q["since_id"], f"Invalid 'since_id':'{since_id}'. 'since_id' must "
                                     "be a tweet id created within the last 7 days")
        start = q.get("start_time")
        matches = [t for t in self.tweets if q["query"].lower() in t["text"].lower() and int(t["id"]) > since_id
                   and (start is None or t.get("created_at", start) >= start)]
        return self._page(request, matches)

    async def timeline(self, request: Request) -> Response:
        if refused := self._gate(request):
            return refused
        if self.timeline_status != 200:
            return problem(self.timeline_status, "Service Unavailable", "Service Unavailable")
        return self._page(request, [t for t in self.tweets if t["author_id"] == request.path_params["user_id"]])

    async def create(self, request: Request) -> Response:
        if refused := self._gate(request):
            return refused
        body = await request.json()
        parent = self.find(body["reply"]["in_reply_to_tweet_id"])
        # X prefixes a reply with the @handle it answers and turns links into t.co links.
        text = escape_text(f"@{self.users[parent['author_id']]['username']} "
                           + _URL.sub("https://t.co/abc123XYZ", body["text"]))
        if any(t["author_id"] == BRAND_ID and t["text"] == text for t in self.tweets):
            return problem(403, "Forbidden", "You are not allowed to create a Tweet with duplicate content.")
        tweet_id = self.tweet(text, author_id=BRAND_ID, minutes=10_000 + len(self.tweets), in_reply_to=parent["id"])
        if self.drop_post_answers > 0:
            self.drop_post_answers -= 1
            return DroppedResponse()
        return JSONResponse({"data": {"id": tweet_id, "text": text, "edit_history_tweet_ids": [tweet_id]}},
                            status_code=201, headers=self._headers())

    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/2/tweets/search/recent", self.search),
            Route("/2/users/{user_id}/tweets", self.timeline),
            Route("/2/tweets", self.create, methods=["POST"]),
        ])
