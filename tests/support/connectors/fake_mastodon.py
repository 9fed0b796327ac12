"""A fake Mastodon server speaking the parts of the real REST API the connector uses.

Shapes and behaviour follow docs.joinmastodon.org:
- entities: https://docs.joinmastodon.org/entities/Status/, /entities/Notification/, /entities/Account/
- paging: https://docs.joinmastodon.org/api/guidelines/#pagination — `min_id` returns the page
  right after that id, still newest first; ids are strings (status ids are snowflakes:
  milliseconds << 16 plus a sequence)
- rate limits: https://docs.joinmastodon.org/api/rate-limits/ — X-RateLimit-Limit/-Remaining/-Reset
  (ISO 8601), 429 when exceeded
- errors: https://docs.joinmastodon.org/entities/Error/ — `{"error": "..."}`; 401 "The access
  token is invalid"; 404 "Record not found"
- posting: https://docs.joinmastodon.org/methods/statuses/#create — `Idempotency-Key` header:
  a repeat within the hour returns the status the first request created.
- viewing: https://docs.joinmastodon.org/methods/statuses/#get — 404 `{"error": "Record not
  found"}` once the status is deleted (its notifications go with it); an edit
  (https://docs.joinmastodon.org/methods/statuses/#edit) changes `content` and sets `edited_at`.
- viewing many (4.3+): https://docs.joinmastodon.org/methods/statuses/#index —
  `GET /api/v1/statuses?id[]=1&id[]=2` gives the statuses that exist and may be seen, fewer
  than asked when some do not; a server before 4.3 has no such route (404).
"""
from __future__ import annotations

import html
import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.support.connectors.conformance import DroppedResponse, Fault

HOST = "social.example"
TOKEN = "brand-token"
TAG = "acme"
PAGE_MAX = {"notifications": 80}  # other lists: 40


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class FakeMastodon:
    markup = "html"

    def __init__(self) -> None:
        self.base_url = ""  # set once served
        self.clock = datetime.now(UTC) - timedelta(hours=2)
        self.statuses: dict[str, dict[str, Any]] = {}
        self.notifications: list[dict[str, Any]] = []
        self.faults: list[Fault] = []
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.idempotency: dict[str, str] = {}  # key -> status id (per token; we have one)
        self.revoked = False
        self.version_4_3 = True  # False: an older server without GET /api/v1/statuses?id[]=
        self.many_lookups: list[list[str]] = []  # the ids of each GET /api/v1/statuses?id[]=
        self.drop_next_post = False  # the next status is stored, then the connection drops
        self.quota_reset: datetime | None = None
        self._seq = itertools.count(1)
        self._notification_ids = itertools.count(98)  # crosses "99" -> "100": ids are not strings to sort
        self.brand = self._account("1", "acme", "Acme Webcare")
        self.customers = [self._account(str(100 + i), name, name.title())
                          for i, name in enumerate(["anna", "bram@other.example", "chen"])]

    # --- controls (FakeChannel) ---------------------------------------------------------------

    def add_posts(self, count: int, *, html: str | None = None) -> list[str]:
        return [self.post(self.customers[i % len(self.customers)], html or f"<p>Waar blijft mijn pakket? #{TAG}</p>",
                          tags=[TAG])["uri"] for i in range(count)]

    def add_malformed(self) -> None:
        status = self.post(self.customers[0], f"<p>kapot #{TAG}</p>", tags=[TAG])
        del status["account"], status["created_at"]

    def fail_next(self, status: int, *, reset_in: timedelta | None = None) -> datetime | None:
        reset = datetime.now(UTC) + reset_in if reset_in is not None else None
        headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": iso(reset)} if reset else {}
        error = {429: "Too many requests", 500: "We're sorry, but something went wrong on our end."}
        self.faults.append(Fault(status, headers, {"error": error.get(status, "error")}))
        return reset

    def revoke_credentials(self) -> None:
        self.revoked = True

    # --- content --------------------------------------------------------------------------------

    def _account(self, account_id: str, acct: str, name: str) -> dict[str, Any]:
        local = acct.split("@")[0]
        host = acct.split("@")[1] if "@" in acct else HOST
        return {"id": account_id, "username": local, "acct": acct, "display_name": name,
                "url": f"https://{host}/@{local}", "followers_count": 42}

    def _tick(self) -> datetime:
        self.clock += timedelta(seconds=7)
        return self.clock

    def post(self, account: dict[str, Any], content: str, *, tags: list[str] = (), visibility: str = "public",
             in_reply_to: dict[str, Any] | None = None, spoiler_text: str = "") -> dict[str, Any]:
        created = self._tick()
        status_id = str((int(created.timestamp() * 1000) << 16) + next(self._seq))
        host = account["url"].split("/")[2]
        status = {
            "id": status_id,
            "uri": f"https://{host}/users/{account['username']}/statuses/{status_id}",
            "url": f"https://{host}/@{account['username']}/{status_id}",
            "created_at": iso(created), "edited_at": None,
            "account": account, "content": content, "spoiler_text": spoiler_text,
            "visibility": visibility, "language": "nl", "reblog": None,
            "in_reply_to_id": in_reply_to["id"] if in_reply_to else None,
            "in_reply_to_account_id": in_reply_to["account"]["id"] if in_reply_to else None,
            "tags": [{"name": t, "url": f"https://{HOST}/tags/{t}"} for t in tags],
            "mentions": [],
        }
        self.statuses[status_id] = status
        return status

    def mention_brand(self, account: dict[str, Any], text: str, *, visibility: str = "public",
                      in_reply_to: dict[str, Any] | None = None) -> dict[str, Any]:
        """A customer post naming @acme: a status plus a `mention` notification for the brand."""
        status = self.post(account, f"<p><span class=\"h-card\"><a href=\"https://{HOST}/@acme\">@acme</a></span> "
                                    f"{html.escape(text)}</p>", visibility=visibility, in_reply_to=in_reply_to)
        status["mentions"] = [{"id": "1", "acct": "acme", "username": "acme", "url": f"https://{HOST}/@acme"}]
        self.notifications.append({"id": str(next(self._notification_ids)), "type": "mention",
                                   "created_at": status["created_at"], "account": account, "status": status})
        return status

    def _by_uri(self, uri: str) -> dict[str, Any]:
        return next(s for s in self.statuses.values() if s["uri"] == uri)

    def delete(self, uri: str) -> None:
        """The author deletes the status: gone from every list and from GET /statuses/:id."""
        status = self.statuses.pop(self._by_uri(uri)["id"])
        self.notifications = [n for n in self.notifications if n["status"] is not status]

    def edit(self, uri: str, text: str) -> dict[str, Any]:
        """The author edits the status (PUT /api/v1/statuses/:id): new content, `edited_at` set."""
        status = self._by_uri(uri)
        status["content"] = f"<p>{html.escape(text)}</p>"
        status["edited_at"] = iso(self._tick())
        return status

    def posts_by(self, account: dict[str, Any]) -> list[dict[str, Any]]:
        return [s for s in self.statuses.values() if s.get("account") is account]

    # --- HTTP -------------------------------------------------------------------------------------

    def spend_quota(self, reset_in: timedelta) -> datetime:
        """Answers go on, but say the 300 requests of this window are used up."""
        self.quota_reset = datetime.now(UTC) + reset_in
        return self.quota_reset

    def _rate_headers(self) -> dict[str, str]:
        if self.quota_reset:
            return {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": iso(self.quota_reset)}
        window_end = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=5)
        return {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "299", "X-RateLimit-Reset": iso(window_end)}

    def _json(self, body: Any, status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
        return JSONResponse(body, status, headers={**self._rate_headers(), **(headers or {})})

    def _gate(self, request: Request, *, auth_required: bool) -> Response | None:
        """Faults first, then the token: a token that is sent is always checked."""
        self.requests.append((request.method, request.url.path, dict(request.query_params)))
        if self.faults:
            fault = self.faults.pop(0)
            return self._json(fault.body, fault.status, fault.headers)
        header = request.headers.get("authorization")
        if header is None and not auth_required:
            return None
        if self.revoked or header != f"Bearer {TOKEN}":
            return self._json({"error": "The access token is invalid"}, 401)
        return None

    @staticmethod
    def _page(items: list[dict[str, Any]], request: Request, default: int = 20,
              maximum: int = 40) -> list[dict[str, Any]]:
        """Mastodon's paging over items with numeric string ids."""
        key = lambda item: int(item["id"])  # noqa: E731
        limit = min(int(request.query_params.get("limit", default)), maximum)
        ordered = sorted(items, key=key)
        if "max_id" in request.query_params:
            ordered = [i for i in ordered if key(i) < int(request.query_params["max_id"])]
        if "min_id" in request.query_params:  # the page right after min_id
            after = [i for i in ordered if key(i) > int(request.query_params["min_id"])]
            return list(reversed(after[:limit]))
        if "since_id" in request.query_params:
            ordered = [i for i in ordered if key(i) > int(request.query_params["since_id"])]
        return list(reversed(ordered[-limit:]))

    async def verify_credentials(self, request: Request) -> Response:
        return self._gate(request, auth_required=True) or self._json({**self.brand, "source": {"privacy": "public"}})

    async def tag_timeline(self, request: Request) -> Response:
        tag = request.path_params["tag"].lower()
        items = [s for s in self.statuses.values() if s["visibility"] == "public"
                 and any(t["name"] == tag for t in s["tags"])]
        return self._gate(request, auth_required=False) or self._json(self._page(items, request))

    async def notifications_list(self, request: Request) -> Response:
        types = request.query_params.getlist("types[]")
        items = [n for n in self.notifications if not types or n["type"] in types]
        return self._gate(request, auth_required=True) or self._json(
            self._page(items, request, default=40, maximum=PAGE_MAX["notifications"]))

    async def account_statuses(self, request: Request) -> Response:
        items = [s for s in self.statuses.values() if s.get("account", {}).get("id") == request.path_params["id"]]
        return self._gate(request, auth_required=False) or self._json(self._page(items, request))

    async def search(self, request: Request) -> Response:
        q = request.query_params.get("q", "")
        hits = [s for s in self.statuses.values() if s["visibility"] == "public"
                and (s["uri"] == q or q.lower() in s.get("content", "").lower())]
        return self._gate(request, auth_required=True) or self._json(
            {"accounts": [], "statuses": self._page(hits, request), "hashtags": []})

    async def get_status(self, request: Request) -> Response:
        status = self.statuses.get(request.path_params["id"])
        denied = self._gate(request, auth_required=False)
        if denied:
            return denied
        return self._json(status) if status else self._json({"error": "Record not found"}, 404)

    async def get_statuses(self, request: Request) -> Response:
        denied = self._gate(request, auth_required=False)
        if denied:
            return denied
        if not self.version_4_3:
            return self._json({"error": "Record not found"}, 404)
        wanted = request.query_params.getlist("id[]")
        self.many_lookups.append(wanted)
        return self._json([self.statuses[i] for i in wanted if i in self.statuses])

    async def create_status(self, request: Request) -> Response:
        denied = self._gate(request, auth_required=True)
        if denied:
            return denied
        form = await request.form()
        key = request.headers.get("idempotency-key")
        if key and key in self.idempotency:  # the same answer as the first time
            return self._json(self.statuses[self.idempotency[key]])
        text = str(form.get("status") or "").strip()
        if not text:
            return self._json({"error": "Validation failed: Text can't be blank"}, 422)
        parent = self.statuses.get(str(form.get("in_reply_to_id") or ""))
        if form.get("in_reply_to_id") and parent is None:
            return self._json({"error": "Record not found"}, 404)
        status = self.post(self.brand, f"<p>{html.escape(text)}</p>", in_reply_to=parent,
                           visibility=str(form.get("visibility") or "public"))
        if key:
            self.idempotency[key] = status["id"]
        if self.drop_next_post:
            self.drop_next_post = False
            return DroppedResponse()  # stored, but the answer never arrives
        return self._json(status)

    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/api/v1/accounts/verify_credentials", self.verify_credentials),
            Route("/api/v1/timelines/tag/{tag}", self.tag_timeline),
            Route("/api/v1/notifications", self.notifications_list),
            Route("/api/v1/accounts/{id}/statuses", self.account_statuses),
            Route("/api/v2/search", self.search),
            Route("/api/v1/statuses/{id}", self.get_status),
            Route("/api/v1/statuses", self.create_status, methods=["POST"]),
            Route("/api/v1/statuses", self.get_statuses, methods=["GET"]),
        ])
