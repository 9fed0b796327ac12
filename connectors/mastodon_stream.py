"""Mastodon's streaming API for a source with `stream = true`: hashtags and, with a token, the
brand account's notifications, live.

API: https://docs.joinmastodon.org/methods/streaming/. The instance says where its streaming
server lives (`GET /api/v2/instance` → `configuration.urls.streaming`, a wss:// URL; the same
host serves server-sent events over https). Two transports, the same events:
- WebSocket `GET /api/v1/streaming?stream=hashtag&tag=…` (more streams by sending
  `{"type": "subscribe", "stream": …}`); each message is `{"stream": [...], "event": …,
  "payload": "<JSON text>"}` (a delete's payload is the bare status id);
- server-sent events, one connection per stream: `GET /api/v1/streaming/hashtag?tag=…`,
  `GET /api/v1/streaming/user/notification`; `event: update|status.update|delete|notification`,
  `data:` the payload; a `:thump` comment every 15 s is the heartbeat.
Events: `update` (a new status), `status.update` (an edit), `delete` (a status id),
`notification` (only its `mention` type matters here). The stream cannot replay: after every
(re)connect the app reads the REST timelines from the stored cursor (see connectors/streaming.py).
"""
from __future__ import annotations

import asyncio
import json
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException

from connectors.addresses import AddressNotAllowed
from connectors.base import AuthFailed, ConnectorError, NewMention, NotAllowed, TemporaryFailure
from connectors.http import json_body, raise_for_status, send
from connectors.streaming import StreamBatch, StreamSettings, batches, json_or_none, sse_events

if TYPE_CHECKING:
    from connectors.mastodon import MastodonConnector

CHANNEL = "Mastodon streaming"
MAX_EVENT_BYTES = 1024 * 1024  # one status is a few KB; a line longer than this is refused
KNOWN_IDS = 5000  # status id → uri of posts passed on, so a `delete` (an id) can name its post


@dataclass(frozen=True)
class Subscription:
    """One stream: its name in the API and its parameter (a hashtag)."""

    stream: str  # "hashtag" | "user:notification"
    tag: str | None = None

    @property
    def key(self) -> str:
        """The REST stream (MastodonConnector._streams) the same posts come from."""
        return f"tag:{self.tag}" if self.tag else "notifications"

    def sse_path(self) -> str:
        return "/api/v1/streaming/hashtag" if self.tag else "/api/v1/streaming/user/notification"

    def params(self) -> dict[str, str]:
        return {"stream": self.stream, **({"tag": self.tag} if self.tag else {})}


class MastodonListener:
    """Holds the streams of one source; `listen` is the connector's `listen`."""

    def __init__(self, connector: MastodonConnector, transport: str, settings: StreamSettings):
        self.connector = connector
        self.transport = transport  # "websocket" | "sse"
        self.settings = settings
        # status id → the post passed on, so that a `delete` (a bare id) can name it
        self.known: OrderedDict[str, NewMention] = OrderedDict()

    def subscriptions(self) -> list[Subscription]:
        config = self.connector.config
        subs = [Subscription("hashtag", tag) for tag in config.hashtags]
        if config.notifications and config.token:
            subs.append(Subscription("user:notification"))
        return subs

    async def listen(self) -> AsyncIterator[StreamBatch]:
        base = await self.streaming_base()
        if self.transport == "websocket":
            # WebSocket pings (every 15 s, 15 s to answer) tell a dead line; Mastodon sends no
            # heartbeat message there, so a quiet hashtag is no reason to reconnect.
            events, settings = self._websocket(base), replace(self.settings, idle_seconds=None)
        else:
            events, settings = self._sse(base), self.settings
        async for batch in batches(events, self._take, settings, channel=CHANNEL):
            yield batch

    # --- where --------------------------------------------------------------------------------

    async def streaming_base(self) -> str:
        """https://host of the streaming server (the instance's `configuration.urls.streaming`;
        the REST host when an older server names none)."""
        connector = self.connector
        response = await send(connector.client, "GET", connector.config.base_url + "/api/v2/instance",
                              channel="Mastodon", max_bytes=connector.capabilities.max_response_bytes,
                              headers=self._auth())
        if response.status_code == 404:
            return connector.config.base_url
        raise_for_status(response, channel="Mastodon")
        body = json_body(response, channel="Mastodon")
        urls = (body.get("configuration") or {}).get("urls") if isinstance(body, dict) else None
        streaming = urls.get("streaming") if isinstance(urls, dict) else None
        if not isinstance(streaming, str) or not streaming:
            return connector.config.base_url
        parts = urlsplit(streaming)
        scheme = {"wss": "https", "ws": "http"}.get(parts.scheme, parts.scheme)
        return urlunsplit((scheme, parts.netloc, parts.path.rstrip("/"), "", ""))

    def _auth(self) -> dict[str, str]:
        token = self.connector.config.token
        return {"Authorization": f"Bearer {token}"} if token else {}

    # --- the transports -------------------------------------------------------------------------

    async def _sse(self, base: str) -> AsyncIterator[tuple[str, Any]]:
        """Every subscription on its own connection, merged; (event, payload text) or ("", None)
        for a heartbeat. The first item is ("connected", None) once every stream answered 200."""
        queue: asyncio.Queue[tuple[str, Any] | BaseException] = asyncio.Queue(maxsize=1000)
        opened = asyncio.Event()
        subs = self.subscriptions()
        ready = 0

        async def pump(sub: Subscription) -> None:
            nonlocal ready
            try:
                async with self.connector.client.stream(
                        "GET", base + sub.sse_path(), params={"tag": sub.tag} if sub.tag else None,
                        headers={**self._auth(), "Accept": "text/event-stream"},
                        timeout=httpx.Timeout(10.0, read=None),
                        extensions={"max_response_bytes": None}) as response:
                    if response.status_code != 200:
                        await response.aread()
                        raise_for_status(response, channel=CHANNEL)
                        raise TemporaryFailure(f"{CHANNEL} answered {response.status_code}")
                    ready += 1
                    if ready == len(subs):
                        opened.set()
                    async for event in sse_events(_lines(response.aiter_bytes())):
                        await queue.put((event.event, event.data))
                raise TemporaryFailure(f"{CHANNEL} closed the stream")
            except AddressNotAllowed as exc:
                await queue.put(NotAllowed(f"{CHANNEL}: {exc}"))
            except ConnectorError as exc:
                await queue.put(exc)
            except (httpx.HTTPError, OSError) as exc:
                await queue.put(TemporaryFailure(f"{CHANNEL} unreachable: {str(exc) or type(exc).__name__}"))

        tasks = [asyncio.create_task(pump(sub)) for sub in subs]
        try:
            waiter = asyncio.create_task(opened.wait())
            first = asyncio.create_task(queue.get())
            done, _ = await asyncio.wait({waiter, first}, return_when=asyncio.FIRST_COMPLETED)
            if first in done and isinstance(failure := first.result(), BaseException):
                waiter.cancel()
                raise failure
            await waiter
            yield "connected", None
            if first.done():
                item = first.result()
            else:
                item = await first
            while True:
                if isinstance(item, BaseException):
                    raise item
                yield item
                item = await queue.get()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _websocket(self, base: str) -> AsyncIterator[tuple[str, Any]]:
        parts = urlsplit(base)
        scheme = {"https": "wss", "http": "ws"}.get(parts.scheme, parts.scheme)
        subs = self.subscriptions()
        first, rest = subs[0], subs[1:]
        url = urlunsplit((scheme, parts.netloc, parts.path + "/api/v1/streaming", urlencode(first.params()), ""))
        try:
            ws = await connect(url, open_timeout=10, close_timeout=2, max_size=MAX_EVENT_BYTES,
                               additional_headers=self._auth(), ping_interval=15, ping_timeout=15,
                               user_agent_header=self.connector.client.headers.get("User-Agent"),
                               **await self._destination(parts.hostname or "", parts.port, scheme))
        except AddressNotAllowed as exc:
            raise NotAllowed(f"{CHANNEL}: {exc}") from None
        except InvalidStatus as exc:
            status = exc.response.status_code
            if status in (401, 403):
                raise AuthFailed(f"{CHANNEL} refused the connection ({status}): check token_env") from None
            raise TemporaryFailure(f"{CHANNEL} refused the connection ({status})") from None
        except (OSError, TimeoutError, WebSocketException) as exc:
            raise TemporaryFailure(f"{CHANNEL} unreachable: {str(exc) or type(exc).__name__}") from None
        try:
            async with ws:
                for sub in rest:
                    await ws.send(json.dumps({"type": "subscribe", **sub.params()}))
                yield "connected", None
                async for message in ws:
                    frame = json_or_none(message)
                    if isinstance(frame, dict) and isinstance(frame.get("event"), str):
                        yield frame["event"], frame.get("payload")
                    else:
                        yield "", None  # a frame we do not know: still a sign of life
        except ConnectionClosed as exc:
            raise TemporaryFailure(f"{CHANNEL} closed the stream: {exc}") from None
        except (OSError, WebSocketException) as exc:
            raise TemporaryFailure(f"{CHANNEL} stream broke: {str(exc) or type(exc).__name__}") from None

    async def _destination(self, host: str, port: int | None, scheme: str) -> dict[str, Any]:
        """As connectors/jetstream.py: a WebSocket does not pass the client's transport, so the
        address policy is applied here (connect to the checked address)."""
        policy = getattr(self.connector.client, "address_policy", None)
        if policy is None or policy.allow_private:
            return {}
        port = port or (443 if scheme == "wss" else 80)
        return {"host": (await policy.resolve(host, port))[0], "port": port, "proxy": None}

    # --- events -> mentions ---------------------------------------------------------------------

    async def _take(self, item: tuple[str, Any]) -> StreamBatch | None:
        event, payload = item
        if event == "connected":
            return StreamBatch(connected=True)
        if event in ("update", "status.update"):
            return await self._status_batch(json_or_none(payload) if isinstance(payload, str) else payload,
                                            "stream")
        if event == "notification":
            notification = json_or_none(payload) if isinstance(payload, str) else payload
            if not isinstance(notification, dict) or notification.get("type") != "mention":
                return None
            return await self._status_batch(notification.get("status"), "notifications")
        if event == "delete":
            known = self.known.pop(str(payload), None) if payload is not None else None
            if known is None:
                return None  # a post we never passed on (the REST re-check catches older ones)
            return StreamBatch(mentions=[known])
        return None  # heartbeats and events we do not use

    async def _status_batch(self, status: Any, stream_key: str) -> StreamBatch:
        if isinstance(status, dict) and status.get("reblog"):
            return StreamBatch()  # a boost is not a mention
        mention = self.connector._mention(status, stream_key)
        if mention is None:
            return StreamBatch(skipped=1)
        self.remember(mention)
        return StreamBatch(mentions=await self.connector._with_parents([mention]))

    def remember(self, mention: NewMention) -> None:
        """Keep what a deletion of this post needs (its identity, not its text)."""
        status_id = mention.raw.get("id")
        if status_id:
            self.known[str(status_id)] = NewMention(external_id=mention.external_id, posted_at=mention.posted_at,
                                                    author=mention.author, text="", deleted=True)
            self.known.move_to_end(str(status_id))
            if len(self.known) > KNOWN_IDS:
                self.known.popitem(last=False)


async def _lines(chunks: AsyncIterator[bytes]) -> AsyncIterator[str]:
    """Text lines of an event stream (LF or CRLF), each at most MAX_EVENT_BYTES."""
    buffer = b""
    async for chunk in chunks:
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            yield line.removesuffix(b"\r").decode("utf-8", "replace")
        if len(buffer) > MAX_EVENT_BYTES:
            raise TemporaryFailure(f"{CHANNEL} sent a line over {MAX_EVENT_BYTES // 1024} KB")

