"""No configured secret in logs (any level), stored error texts, pages or /metrics.

The scan runs the alert, source and push paths with every kind of configured secret, through
the production logging setup at DEBUG, and then looks for each secret everywhere a person
could read it."""
from __future__ import annotations

import io
import logging
import uuid

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select

from app.core import logs
from app.core.models import AlertOutbox, SinkState, SourceState
from app.core.secrets import REDACTED, Redactor, configured_secrets
from app.intake.scheduler import SourceRunner
from app.main import create_app
from connectors.registry import build_connector
from tests.support.alerting import minutes, sink_toml, url_env
from tests.support.app import PUSH_SECRET, add_user, bearer
from tests.support.chat.receiver import Reply
from tests.support.connectors.conformance import serve
from tests.support.push import mention, push

pytestmark = pytest.mark.asyncio
SINK_KINDS = ("slack", "teams", "mattermost", "discord", "googlechat", "webhook")


@pytest_asyncio.fixture
async def log_lines(monkeypatch):
    """The production log setup at DEBUG, writing into a buffer; the test's redactor secrets
    and the root logger are put back afterwards."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    saved_levels = {name: logging.getLogger(name).level for name in logs.QUIET_LIBRARIES}
    buffer = io.StringIO()
    monkeypatch.setattr(logs, "redactor", Redactor())
    logs.setup_logging("DEBUG", "text", stream=buffer)
    yield buffer
    root.handlers[:] = saved_handlers
    root.setLevel(saved_level)
    for name, level in saved_levels.items():
        logging.getLogger(name).setLevel(level)


def echoing_channel() -> FastAPI:
    """A channel that fails every request and quotes our credentials back in its error."""
    app = FastAPI()

    @app.api_route("/{path:path}", methods=["GET", "POST"])
    async def fail(path: str, request: Request):
        return JSONResponse({"error": f"cannot serve {request.url} for {request.headers.get('authorization')}"},
                            status_code=500)

    return app


async def test_no_configured_secret_reaches_logs_errors_pages_or_metrics(alerting, log_lines, monkeypatch):
    marker = f"Zq{uuid.uuid4().hex[:12]}"
    token = f"tok-{marker}-mastodon"
    async with serve(echoing_channel()) as channel_url:
        a = alerting(*(sink_toml(kind, kind) for kind in SINK_KINDS), extra_toml=(
            f'[[sources]]\nname = "masto"\nkind = "mastodon"\nbase_url = "{channel_url}"\n'
            f'hashtags = ["acme"]\ntoken_env = "WEBCARE_TEST_MASTO_TOKEN"\n\n'))
        monkeypatch.setenv("WEBCARE_TEST_MASTO_TOKEN", token)
        for kind in SINK_KINDS:   # every hook URL carries a secret part, as real ones do
            monkeypatch.setenv(url_env(kind), a.receiver.url(kind, hook=kind, query=f"key={marker}-{kind}"))
        # What `webcare serve` does once the configuration is loaded.
        logs.redactor.add(configured_secrets(a.ctx.config, a.ctx.secret_key, a.ctx.db.url))
        # Slack's hook is gone, Teams fails quoting the key back; the rest answer normally.
        a.receiver.script("slack", Reply(404, "no_service"))
        a.receiver.script("teams", Reply(500, f"upstream failed for key={marker}-teams"))

        await a.ingest("m1", posted_at=a.clock() - minutes(61))
        await a.tick(minutes=2)
        await a.tick(minutes=2)   # the burst's wait is over: sent
        source = a.ctx.source("masto")
        connector = build_connector(source.connector_settings(a.ctx.config.brand.own_accounts), a.ctx.http())
        outcome = await SourceRunner(a.ctx, source, connector).poll_once()
        assert not outcome.ok and REDACTED in outcome.reason

        app = create_app(a.ctx)
        admin = bearer(await add_user(a.ctx, "root", "admin"))
        async with app.router.lifespan_context(app), httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
            assert (await push(client, [mention("p1", posted_at=a.clock().isoformat())])).status_code == 202
            wrong = "whsec_" + "QUFB" * 11
            assert (await push(client, [mention("p2")], secret=wrong)).status_code == 401
            pages = [(await client.get(path, headers=admin)).text
                     for path in ("/alerts", "/sources", "/api/sources", "/metrics")]

    async with a.ctx.db.read() as session:
        stored = [str(v) for v in (await session.exec(select(SourceState.last_error))).scalars()]
        stored += [str(v) for v in (await session.exec(select(SinkState.last_error))).scalars()]
        stored += [str(v) for v in (await session.exec(select(AlertOutbox.last_error))).scalars()]
    logged = log_lines.getvalue()

    # The paths ran and were logged by name: the scan below looks at real output.
    assert "alert sink slack" in logged and "alert sink webhook" in logged and "source masto" in logged
    assert any("Mastodon server error" in e for e in stored) and any("HTTP 500" in e for e in stored)
    for secret in (marker, token, PUSH_SECRET, a.ctx.secret_key):
        assert secret not in logged, f"{secret} in the log"
        assert not [e for e in stored if secret in e], f"{secret} in a stored error"
        assert not [p for p in pages if secret in p], f"{secret} on a page"
