"""A fake Reddit speaking the real protocol, closely enough for the connector's tests.

Shapes follow https://www.reddit.com/dev/api (Listing: {"kind": "Listing", "data": {"after",
"before", "dist", "children": [{"kind": "t3"|"t1", "data": {...}}]}}; /api/comment with
api_type=json: {"json": {"errors": [[code, message, field]], "data": {"things": [...]}}};
without raw_json=1 every text field comes back with &, < and > entity-escaped),
https://github.com/reddit-archive/reddit/wiki/OAuth2 (token endpoint with basic auth; a wrong
password is a 200 with {"error": "invalid_grant"}) and https://github.com/reddit-archive/reddit/wiki/API
(X-Ratelimit-Used/-Remaining/-Reset, the reset in seconds). A comment in a listing carries its
post's `link_id` and `link_author`; GET /api/info?id=t1_…,t3_… (at most 100 fullnames) returns
a Listing of those things, leaving out unknown ones.
"""
from __future__ import annotations

import base64
import html
import itertools
from datetime import timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.support.connectors.conformance import DroppedResponse

CLIENT_ID, CLIENT_SECRET = "client-id-123", "client-secret-456"
BRAND, PASSWORD = "acme_care", "hunter2-but-longer"
USER_AGENT = "server:webcare-monitor-tests:1.0 (by /u/acme_care)"
QUERY, SUB = "acme", "acmesupport"
T0 = 1_795_000_000  # created_utc of the first fake item (late 2026)
_TEXT_FIELDS = ("title", "selftext", "body", "selftext_html", "body_html")


def _base36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = digits[r] + out
    return out or "0"


def render_markdown(source: str) -> str:
    """Reddit's rendering, reduced: paragraphs; HTML the author typed stays escaped."""
    paragraphs = "".join(f"<p>{html.escape(p)}</p>\n" for p in source.split("\n\n") if p)
    return f'<!-- SC_OFF --><div class="md">{paragraphs}</div><!-- SC_ON -->'


class FakeReddit:
    markup = "text"  # FakeChannel: what the channel's posts are written in

    def __init__(self) -> None:
        self.base_url = ""  # set once served
        self.things: list[dict[str, Any]] = []  # every t3/t1, any order
        self.faults: list[Response] = []
        self.remaining = 99.0  # X-Ratelimit-Remaining on every API answer
        self.reset_seconds = 42
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.tokens_issued = 0
        self.token_ttl = 86400
        self.revoked = False
        self.drop_comment_answers = 0  # store the next N comments, then drop the connection
        self.user_comments_status = 200  # the look-up of the brand's comments
        self._ids = itertools.count(36 ** 5)

    # --- controls (FakeChannel) -----------------------------------------------------------

    def add_posts(self, count: int, *, html: str | None = None) -> list[str]:
        # Given markup becomes a link post's whole title: Reddit shows what was typed, verbatim.
        return [self.post(html) if html else self.post(f"Acme klacht {len(self.things)}", selftext="Pakket zoek.")
                for _ in range(count)]

    def add_malformed(self) -> None:
        name = self.post("Acme zonder auteur")
        del self.find(name)["author"], self.find(name)["created_utc"]

    def fail_next(self, status: int, *, reset_in: timedelta | None = None) -> None:
        headers = {"X-Ratelimit-Remaining": "0", "X-Ratelimit-Used": "100",
                   "X-Ratelimit-Reset": str(int(reset_in.total_seconds()))} if reset_in else {}
        self.faults.append(JSONResponse({"message": "Too Many Requests" if status == 429 else "Error",
                                         "error": status}, status_code=status, headers=headers))

    def revoke_credentials(self) -> None:
        self.revoked = True

    # --- content --------------------------------------------------------------------------

    def _new(self, kind: str, created: float | None, author: str, sub: str, **data: Any) -> str:
        short = _base36(next(self._ids))
        name = f"{kind}_{short}"
        created = float(created if created is not None else T0 + len(self.things) * 60)
        self.things.append({"kind": kind, "data": {
            "id": short, "name": name, "author": author, "subreddit": sub, "created_utc": created,
            "created": created, "permalink": f"/r/{sub}/comments/{short}/", "edited": False, **data}})
        return name

    def post(self, title: str, *, selftext: str = "", sub: str = SUB, author: str = "klant1",
             created: float | None = None) -> str:
        return self._new("t3", created, author, sub, title=title, selftext=selftext, is_self=True,
                         selftext_html=render_markdown(selftext) if selftext else None)

    def comment(self, body: str, *, parent: str, sub: str = SUB, author: str = "klant2",
                created: float | None = None) -> str:
        link = parent if parent.startswith("t3_") else self.find(parent)["link_id"]
        return self._new("t1", created, author, sub, body=body, body_html=render_markdown(body),
                         parent_id=parent, link_id=link, link_author=self.find(link)["author"])

    def find(self, name: str) -> dict[str, Any]:
        return next(t["data"] for t in self.things if t["data"]["name"] == name)

    def replies_by(self, author: str, parent: str) -> list[dict[str, Any]]:
        return [t["data"] for t in self.things
                if t["kind"] == "t1" and t["data"].get("author") == author and t["data"]["parent_id"] == parent]

    # --- protocol -------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        return {"X-Ratelimit-Used": str(100 - int(self.remaining)), "X-Ratelimit-Remaining": f"{self.remaining:.1f}",
                "X-Ratelimit-Reset": str(self.reset_seconds)}

    @staticmethod
    def _unauthorised() -> Response:
        return JSONResponse({"message": "Unauthorized", "error": 401}, status_code=401,
                            headers={"www-authenticate": 'Bearer realm="reddit", error="invalid_token"'})

    def _gate(self, request: Request) -> Response | None:
        self.requests.append((request.method, request.url.path, dict(request.query_params)))
        if self.faults:
            return self.faults.pop(0)
        if self.revoked or not request.headers.get("authorization", "").startswith("bearer tok-"):
            return self._unauthorised()
        return None

    async def token(self, request: Request) -> Response:
        self.requests.append(("POST", request.url.path, dict(request.headers)))
        expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if self.revoked or request.headers.get("authorization") != expected:
            return JSONResponse({"message": "Unauthorized", "error": 401}, status_code=401)
        form = await request.form()
        if form.get("grant_type") == "password" and (form.get("username"), form.get("password")) != (BRAND, PASSWORD):
            return JSONResponse({"error": "invalid_grant"})
        self.tokens_issued += 1
        return JSONResponse({"access_token": f"tok-{self.tokens_issued}", "token_type": "bearer",
                             "expires_in": self.token_ttl, "scope": "*"})

    @staticmethod
    def _encode(thing: dict[str, Any], raw_json: bool) -> dict[str, Any]:
        if raw_json:
            return thing
        data = {k: (v.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                    if k in _TEXT_FIELDS and isinstance(v, str) else v) for k, v in thing["data"].items()}
        return {"kind": thing["kind"], "data": data}

    def _listing(self, request: Request, items: list[dict[str, Any]]) -> Response:
        items = sorted(items, key=lambda t: t["data"].get("created_utc", T0), reverse=True)
        limit = min(int(request.query_params.get("limit", 25)), 100)
        start = 0
        if after := request.query_params.get("after"):
            start = next(i for i, t in enumerate(items) if t["data"]["name"] == after) + 1
        page = items[start:start + limit]
        more = start + limit < len(items)
        raw_json = request.query_params.get("raw_json") == "1"
        return JSONResponse({"kind": "Listing", "data": {
            "after": page[-1]["data"]["name"] if more and page else None, "before": None, "dist": len(page),
            "modhash": "", "geo_filter": "", "children": [self._encode(t, raw_json) for t in page]}},
            headers=self._headers())

    async def search(self, request: Request) -> Response:
        if refused := self._gate(request):
            return refused
        q = request.query_params["q"].lower()
        subs = set(request.path_params["subs"].split("+")) if "restrict_sr" in request.query_params else None
        return self._listing(request, [t for t in self.things if t["kind"] == "t3"
                                       and q in (t["data"]["title"] + " " + t["data"]["selftext"]).lower()
                                       and (subs is None or t["data"]["subreddit"] in subs)])

    async def subreddit_comments(self, request: Request) -> Response:
        if refused := self._gate(request):
            return refused
        subs = set(request.path_params["subs"].split("+"))
        return self._listing(request, [t for t in self.things if t["kind"] == "t1" and t["data"]["subreddit"] in subs])

    async def user_comments(self, request: Request) -> Response:
        if refused := self._gate(request):
            return refused
        if self.user_comments_status != 200:
            return JSONResponse({"message": "Internal Server Error", "error": 500},
                                status_code=self.user_comments_status)
        who = request.path_params["name"]
        return self._listing(request, [t for t in self.things if t["kind"] == "t1" and t["data"].get("author") == who])

    async def info(self, request: Request) -> Response:
        if refused := self._gate(request):
            return refused
        names = request.query_params.get("id", "").split(",")
        if len(names) > 100:
            return JSONResponse({"message": "Bad Request", "error": 400}, status_code=400)
        return self._listing(request, [t for t in self.things if t["data"]["name"] in names])

    async def post_comment(self, request: Request) -> Response:
        if refused := self._gate(request):
            return refused
        form = await request.form()
        parent = str(form["thing_id"])
        if len(str(form["text"])) > 10_000:
            return JSONResponse({"json": {"errors": [["TOO_LONG", "this is too long (max: 10000)", "text"]]}})
        name = self.comment(str(form["text"]), parent=parent, author=BRAND, sub=self.find(parent)["subreddit"],
                            created=T0 + 100_000 + len(self.things))
        if self.drop_comment_answers > 0:
            self.drop_comment_answers -= 1
            return DroppedResponse()
        return JSONResponse({"json": {"errors": [], "data": {"things": [{"kind": "t1", "data": self.find(name)}]}}},
                            headers=self._headers())

    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/api/v1/access_token", self.token, methods=["POST"]),
            Route("/api/comment", self.post_comment, methods=["POST"]),
            Route("/search", self.search),
            Route("/r/{subs}/search", self.search),
            Route("/r/{subs}/comments", self.subreddit_comments),
            Route("/user/{name}/comments", self.user_comments),
            Route("/api/info", self.info),
        ])
