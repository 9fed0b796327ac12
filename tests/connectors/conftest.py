"""Fixtures every connector test module shares."""
from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest_asyncio


@pytest_asyncio.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    """The httpx client a connector is handed, as the worker hands it one."""
    async with httpx.AsyncClient(timeout=10) as client:
        yield client
