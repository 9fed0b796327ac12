"""Operations: health, readiness, metrics, sources, and the demo as a new user runs it."""
from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from app.core.context import AppContext
from app.core.db import Database
from app.core.models import AlertOutbox
from app.main import create_app
from tests.support.accounts import open_stream
from tests.support.app import add_user, bearer, free_port
from tests.support.push import mention, push


@pytest.mark.asyncio
async def test_healthz_and_readyz(app_client):
    assert (await app_client.get("/healthz")).json() == {"status": "ok"}
    assert (await app_client.get("/readyz")).json() == {"status": "ready"}


@pytest.mark.asyncio
async def test_readyz_is_503_when_the_database_is_unreachable(ctx, tmp_path):
    broken = AppContext(settings=ctx.settings, config=ctx.config, secret_key=ctx.secret_key,
                        db=Database(f"sqlite+aiosqlite:///{tmp_path}/missing-dir/nope/webcare.db"))
    app = create_app(broken)
    # No lifespan: the event tailer would only log the same failure.
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        r = await client.get("/readyz")
    assert r.status_code == 503 and r.json()["status"] == "unavailable"
    await broken.db.dispose()


def families(text: str) -> dict[str, list]:
    """The exposition read by Prometheus's own parser: family name → samples."""
    return {f.name: f.samples for f in text_string_to_metric_families(text)}


def value(samples, name: str, **labels) -> float:
    found = [s.value for s in samples if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())]
    assert len(found) == 1, (name, labels, samples)
    return found[0]


async def scrape(client: httpx.AsyncClient, token: str) -> dict[str, list]:
    r = await client.get("/metrics", headers=bearer(token))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain; version=")
    return families(r.text)


@pytest.mark.asyncio
async def test_metrics_report_ingest_open_states_oldest_age_and_intake_latency(app_client, ctx):
    token = await add_user(ctx, "ops", "admin")
    before = await scrape(app_client, token)
    await push(app_client, [mention("m1", 70), mention("m2", 50), mention("m3", 5)])
    found = await scrape(app_client, token)
    assert value(found["webcare_ingested"], "webcare_ingested_total", source="push") == 3
    for state in ("ok", "warning", "breached"):
        assert value(found["webcare_open_mentions"], "webcare_open_mentions", sla_state=state) == 1
    assert 69 * 60 <= value(found["webcare_oldest_open_age_seconds"], "webcare_oldest_open_age_seconds") <= 71 * 60
    # Counted by this process (the counters outlive one test: compare with before).
    intake = found["webcare_intake_latency_seconds"]
    earlier = {s.name: s.value for s in before.get("webcare_intake_latency_seconds", [])
               if s.labels.get("source") == "push" and "le" not in s.labels}
    assert value(intake, "webcare_intake_latency_seconds_count", source="push") - \
        earlier.get("webcare_intake_latency_seconds_count", 0) == 3
    assert 124 * 60 <= value(intake, "webcare_intake_latency_seconds_sum", source="push") - \
        earlier.get("webcare_intake_latency_seconds_sum", 0) <= 126 * 60
    requests = found["webcare_http_request_duration_seconds"]
    assert value(requests, "webcare_http_request_duration_seconds_count", method="POST",
                 route="/api/ingest/{source_name}", status="202") >= 1
    assert value(requests, "webcare_http_request_duration_seconds_count", method="GET", route="/metrics",
                 status="200") >= 1
    assert not any("m1" in s.labels.get("route", "") for s in requests)  # templates, never raw paths


@pytest.mark.asyncio
async def test_metrics_need_a_token_and_show_the_outbox_per_sink(app_client, ctx):
    assert (await app_client.get("/metrics")).status_code == 401
    now = ctx.now()
    async with ctx.db.write() as session:
        for n, state in enumerate(("pending", "pending", "dead", "sent")):
            session.add(AlertOutbox(sink="team-chat", kind="breached", dedupe_key=f"breached:{n}", payload={},
                                    state=state, created_at=now, next_attempt_at=now))
    found = await scrape(app_client, await add_user(ctx, "ops", "admin"))
    outbox = found["webcare_outbox_alerts"]
    assert value(outbox, "webcare_outbox_alerts", sink="team-chat", state="pending") == 2
    assert value(outbox, "webcare_outbox_alerts", sink="team-chat", state="dead") == 1


@pytest.mark.asyncio
async def test_metrics_count_event_streams_and_the_events_they_were_handed(live_server, ctx):
    token = await add_user(ctx, "ops", "admin")
    async with httpx.AsyncClient(base_url=live_server) as client:
        before = await scrape(client, token)
        async with open_stream(client, bearer(token), until="mention.created") as stream:
            during = await scrape(client, token)
            assert (await push(client, [mention("counted")])).status_code == 202
            await asyncio.wait_for(stream.task, 10)
        after = await scrape(client, token)
    clients = [value(f["webcare_sse_clients"], "webcare_sse_clients") for f in (before, during)]
    assert clients[1] - clients[0] == 1
    delivered = [value(f["webcare_events_delivered"], "webcare_events_delivered_total") for f in (before, after)]
    assert delivered[1] - delivered[0] >= 1
    assert not any(s.labels.get("route") == "/api/events" for s in after["webcare_http_request_duration_seconds"])


@pytest.mark.asyncio
async def test_sources_api_and_page(app_client, ctx):
    token = await add_user(ctx, "ops", "admin")
    before = (await app_client.get("/api/sources", headers=bearer(token))).json()["sources"]
    assert len(before) == 1 and before[0]["name"] == "push" and before[0]["status"] == "waiting"
    await push(app_client, [mention("s1")])
    after = (await app_client.get("/api/sources", headers=bearer(token))).json()["sources"][0]
    assert after["status"] == "ok" and after["fetched"] == 1 and after["last_success_at"]
    page = await app_client.get("/sources", headers=bearer(token))
    assert page.status_code == 200 and "push" in page.text


def test_demo_serve_prints_a_working_login_and_shows_all_three_states(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEBCARE_")}
    env.update(WEBCARE_DATA_DIR=str(tmp_path), PYTHONUNBUFFERED="1")
    webcare = Path(sys.executable).parent / "webcare"
    proc = subprocess.Popen([str(webcare), "serve", "--demo", "--port", str(port)], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        password = None
        deadline = time.monotonic() + 60
        while password is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            found = re.search(r"Log in as 'demo' with password '([^']+)'", line)
            password = found.group(1) if found else None
        assert password, "no login printed"
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=10) as client:
            for _ in range(100):
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            page = client.get("/login")
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
            r = client.post("/login", data={"username": "demo", "password": password, "csrf_token": csrf},
                            follow_redirects=False)
            assert r.status_code == 303
            for _ in range(50):
                queue = client.get("/").text
                if "sla-breached" in queue:
                    break
                time.sleep(0.2)
            assert all(f"mention sla-{s}" in queue for s in ("ok", "warning", "breached"))
            assert "Demo" in queue
    finally:
        proc.terminate()
        proc.wait(15)
