"""Fixtures for alert tests: the local receiving server and an httpx client for it."""
from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime

import httpx
import pytest_asyncio

from tests.support.alerting import SECRET_ENV, START, Alerting, url_env
from tests.support.app import PUSH_SECRET_ENV, Clock, make_config
from tests.support.chat.receiver import WEBHOOK_SECRET, Receiver


@pytest_asyncio.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with Receiver().serving() as running:
        yield running


@pytest_asyncio.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    # A short read timeout: the "hang" reply never answers, so the timeout path is
    # reached as soon as the timeout elapses; every other reply is immediate.
    async with httpx.AsyncClient(timeout=httpx.Timeout(5.0, read=0.5)) as http:
        yield http


@pytest_asyncio.fixture
async def alerting(ctx, tmp_path, monkeypatch, receiver, client) -> AsyncIterator[Callable[..., Alerting]]:
    """`alerting(sink_toml(...), ...)` configures the sinks (hooks named after the sinks)."""
    def configure(*sinks: str, start: datetime = START, extra_toml: str = "", sla_toml: str = "") -> Alerting:
        toml = (f'[app]\npublic_url = "https://webcare.example.org"\n\n'
                f'[sla]\ntarget_minutes = 60\nwarning_minutes = 45\ntimezone = "Europe/Amsterdam"\n{sla_toml}\n'
                f'[[sources]]\nname = "push"\nkind = "webhook"\nsecret_env = "{PUSH_SECRET_ENV}"\n\n'
                + extra_toml + "\n".join(sinks))
        ctx.config = make_config(tmp_path, toml)
        for sink in ctx.config.alerts:
            monkeypatch.setenv(url_env(sink.name), receiver.url(sink.kind, hook=sink.name))
        monkeypatch.setenv(SECRET_ENV, WEBHOOK_SECRET)
        ctx.clock = Clock(start)
        receiver.clock = ctx.clock   # signature timestamps are checked in the test's time
        ctx._http = client     # a short read timeout, so the hanging reply times out quickly
        return Alerting(ctx, ctx.clock, receiver)

    yield configure
    ctx._http = None           # the `client` fixture closes it
