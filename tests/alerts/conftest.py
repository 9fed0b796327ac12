"""Fixtures for alert tests: the local receiving server and an httpx client for it."""
from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest_asyncio

from tests.alerts.receiver import Receiver


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
