"""Request latency per route template (`/api/mentions/{mention_id}`, never the raw path, so a
scan of made-up URLs cannot grow the metric without bound). Event streams are left out: they
last as long as the page is open, and `webcare_sse_clients` counts them instead."""
from __future__ import annotations

import time

from app.core.metrics import REQUEST_SECONDS

UNTIMED = frozenset({"/api/events"})


class RequestTimer:
    """Pure ASGI middleware: from the request's arrival to its last body byte sent."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started, status = time.perf_counter(), 500

        async def noting_status(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, noting_status)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            if route not in UNTIMED:
                REQUEST_SECONDS.labels(scope["method"], route, str(status)).observe(time.perf_counter() - started)
