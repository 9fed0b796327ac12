"""Chat hooks through the app's own outgoing client (AppContext.http()): a hook is never
followed to another address, a hook on a private network is refused unless allowed, an answer
over the sink's cap is refused, and what a hook says back reaches the admin page as short
plain text."""
from __future__ import annotations

import httpx
import pytest

from app.alerts import AlertGroup
from app.alerts.sinks import Delivered, Permanent, create_sink
from app.alerts.sinks.base import Sink
from tests.support.alert_factories import NOW, breach
from tests.support.alerting import minutes, sink_toml, url_env
from tests.support.app import DEFAULT_TOML, make_config
from tests.support.outbound import answer, bomb, hostile

pytestmark = pytest.mark.asyncio
HOOK_PATH = "/services/T0/B0/hooksecretpart"


async def deliver(ctx, url: str, kind: str = "slack"):
    """One alert through the sink and the app's client (closed after, so the next call builds
    it again from the config)."""
    try:
        return await create_sink(kind).send(ctx.http(), url, AlertGroup([breach()]), now=NOW)
    finally:
        await close_client(ctx)


async def close_client(ctx) -> None:
    if ctx._http is not None:
        await ctx._http.aclose()
        ctx._http = None


async def test_a_hook_that_redirects_fails_for_good_and_is_not_followed(ctx):
    async with hostile(answer(200, b"ok")) as elsewhere, \
            hostile(answer(302, Location=elsewhere.url + "/collect")) as hook:
        outcome = await deliver(ctx, hook.url + HOOK_PATH)
        # Not even by a client that would follow on its own.
        async with httpx.AsyncClient(follow_redirects=True) as following:
            again = await create_sink("slack").send(following, hook.url + HOOK_PATH, AlertGroup([breach()]), now=NOW)
    assert isinstance(outcome, Permanent) and isinstance(again, Permanent)
    assert outcome.reason.startswith("HTTP 302: the hook redirects elsewhere") and "set the new URL" in outcome.reason
    assert elsewhere.heads == [] and len(hook.heads) == 2


async def test_a_hook_on_a_private_network_is_refused_unless_allowed(ctx, tmp_path):
    async with hostile(answer(200, b"ok")) as hook:
        ctx.config = make_config(tmp_path, DEFAULT_TOML, allow_private_networks=False)
        refused = await deliver(ctx, hook.url + HOOK_PATH)
        assert hook.heads == []
        ctx.config = make_config(tmp_path, DEFAULT_TOML)
        assert isinstance(await deliver(ctx, hook.url + HOOK_PATH), Delivered)
    assert isinstance(refused, Permanent)
    assert refused.reason.startswith("address refused: refused to connect to 127.0.0.1: a loopback address")
    assert "hooksecretpart" not in refused.reason


async def test_an_answer_over_the_sinks_cap_is_refused(ctx):
    async with hostile(bomb()) as hook:
        outcome = await deliver(ctx, hook.url + HOOK_PATH)
    assert isinstance(outcome, Permanent)
    assert outcome.reason == "answer refused: the server sent more than 10 MB (decompressed); the answer was refused"
    assert Sink.max_response_bytes == 10 * 1024 * 1024


async def test_a_hooks_error_page_reaches_the_admin_as_short_plain_text(ctx):
    page = (b"<html><head><title>Bad</title><style>body{color:red}</style><script>alert(1)</script></head>"
            b"<body><h1>Bad &amp; wrong</h1><p>" + b"detail " * 300 + b"</p></body></html>")
    async with hostile(answer(400, page, Content_Type="text/html")) as hook:
        outcome = await deliver(ctx, hook.url + HOOK_PATH)
    assert isinstance(outcome, Permanent) and outcome.reason.startswith("HTTP 400: Bad & wrong detail detail")
    assert "<" not in outcome.reason and "alert(1)" not in outcome.reason and "color" not in outcome.reason
    assert len(outcome.reason) <= 220


async def test_the_dispatcher_dead_letters_an_alert_for_a_refused_hook(alerting, tmp_path, monkeypatch):
    a = alerting(sink_toml("ops", "slack"))
    strict = (tmp_path / "webcare.toml").read_text().replace("\nallow_private_networks = true", "")
    a.ctx.config = make_config(tmp_path, strict, allow_private_networks=False)
    async with hostile(answer(200, b"ok")) as hook:
        monkeypatch.setenv(url_env("ops"), hook.url + HOOK_PATH)
        a.ctx._http = None  # the app's own client, with the policy, instead of the fixture's plain one
        try:
            await a.ingest("m1", posted_at=a.clock() - minutes(61))
            await a.tick(minutes=2)
            await a.tick(minutes=2)
        finally:
            await close_client(a.ctx)
    [row] = [r for r in await a.rows("ops") if r.kind == "breached"]
    assert row.state == "dead" and row.last_error.startswith("address refused") and hook.heads == []
    assert "hooksecretpart" not in row.last_error
