"""An app whose one source is a fake Mastodon server (real HTTP), for tests that post replies
into the channel: the `mastodon` and `world` fixtures (a plugin of tests/conftest.py) and
`poll`, one scheduled poll of that source."""
from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest_asyncio

from app.core.config import Settings
from app.core.context import AppContext
from app.core.db import Database
from app.intake.scheduler import SourceRunner
from app.main import create_app
from connectors.registry import build_connector
from tests.support.app import Clock, make_config
from tests.support.connectors.conformance import served
from tests.support.connectors.fake_mastodon import TOKEN, FakeMastodon


@pytest_asyncio.fixture
async def mastodon() -> AsyncIterator[FakeMastodon]:
    async with served(FakeMastodon()) as fake:
        yield fake


@pytest_asyncio.fixture
async def world(mastodon, db_url, tmp_path, monkeypatch):
    """The app (lifespan running) over ASGI with the source "masto"; yields (ctx, client)."""
    monkeypatch.setenv("TEST_MASTODON_TOKEN", TOKEN)
    config = make_config(tmp_path, f"""
[brand]
name = "Acme"
own_accounts = ["acme@social.example"]
[[sources]]
name = "masto"
kind = "mastodon"
base_url = "{mastodon.base_url}"
notifications = true
token_env = "TEST_MASTODON_TOKEN"
""")
    ctx = AppContext(settings=Settings(data_dir=tmp_path), config=config, db=Database(db_url), secret_key="x" * 40,
                     clock=Clock())
    app = create_app(ctx)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client,
    ):
        yield ctx, client


async def poll(ctx) -> None:
    """One scheduled poll of "masto", then the clock moves past the interval so the next is due."""
    source = ctx.source("masto")
    connector = build_connector(source.connector_settings(ctx.config.brand.own_accounts), ctx.http())
    outcome = await SourceRunner(ctx, source, connector).poll_once()
    assert outcome.ok, outcome.reason
    ctx.clock.advance(seconds=source.interval_seconds)
