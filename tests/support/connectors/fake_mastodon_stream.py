"""A fake Mastodon server that also speaks the streaming API (https://docs.joinmastodon.org/methods/streaming/).

- `GET /api/v2/instance`: `configuration.urls.streaming` names the streaming server (here the
  same host, as ws://).
- Server-sent events: `GET /api/v1/streaming/hashtag?tag=…` (public) and
  `GET /api/v1/streaming/user/notification` (token required, 401 `{"error": …}` otherwise);
  `text/event-stream` with `event: update|status.update|delete|notification` and `data:` the
  payload (a status or notification as JSON, a delete's bare status id); a `:)` comment on
  connect and a `:thump` comment every `heartbeat_seconds` (15 s on a real server).
- WebSocket: `GET /api/v1/streaming?stream=hashtag&tag=…` (also `access_token=` or the
  Authorization header), more streams by `{"type": "subscribe", "stream": …, "tag": …}`;
  messages `{"stream": ["hashtag", tag], "event": …, "payload": "<JSON text>"}`.
A real streaming server does not replay: what happens while nobody listens is only in the REST
timelines. Controls: `drop_streams()` cuts every open stream mid-way, `silent` stops events and
heartbeats on open streams (a stuck line), `refuse_streams` answers new ones with 503.
"""
from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from tests.support.connectors.fake_mastodon import HOST, TOKEN, FakeMastodon

_CUT = object()  # put on a listener's queue: end that stream now


async def _until(condition: Callable[[], bool], timeout: float) -> None:
    async def reached() -> None:
        while not condition():
            await asyncio.sleep(0.01)
    await asyncio.wait_for(reached(), timeout)


class Listener:
    def __init__(self, streams: set[tuple[str, str | None]]):
        self.streams = streams
        self.queue: asyncio.Queue[Any] = asyncio.Queue()

    def wants(self, stream: str, tag: str | None) -> bool:
        return (stream, tag) in self.streams


class FakeMastodonStreaming(FakeMastodon):
    def __init__(self) -> None:
        super().__init__()
        self.listeners: list[Listener] = []
        self.heartbeat_seconds = 15.0
        self.silent = False
        self.refuse_streams = False
        self.stream_connections: list[str] = []  # "sse:hashtag", "ws", … per connection opened

    # --- controls -----------------------------------------------------------------------------

    def drop_streams(self) -> None:
        for listener in self.listeners:
            listener.queue.put_nowait(_CUT)

    async def wait_for_listeners(self, count: int, timeout: float = 10.0) -> None:
        await _until(lambda: len(self.listeners) >= count, timeout)

    async def wait_for_streams(self, *streams: tuple[str, str | None], timeout: float = 10.0) -> None:
        """Until the listeners between them take every one of `streams` (a WebSocket client
        subscribes to its second stream by a message after the socket is open)."""
        await _until(lambda: set(streams) <= {s for listener in self.listeners for s in listener.streams}, timeout)

    # --- what the streams carry ----------------------------------------------------------------

    def post(self, account, content, *, tags=(), visibility="public", in_reply_to=None, spoiler_text=""):
        status = super().post(account, content, tags=tags, visibility=visibility, in_reply_to=in_reply_to,
                              spoiler_text=spoiler_text)
        if visibility == "public":
            for tag in tags:
                self._publish("hashtag", tag, "update", json.dumps(status))
        return status

    def mention_brand(self, account, text, *, visibility="public", in_reply_to=None):
        status = super().mention_brand(account, text, visibility=visibility, in_reply_to=in_reply_to)
        self._publish("user:notification", None, "notification", json.dumps(self.notifications[-1]))
        return status

    def delete(self, uri: str) -> None:
        status = self._by_uri(uri)
        super().delete(uri)
        for tag in [t["name"] for t in status["tags"]] or [None]:
            self._publish("hashtag", tag, "delete", status["id"])

    def edit(self, uri: str, text: str) -> dict[str, Any]:
        status = super().edit(uri, text)
        for tag in [t["name"] for t in status["tags"]]:
            self._publish("hashtag", tag, "status.update", json.dumps(status))
        return status

    def _publish(self, stream: str, tag: str | None, event: str, payload: str) -> None:
        for listener in self.listeners:
            if listener.wants(stream, tag) or (event == "delete" and listener.streams):
                listener.queue.put_nowait((stream, tag, event, payload))

    # --- HTTP -----------------------------------------------------------------------------------

    async def instance(self, request: Request) -> Response:
        streaming = self.base_url.replace("http://", "ws://", 1)
        return self._json({"domain": HOST, "version": "4.3.0",
                           "configuration": {"urls": {"streaming": streaming}}})

    def _stream_refusal(self, token: str | None, *, auth_required: bool) -> tuple[int, str] | None:
        if self.refuse_streams:
            return 503, "Service Unavailable"
        if (auth_required or token is not None) and (self.revoked or token != TOKEN):
            return 401, "Error: Invalid access token"
        return None

    async def sse(self, request: Request) -> Response:
        notifications = request.url.path.endswith("/user/notification")
        header = request.headers.get("authorization", "")
        token = header.removeprefix("Bearer ") if header else None
        refused = self._stream_refusal(token, auth_required=notifications)
        if refused:
            return self._json({"error": refused[1]}, refused[0])
        stream = ("user:notification", None) if notifications else ("hashtag", request.query_params.get("tag"))
        listener = Listener({stream})
        self.listeners.append(listener)
        self.stream_connections.append(f"sse:{stream[0]}")

        async def body():
            try:
                yield ":)\n\n"
                while True:
                    try:
                        item = await asyncio.wait_for(listener.queue.get(), self.heartbeat_seconds)
                    except TimeoutError:
                        if not self.silent:
                            yield ":thump\n\n"
                        continue
                    if item is _CUT:
                        return
                    if not self.silent:
                        _, _, event, payload = item
                        yield f"event: {event}\ndata: {payload}\n\n"
            finally:
                self.listeners.remove(listener)

        return StreamingResponse(body(), media_type="text/event-stream")

    async def websocket(self, ws: WebSocket) -> None:
        header = ws.headers.get("authorization", "")
        token = ws.query_params.get("access_token") or (header.removeprefix("Bearer ") if header else None)
        first = ws.query_params.get("stream")
        refused = self._stream_refusal(token, auth_required=first == "user:notification")
        if refused:
            await ws.close(code=4000 + refused[0] % 1000 if refused[0] != 503 else 1013)
            return
        await ws.accept()
        listener = Listener({(first, ws.query_params.get("tag"))} if first else set())
        self.listeners.append(listener)
        self.stream_connections.append("ws")

        async def subscriptions() -> None:
            while True:
                message = json.loads(await ws.receive_text())
                if message.get("type") == "subscribe":
                    listener.streams.add((message["stream"], message.get("tag")))

        reader = asyncio.create_task(subscriptions())
        try:
            while True:
                getter = asyncio.create_task(listener.queue.get())
                done, _ = await asyncio.wait({getter, reader}, return_when=asyncio.FIRST_COMPLETED)
                if reader in done:
                    getter.cancel()
                    return
                item = getter.result()
                if item is _CUT:
                    await ws.close(code=1001)
                    return
                if not self.silent:
                    stream, tag, event, payload = item
                    await ws.send_text(json.dumps({"stream": [stream, tag] if tag else [stream],
                                                   "event": event, "payload": payload}))
        except WebSocketDisconnect:
            pass
        finally:
            reader.cancel()
            self.listeners.remove(listener)

    def app(self) -> Starlette:
        app = super().app()
        app.router.routes.extend([
            Route("/api/v2/instance", self.instance),
            Route("/api/v1/streaming/hashtag", self.sse),
            Route("/api/v1/streaming/user/notification", self.sse),
            WebSocketRoute("/api/v1/streaming", self.websocket),
        ])
        return app
