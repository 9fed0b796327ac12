"""Schemathesis against the published schema (/api/openapi.json) of a real server, with an
admin's API token: generated requests, valid and not, to every operation. None may answer
500, and every answer must be one the schema lists, in the shape and media type it says.

Bounded for a shared 2-core machine: a few examples per operation, no deadline (a slow
moment of the machine is not a failure), no shrinking beyond what Hypothesis does quickly."""
from __future__ import annotations

import asyncio
import tempfile
import threading
import time
from pathlib import Path

import httpx
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.core.config import Settings
from app.core.context import AppContext
from app.core.db import Database
from app.main import create_app
from tests.support.app import PUSH_SECRET, PUSH_SECRET_ENV, add_user, bearer, free_port, make_config
from tests.support.push import mention, signed_headers

pytestmark = pytest.mark.slow
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance, content_type_conformance]
# A stream that stays open until the client leaves: no request/answer to check.
ENDLESS = "/api/events"


async def _seed(ctx: AppContext) -> str:
    await add_user(ctx, "anna")
    token = await add_user(ctx, "root", "admin")
    await ctx.db.dispose()  # the server's own event loop opens its connections
    return token


def _push_mentions(base_url: str) -> None:
    """Some mentions, so that small ids name real rows (claim, reply, follow-up...)."""
    body = httpx.Request("POST", "/", json={"mentions": [
        mention(f"fuzz-{n}", n * 7, channel="mastodon", text=f"Storing bij Acme, pakket {n} kwijt")
        for n in range(1, 6)]}).content
    r = httpx.post(f"{base_url}/api/ingest/push", content=body, headers=signed_headers(body), timeout=30)
    assert r.status_code == 202, r.text


@pytest.fixture(scope="module")
def api_server(tmp_path_factory, module_db_url):
    """A real server in a thread, on each backend (PostgreSQL refuses more than SQLite)."""
    tmp = tmp_path_factory.mktemp("fuzz")
    with pytest.MonkeyPatch.context() as env:
        env.setenv(PUSH_SECRET_ENV, PUSH_SECRET)
        ctx = AppContext(settings=Settings(data_dir=tmp), config=make_config(tmp), db=Database(module_db_url),
                         secret_key="x" * 40)
        token = asyncio.run(_seed(ctx))
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(create_app(ctx), host="127.0.0.1", port=port, log_level="warning",
                                               lifespan="on", timeout_graceful_shutdown=2))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.05)
        base_url = f"http://127.0.0.1:{port}"
        _push_mentions(base_url)
        yield base_url, token
        server.should_exit = True
        thread.join(15)


def _published_schema() -> dict:
    """What /api/openapi.json serves (checked below), built without a server so that pytest
    can list one test per operation."""
    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as env:
        env.setenv(PUSH_SECRET_ENV, PUSH_SECRET)
        ctx = AppContext(settings=Settings(data_dir=Path(tmp)), config=make_config(Path(tmp)),
                         db=Database(f"sqlite+aiosqlite:///{tmp}/unused.db"), secret_key="x" * 40)
        return create_app(ctx).openapi()


PUBLISHED = _published_schema()
schema = schemathesis.openapi.from_dict(PUBLISHED).exclude(path=ENDLESS)


def test_the_fuzzed_schema_is_the_one_the_server_publishes(api_server):
    base_url, token = api_server
    assert httpx.get(f"{base_url}/api/openapi.json", headers=bearer(token)).json() == PUBLISHED


@schema.parametrize()
@settings(max_examples=12, deadline=None, database=None, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
def test_every_operation_answers_as_its_schema_says(case, api_server):
    base_url, token = api_server
    case.call_and_validate(base_url=base_url, headers=bearer(token), checks=CHECKS, timeout=30)
