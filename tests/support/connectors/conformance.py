"""The conformance suite every connector's test module runs against its fake channel.

Use it like this in `tests/connectors/test_<kind>.py` (fixtures may live in the module):

    class TestMastodonConformance(ConnectorConformance):
        @pytest_asyncio.fixture
        async def fake(self): ...                  # a running fake server with the FakeChannel controls
        @pytest.fixture
        def make_connector(self, fake, client): ...  # () -> a new connector on `client` (a "restart")
        @pytest.fixture
        def connector(self, make_connector): ...     # the connector under test

Inside the suite `client` sends through `faults`, which can make the next request time out
without any real waiting. A connector with a `now()` attribute is judged by that clock.
tests/connectors/test_registry.py checks that every registered kind has a test module with a
subclass of ConnectorConformance.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import httpx
import pytest
import pytest_asyncio
import uvicorn
from pydantic import BaseModel

from app.core.config import SourceConfig
from connectors.base import (
    AuthFailed,
    Capabilities,
    Connector,
    ConnectorError,
    FetchResult,
    NewMention,
    RateLimited,
    TemporaryFailure,
)

MAX_PAGES = 20  # a connector that pages more than this for a handful of posts is looping
# What every source has and the app passes to each connector (app/core/config.py).
COMMON_KEYS = frozenset(SourceConfig.model_fields)
SCRIPT_HTML = '<p>Pakket kwijt <script>alert("x")</script><img src=x onerror="alert(1)"> #acme</p>'


class FakeChannel(Protocol):
    """Controls every fake channel offers the suite."""

    base_url: str
    markup: str  # "html": the channel sends HTML (Mastodon, feeds); "text": plain text (Bluesky, X)

    def add_posts(self, count: int, *, html: str | None = None) -> list[str]:
        """Publish `count` customer posts the connector's config finds; their external ids."""

    def add_malformed(self) -> None:
        """Publish one item the channel's schema says cannot happen (required fields missing)."""

    def fail_next(self, status: int, *, reset_in: timedelta | None = None) -> datetime | None:
        """Answer the next request with `status`; a 429 carries the channel's reset header
        `reset_in` from now. May return the moment the header names (fakes whose clock is
        not the connector's must); None means "the connector's now() + reset_in"."""

    def revoke_credentials(self) -> None:
        """From now on the channel refuses our credentials, as when a token is revoked."""


# --- helpers shared by every connector test --------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.asynccontextmanager
async def serve(app: Any, port: int | None = None) -> AsyncIterator[str]:
    """Run an ASGI app in a real uvicorn on `port` (default: a spare one) of 127.0.0.1;
    yields its base URL."""
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical",
                                           lifespan="off"))
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()  # surfaces a startup error
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


@contextlib.asynccontextmanager
async def served(fake: Any) -> AsyncIterator[Any]:
    """Serve a fake channel (anything with `app()` and `base_url`) and yield it, its
    `base_url` set to where it listens, so it can build absolute links as the real one does."""
    async with serve(fake.app()) as base_url:
        fake.base_url = base_url
        yield fake


class FaultyTransport(httpx.AsyncBaseTransport):
    """A real HTTP transport that can raise a transport error for the next request instead,
    so timeouts are tested without waiting for one."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.pending: list[Exception] = []

    def fail_next(self, error: Exception) -> None:
        self.pending.append(error)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.pending:
            raise self.pending.pop(0)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


@dataclass
class Fault:
    """A canned error answer a fake gives instead of its next real one."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] = field(default_factory=dict)


class DroppedResponse:
    """An ASGI answer that starts and then hangs up: uvicorn closes the socket mid-answer, so
    the client cannot know whether its write was stored (a lost answer, for reply tests)."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"64")]})


async def fetch_all(connector: Connector, cursor: dict[str, Any] | None, *,
                    since: datetime | None = None) -> tuple[list[NewMention], dict[str, Any] | None, int]:
    """Follow `more` as the scheduler does; every cursor goes through JSON like the database."""
    mentions: list[NewMention] = []
    skipped = 0
    for _ in range(MAX_PAGES):
        result: FetchResult = await connector.fetch(cursor, since=since)
        mentions.extend(result.mentions)
        skipped += result.skipped
        cursor = json.loads(json.dumps(result.cursor)) if result.cursor is not None else cursor
        if not result.more:
            return mentions, cursor, skipped
    raise AssertionError(f"still `more` after {MAX_PAGES} pages")


def connector_now(connector: Connector) -> datetime:
    """The connector's clock: its injected `now()` when it has one, else the real time."""
    now = getattr(connector, "now", None)
    return now() if callable(now) else datetime.now(UTC)


def ids(mentions: list[NewMention]) -> set[str]:
    return {m.external_id for m in mentions}


class ReadRecorder(Mapping[str, Any]):
    """A connector's settings that note every key the connector looks at (`get`, `in` and
    `[]` all go through `__getitem__`; iterating counts as reading every key)."""

    def __init__(self, settings: Mapping[str, Any]) -> None:
        self.settings, self.read = dict(settings), set()

    def __getitem__(self, key: str) -> Any:
        self.read.add(key)
        return self.settings[key]

    def __iter__(self) -> Iterator[str]:
        self.read.update(self.settings)
        return iter(self.settings)

    def __len__(self) -> int:
        return len(self.settings)


# --- the suite ---------------------------------------------------------------------------------

class ConnectorConformance:
    """What every connector must do. Subclasses provide the `fake` and `connector` fixtures."""

    @pytest.fixture
    def faults(self) -> FaultyTransport:
        return FaultyTransport()

    @pytest_asyncio.fixture
    async def client(self, faults: FaultyTransport) -> AsyncIterator[httpx.AsyncClient]:
        async with httpx.AsyncClient(transport=faults, timeout=10) as client:
            yield client

    def test_capabilities_declared(self, connector: Connector) -> None:
        caps = type(connector).capabilities
        assert isinstance(caps, Capabilities)
        assert isinstance(type(connector).kind, str) and type(connector).kind
        assert caps.text_limit is None or caps.text_limit > 0
        if caps.can_reply:
            assert caps.credentials, "a connector that posts must name the secrets it needs"

    def test_options_declared(self, connector: Connector) -> None:
        options = type(connector).options
        assert issubclass(options, BaseModel)
        assert options.model_config.get("extra") == "forbid" and options.model_config.get("frozen")
        assert not set(options.model_fields) & COMMON_KEYS, "a common key is not the connector's to declare"
        assert set(type(connector).capabilities.credentials) <= set(options.model_fields)

    @pytest.mark.asyncio
    async def test_reads_what_its_options_declare(self, connector: Connector, make_connector,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
        """Every key a connector reads from its settings is a common one, the brand's accounts,
        a declared option or the secret a declared `*_env` option names; and it reads its options
        through its own model (all of its fields)."""
        cls, recorders = type(connector), []
        build = cls.__init__

        def recording(self: Any, source: Mapping[str, Any], *args: Any, **kwargs: Any) -> None:
            recorders.append(ReadRecorder(source))
            build(self, recorders[-1], *args, **kwargs)

        monkeypatch.setattr(cls, "__init__", recording)
        recorded = make_connector()
        with contextlib.suppress(ConnectorError):
            await recorded.fetch(None)  # a connector might keep its settings and read them later
        fields = set(cls.options.model_fields)
        secrets = {key.removesuffix("_env") for key in fields if key.endswith("_env")}
        undeclared = recorders[0].read - COMMON_KEYS - {"own_accounts"} - fields - secrets
        assert not undeclared, f"{cls.kind} reads {sorted(undeclared)}: declare them in its options model"
        assert fields <= recorders[0].read, f"{cls.kind} never reads {sorted(fields - recorders[0].read)}"

    @pytest.mark.asyncio
    async def test_first_fetch_returns_mentions(self, fake: FakeChannel, connector: Connector) -> None:
        posted = fake.add_posts(3)
        mentions, cursor, _ = await fetch_all(connector, None)
        assert set(posted) <= ids(mentions)
        assert cursor is not None
        for mention in mentions:
            assert mention.external_id.strip()
            assert mention.author.strip()
            assert mention.posted_at.tzinfo is not None
            assert mention.posted_at.utcoffset() == timedelta(0)
            assert (mention.text is None) != (mention.html is None), "exactly one of text/html"

    @pytest.mark.asyncio
    async def test_second_fetch_from_cursor_brings_nothing_new(self, fake: FakeChannel, connector: Connector) -> None:
        fake.add_posts(2)
        first, cursor, _ = await fetch_all(connector, None)
        again, _, _ = await fetch_all(connector, cursor)
        assert ids(again) <= ids(first)

    @pytest.mark.asyncio
    async def test_stored_cursor_continues_after_restart(self, fake: FakeChannel, connector: Connector,
                                                         make_connector) -> None:
        old = fake.add_posts(2)
        _, cursor, _ = await fetch_all(connector, None)
        new = fake.add_posts(2)
        restarted = make_connector()  # a fresh process: only the stored cursor survives
        mentions, _, _ = await fetch_all(restarted, cursor)
        assert set(new) <= ids(mentions)
        # Overlap with what was already stored is allowed (the unique key absorbs it).
        assert ids(mentions) - set(new) <= set(old)

    @pytest.mark.asyncio
    async def test_malformed_item_is_skipped_and_counted(self, fake: FakeChannel, connector: Connector) -> None:
        good = fake.add_posts(1)
        fake.add_malformed()
        good += fake.add_posts(1)
        mentions, _, skipped = await fetch_all(connector, None)
        assert set(good) <= ids(mentions)
        assert skipped == 1

    @pytest.mark.asyncio
    async def test_429_is_rate_limited_until_the_channel_reset(self, fake: FakeChannel, connector: Connector) -> None:
        fake.add_posts(1)
        announced = fake.fail_next(429, reset_in=timedelta(minutes=5))
        # The fake may say which moment its header names; otherwise a delay ("retry in 300 s")
        # counts from the connector's clock, which tests may inject.
        expected = announced or connector_now(connector) + timedelta(minutes=5)
        with pytest.raises(RateLimited) as caught:
            await connector.fetch(None)
        assert caught.value.retry_at.tzinfo is not None
        # Reset headers have second precision; the fake and the test read the clock apart.
        assert abs(caught.value.retry_at - expected) < timedelta(seconds=5)

    @pytest.mark.asyncio
    async def test_revoked_credentials_are_auth_failed(self, fake: FakeChannel, connector: Connector) -> None:
        fake.revoke_credentials()
        with pytest.raises(AuthFailed) as caught:
            await connector.fetch(None)
        assert "401" in caught.value.reason

    @pytest.mark.asyncio
    async def test_500_is_temporary(self, fake: FakeChannel, connector: Connector) -> None:
        fake.fail_next(500)
        with pytest.raises(TemporaryFailure):
            await connector.fetch(None)

    @pytest.mark.asyncio
    async def test_timeout_is_temporary(self, fake: FakeChannel, connector: Connector,
                                        faults: FaultyTransport) -> None:
        faults.fail_next(httpx.ReadTimeout("timed out"))
        with pytest.raises(TemporaryFailure):
            await connector.fetch(None)

    @pytest.mark.asyncio
    async def test_html_and_scripts_never_land_in_text(self, fake: FakeChannel, connector: Connector) -> None:
        """HTML goes to `html` (ingest sanitises it in one place) and never raw into `text`; a
        plain-text channel's words stay text, verbatim, so the dashboard escapes them."""
        [external_id] = fake.add_posts(1, html=SCRIPT_HTML)
        mentions, _, _ = await fetch_all(connector, None)
        [mention] = [m for m in mentions if m.external_id == external_id]
        if fake.markup == "html":
            assert mention.text is None or ("<script" not in mention.text and "onerror" not in mention.text)
            assert mention.text is not None or "Pakket kwijt" in (mention.html or "")
        else:
            assert mention.html is None and mention.text == SCRIPT_HTML
