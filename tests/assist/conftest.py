"""AI draft tests run the app against a fake OpenAI-compatible server on 127.0.0.1."""
from __future__ import annotations

import pytest_asyncio

from tests.support.app import make_config
from tests.support.assist import KNOWLEDGE, assist_toml
from tests.support.connectors.conformance import served
from tests.support.fake_openai import FakeOpenAI


@pytest_asyncio.fixture
async def fake_model():
    async with served(FakeOpenAI()) as fake:
        yield fake


@pytest_asyncio.fixture
async def ctx(ctx, fake_model, tmp_path):
    """The app's context with [assist] pointing at the fake (only [assist] may use 127.0.0.1)."""
    knowledge = tmp_path / "knowledge.md"
    knowledge.write_text(KNOWLEDGE, encoding="utf-8")
    ctx.config = make_config(tmp_path, assist_toml(fake_model.base_url, str(knowledge)),
                             allow_private_networks=False)
    yield ctx
    await ctx.close()
