"""Bluesky through Jetstream, the public JSON firehose (no account needed), read in bounded polls.

Each fetch opens `/subscribe?wantedCollections=app.bsky.feed.post&cursor=<time_us>`, replays
from the stored cursor, keeps the posts the source wants (query words; posts by, mentioning or
answering the brand's DIDs) and hangs up after `max_events` events or `max_seconds`, or once it
has caught up with the live tail. The new cursor (the last time_us handled) goes back with the
batch, so it only advances when the batch is stored.

Jetstream: https://github.com/bluesky-social/jetstream (README, "Consuming Jetstream"): an
absent cursor means live tail only; a cursor (unix microseconds) replays from that moment.
"""
from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlencode, urlsplit, urlunsplit

import httpx
from pydantic import field_validator
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException

from connectors.addresses import AddressNotAllowed, AddressPolicy
from connectors.base import (
    AuthFailed,
    Capabilities,
    ConnectorError,
    FetchResult,
    NewMention,
    NotAllowed,
    PostedReply,
    RateLimited,
    Redirected,
    ReplyNotAllowed,
    ReplyRequest,
    TemporaryFailure,
)
from connectors.bluesky import POST_COLLECTION, TEXT_LIMIT
from connectors.http import DEFAULT_RATE_LIMIT_WAIT, json_list, parse_reset, utcnow
from connectors.jetstream_events import Interest, PostCommit, SeenPosts, read_frame, to_mention
from connectors.options import Flag, OptionalText, SourceOptions, TextList, own_accounts, query_words, read_options
from connectors.streaming import StreamBatch, StreamSettings, batches

DEFAULT_BASE_URL = "wss://jetstream2.us-east.bsky.network/subscribe"
FIRST_POLL_WINDOW = timedelta(hours=1)  # a first poll the caller gave no backfill bound
SEEN_LIMIT = 5000  # posts remembered for their deletes and edits (about 100 KB of cursor)
# A frame over the limit closes the stream, at the same event on every poll: stay generous.
MAX_FRAME_BYTES = 4 * 1024 * 1024
CHANNEL = "Jetstream"


def to_us(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000)


@dataclass(frozen=True)
class StreamLimits:
    """How long one fetch reads. The scheduler follows `more` up to 10 fetches within one
    180-second lease, so a fetch stays well under 18 seconds."""

    max_events: int = 10_000
    max_seconds: float = 10.0
    idle_seconds: float = 2.0  # no message for this long: caught up (a filtered stream is quiet)
    open_timeout: float = 10.0


class JetstreamOptions(SourceOptions):
    """`kind = "jetstream"`: Bluesky's public firehose, read without an account."""

    query: OptionalText = None  # whole words, any of them
    wanted_dids: TextList = ()  # only posts by these accounts (filtered by the server)
    stream: Flag = False  # hold the firehose open (connectors/streaming.py) instead of polling it

    @field_validator("wanted_dids")
    @classmethod
    def _dids(cls, wanted: tuple[str, ...]) -> tuple[str, ...]:
        if not all(did.startswith("did:") for did in wanted):
            raise ValueError("must be DIDs (did:plc:…)")
        return wanted


@dataclass(frozen=True)
class JetstreamConfig:
    url: str
    terms: tuple[str, ...]
    own_dids: frozenset[str]
    wanted_dids: tuple[str, ...] = ()

    @classmethod
    def from_source(cls, source: Mapping[str, Any]) -> JetstreamConfig:
        options = read_options(JetstreamOptions, source)
        config = cls(
            url=subscribe_endpoint(source.get("base_url") or DEFAULT_BASE_URL),
            terms=query_words(options.query),
            # Jetstream names accounts by DID only; handles in own_accounts cannot match here.
            own_dids=frozenset(a for a in own_accounts(source) if a.startswith("did:")),
            wanted_dids=options.wanted_dids,
        )
        if not (config.terms or config.own_dids):
            # [brand].own_accounts is not this source's table: only known when the app builds it.
            raise ValueError("jetstream source needs a query, or a DID (did:plc:…) in [brand].own_accounts")
        return config


def subscribe_endpoint(base_url: str) -> str:
    """ws(s)://host/subscribe from what people write: a bare host gets /subscribe, http(s) is
    taken to mean ws(s)."""
    parts = urlsplit(base_url.strip())
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    if scheme not in ("ws", "wss") or not parts.netloc:
        raise ValueError(f"jetstream source: base_url must be a wss:// URL, not {base_url!r}")
    return urlunsplit((scheme, parts.netloc, parts.path.rstrip("/") or "/subscribe", "", ""))


class Batch:
    """What one fetch gathered. `last` is the time_us up to which every event was handled:
    the server replays from it, and events at or before it are dropped as already handled."""

    def __init__(self, interest: Interest, seen: SeenPosts, last: int):
        self.interest, self.seen, self.last = interest, seen, last
        self.mentions: list[NewMention] = []
        self.events = self.skipped = 0

    def take(self, message: str | bytes) -> int | None:
        """Handle one frame; its time_us (None when it has none)."""
        frame = read_frame(message)
        if frame.time_us is not None:
            if frame.time_us <= self.last:
                return frame.time_us
            self.last = frame.time_us
        self.events += 1
        if frame.malformed:
            self.skipped += 1
        elif frame.post is not None:
            mention = self._follow(frame.post)
            if mention is not None:
                self.mentions.append(mention)
        return frame.time_us

    def _follow(self, post: PostCommit) -> NewMention | None:
        known = post.uri in self.seen
        if post.operation == "delete":
            if not known:
                return None  # someone else's post; a removed row of it would be noise
            self.seen.discard(post.uri)
        elif known or self.interest.wants(post):
            self.seen.add(post.uri)  # an edit that drops the keyword still updates our copy
        else:
            return None
        return to_mention(post, outbound=self.interest.is_own(post.did))


class JetstreamConnector:
    kind: ClassVar[str] = "jetstream"
    # Posting needs the brand's login (a `bluesky` source); this one only reads, and the brand's
    # replies made in the Bluesky app come back through the stream and close what they answer.
    capabilities: ClassVar[Capabilities] = Capabilities(can_reply=False, text_limit=TEXT_LIMIT)
    options: ClassVar[type[JetstreamOptions]] = JetstreamOptions
    url_schemes: ClassVar[tuple[str, ...]] = ("wss", "ws", "https", "http")  # base_url (http(s) read as ws(s))
    fills_gaps: ClassVar[bool] = True  # the cursor replays whatever a reconnect missed

    def __init__(self, source: Mapping[str, Any], client: httpx.AsyncClient, *,
                 now: Callable[[], datetime] = utcnow, limits: StreamLimits = StreamLimits(),
                 stream_settings: StreamSettings = StreamSettings(idle_seconds=60.0)):
        self.config = JetstreamConfig.from_source(source)
        self.interest = Interest(self.config.terms, self.config.own_dids)
        self.now = now
        self.limits = limits
        self.stream_settings = stream_settings
        self.streaming = read_options(JetstreamOptions, source).stream
        # The client is not used for the WebSocket; its User-Agent tells operators who reads,
        # and its address policy (the app's client has one) says where we may connect.
        self.user_agent = client.headers.get("User-Agent")
        self.address_policy: AddressPolicy | None = getattr(client, "address_policy", None)

    async def fetch(self, cursor: dict[str, Any] | None, *, since: datetime | None = None) -> FetchResult:
        cursor = cursor or {}
        seen = SeenPosts(json_list(cursor.get("seen")), limit=SEEN_LIMIT)
        batch = Batch(self.interest, seen, self._start(cursor, since))
        more = await self._read(batch)
        return FetchResult(mentions=batch.mentions, cursor=self._cursor(batch), skipped=batch.skipped, more=more)

    async def listen(self, cursor: dict[str, Any] | None) -> AsyncIterator[StreamBatch]:
        """The firehose held open (`stream = true`, connectors/streaming.py): small batches as
        posts arrive, each with its time_us cursor, from which a reconnect replays."""
        cursor = cursor or {}
        seen: list[str] = cursor["seen"] if isinstance(cursor.get("seen"), list) else []
        batch = Batch(self.interest, SeenPosts(seen, limit=SEEN_LIMIT), self._start(cursor, None))

        async def take(message: str | bytes) -> StreamBatch | None:
            skipped = batch.skipped
            batch.take(message)
            if not batch.mentions and batch.skipped == skipped:
                return None
            found, batch.mentions = batch.mentions, []
            return StreamBatch(mentions=found, skipped=batch.skipped - skipped)

        async with self._stream(batch.last) as stream:
            yield StreamBatch(connected=True, cursor=self._cursor(batch))
            try:
                async for out in batches(stream, take, self.stream_settings, channel=CHANNEL,
                                         cursor_now=lambda: self._cursor(batch)):
                    yield out
            except ConnectionClosed as exc:
                raise TemporaryFailure(f"{CHANNEL} closed the stream: {exc}") from None

    @staticmethod
    def _cursor(batch: Batch) -> dict[str, Any]:
        return {"time_us": batch.last, "seen": batch.seen.dump()}

    def _start(self, cursor: Mapping[str, Any], since: datetime | None) -> int:
        if isinstance(cursor.get("time_us"), int):
            return cursor["time_us"]
        return to_us(since or self.now() - FIRST_POLL_WINDOW) - 1

    async def _read(self, batch: Batch) -> bool:
        """Read into `batch`; whether more is waiting (not caught up yet)."""
        live_from = to_us(self.now())
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.limits.max_seconds
        async with self._stream(batch.last) as stream:
            try:
                while batch.events < self.limits.max_events:
                    wait = min(self.limits.idle_seconds, deadline - loop.time())
                    if wait <= 0:
                        return True
                    try:
                        message = await asyncio.wait_for(stream.recv(), wait)
                    except TimeoutError:
                        return wait < self.limits.idle_seconds  # quiet for idle_seconds: caught up
                    time_us = batch.take(message)
                    if time_us is not None and time_us >= live_from:
                        return False  # into the live tail
                return True
            except ConnectionClosed as exc:
                if batch.events:
                    return True  # keep what arrived; the next fetch resumes right after it
                raise TemporaryFailure(f"{CHANNEL} closed the stream: {exc}") from None

    @contextlib.asynccontextmanager
    async def _stream(self, after: int) -> AsyncIterator[ClientConnection]:
        params = [("wantedCollections", POST_COLLECTION), *(("wantedDids", d) for d in self.config.wanted_dids),
                  ("cursor", str(after)), ("compress", "false")]
        stream = await self._open(f"{self.config.url}?{urlencode(params)}")
        try:
            async with stream:
                yield stream
        except (OSError, TimeoutError, WebSocketException) as exc:
            raise TemporaryFailure(f"{CHANNEL} unreachable: {str(exc) or type(exc).__name__}") from None

    async def _open(self, url: str) -> ClientConnection:
        try:
            return await connect(url, open_timeout=self.limits.open_timeout, close_timeout=2, max_size=MAX_FRAME_BYTES,
                                 user_agent_header=self.user_agent, **await self._destination())
        except AddressNotAllowed as exc:
            raise NotAllowed(f"{CHANNEL}: {exc}") from None
        except InvalidStatus as exc:
            raise self._refused(exc.response.status_code, exc.response.headers.get("Retry-After")) from None
        except ValueError as exc:  # a redirect to another host, from an address we checked
            raise Redirected(f"{CHANNEL}: {exc}") from None
        except (OSError, TimeoutError, WebSocketException) as exc:
            raise TemporaryFailure(f"{CHANNEL} unreachable: {str(exc) or type(exc).__name__}") from None

    async def _destination(self) -> dict[str, Any]:
        """Where to connect under the app client's address policy (a WebSocket does not go
        through its transport): a checked address of the host, no proxy; TLS still checks the
        name. Nothing to add for a client without a policy, or one allowing private networks."""
        policy = self.address_policy
        if policy is None or policy.allow_private:
            return {}
        parts = urlsplit(self.config.url)
        port = parts.port or (443 if parts.scheme == "wss" else 80)
        return {"host": (await policy.resolve(parts.hostname or "", port))[0], "port": port, "proxy": None}

    def _refused(self, status: int, retry_after: str | None) -> ConnectorError:
        if status == 429:
            now = self.now()
            retry_at = parse_reset(retry_after, now) or now + DEFAULT_RATE_LIMIT_WAIT
            return RateLimited(f"{CHANNEL} refused the connection (429)", retry_at)
        if status in (401, 403):
            return AuthFailed(f"{CHANNEL} refused the connection ({status}); public Jetstream needs no "
                              f"credentials: check base_url")
        return TemporaryFailure(f"{CHANNEL} refused the connection ({status})")

    async def reply(self, request: ReplyRequest) -> PostedReply:
        raise ReplyNotAllowed("a jetstream source only reads; answer in the Bluesky app")
