"""AI draft tests run the app against a fake OpenAI-compatible server on 127.0.0.1."""
from __future__ import annotations

import pytest_asyncio

from tests.support.app import DEFAULT_TOML, make_config
from tests.support.connectors.conformance import served
from tests.support.fake_openai import MODEL, FakeOpenAI

KNOWLEDGE = "Onze klantenservice is bereikbaar van 8:00 tot 22:00. Storingen: status.acme.example."


def assist_toml(base_url: str, knowledge_file: str, *, timeout: float = 2.0) -> str:
    return DEFAULT_TOML + f"""
[assist]
base_url = "{base_url}/v1"
model = "{MODEL}"
timeout_seconds = {timeout}
knowledge_file = "{knowledge_file}"
allow_private_networks = true
"""


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
