"""The one streaming shape: a connector that can hold a live connection to its channel.

A streaming connector's `listen(cursor)` yields small `StreamBatch`es for as long as the
connection lives, and raises a ConnectorError when it ends (the app reconnects with backoff
and calls `listen` again with the cursor it stored). The app stores each batch and its cursor
in one transaction, through the same ingest as a poll: the crash rule holds unchanged.

Two kinds of stream:
- one that replays from a cursor (Jetstream: `time_us`): `fills_gaps = True`; while it is
  healthy nobody polls the source, because the cursor alone loses nothing;
- one that cannot replay (Mastodon's streaming API): `fills_gaps = False`; its batches carry no
  cursor, every (re)connect yields a batch with `connected = True` after which the app reads the
  REST timeline from the stored cursor (so nothing posted during a gap is lost), and polling
  stays on as a slow safety net.
A third streaming channel is one module implementing `listen` with helpers from here.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Protocol, TypeGuard

from connectors.base import Connector, NewMention, TemporaryFailure


@dataclass(frozen=True)
class StreamBatch:
    """What arrived since the last batch. `cursor` None: keep the stored one."""

    mentions: list[NewMention] = field(default_factory=list)
    cursor: dict[str, Any] | None = None
    skipped: int = 0
    connected: bool = False  # the stream has just (re)connected: read what the gap held


@dataclass(frozen=True)
class StreamSettings:
    """How a stream is held. `idle_seconds`: no byte, heartbeat included, for this long means
    the connection is dead even if TCP has not noticed (Mastodon sends a heartbeat every 15 s)."""

    idle_seconds: float | None = 45.0  # None: the transport watches the line itself (WebSocket pings)
    batch_seconds: float = 0.2  # gather events this long before handing a batch over
    batch_size: int = 100
    cursor_seconds: float = 5.0  # a replaying stream stores its position at least this often


class Streaming(Connector, Protocol):
    """Optional: a connector that can listen. `fills_gaps`: see the module docstring."""

    fills_gaps: ClassVar[bool]

    def listen(self, cursor: dict[str, Any] | None) -> AsyncIterator[StreamBatch]:
        ...


def can_stream(connector: Connector) -> TypeGuard[Streaming]:
    """Whether the connector can listen and its source asked it to (`stream = true`)."""
    return callable(getattr(connector, "listen", None)) and bool(getattr(connector, "streaming", False))


async def batches(events: AsyncIterable[Any], take: Callable[[Any], Awaitable[StreamBatch | None]],
                  settings: StreamSettings, *, channel: str,
                  cursor_now: Callable[[], dict[str, Any]] | None = None) -> AsyncIterator[StreamBatch]:
    """Group what `take` makes of each event into batches of at most `batch_size`, handed over
    `batch_seconds` after the first one; `take` returns None for an event that brings nothing
    (a heartbeat, a post nobody wants). The stream is declared dead after `idle_seconds`
    without any event. `cursor_now`: a stream that replays gives each batch its position, and
    hands over an empty batch every `cursor_seconds` while it only skips, so that a reconnect
    does not replay what was already read."""
    iterator = events.__aiter__()
    pending: list[StreamBatch] = []
    loop = asyncio.get_running_loop()
    flush_at: float | None = None
    last_flush = loop.time()

    def flushed() -> StreamBatch:
        nonlocal pending, flush_at, last_flush
        out = merged(pending)
        if cursor_now is not None:
            out = replace(out, cursor=cursor_now())
        pending, flush_at, last_flush = [], None, loop.time()
        return out

    # One pending read, kept across timeouts: cancelling it would close the events' generator.
    reading: asyncio.Future[Any] | None = None
    try:
        while True:
            timeout = settings.idle_seconds if flush_at is None else max(0.0, flush_at - loop.time())
            if reading is None:
                reading = asyncio.ensure_future(iterator.__anext__())
            done, _ = await asyncio.wait({reading}, timeout=timeout)
            if not done:
                if flush_at is None:
                    raise TemporaryFailure(f"{channel} stream silent for {settings.idle_seconds:.0f} s "
                                           f"(no heartbeat): reconnecting")
                yield flushed()
                continue
            finished, reading = reading, None
            try:
                event = finished.result()
            except StopAsyncIteration:
                if pending:
                    yield flushed()
                raise TemporaryFailure(f"{channel} closed the stream") from None
            batch = await take(event)
            if batch is None:
                if cursor_now is None or flush_at is not None or loop.time() - last_flush < settings.cursor_seconds:
                    continue
                batch = StreamBatch()
            pending.append(batch)
            if flush_at is None:
                flush_at = loop.time() + (settings.batch_seconds if batch.mentions else 0.0)
            if sum(len(b.mentions) for b in pending) >= settings.batch_size:
                yield flushed()
    finally:
        if reading is not None:
            reading.cancel()
            with contextlib.suppress(BaseException):
                await reading
        aclose = getattr(iterator, "aclose", None)
        if aclose is not None:
            with contextlib.suppress(Exception):
                await aclose()


def merged(parts: list[StreamBatch]) -> StreamBatch:
    """One batch of several: all mentions, the last cursor given, skips added up."""
    cursor = next((p.cursor for p in reversed(parts) if p.cursor is not None), None)
    return StreamBatch(mentions=[m for p in parts for m in p.mentions], cursor=cursor,
                       skipped=sum(p.skipped for p in parts), connected=any(p.connected for p in parts))


@dataclass
class SseEvent:
    """One server-sent event; `event` empty and `data` None for a comment (a heartbeat)."""

    event: str = ""
    data: str | None = None


async def sse_events(lines: AsyncIterator[str]) -> AsyncIterator[SseEvent]:
    """Server-sent events from text lines (https://html.spec.whatwg.org/multipage/server-sent-events.html):
    `event:` and `data:` fields (several data lines joined by newlines), a blank line ends an
    event, a line starting with ":" is a comment — yielded as a heartbeat."""
    event, data = "", list[str]()
    async for line in lines:
        if not line:
            if data:
                yield SseEvent(event or "message", "\n".join(data))
            event, data = "", []
        elif line.startswith(":"):
            yield SseEvent()
        else:
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "event":
                event = value
            elif name == "data":
                data.append(value)


def json_or_none(text: str | bytes | None) -> Any:
    try:
        return json.loads(text) if text is not None else None
    except ValueError:
        return None
