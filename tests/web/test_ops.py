"""Operations: health, readiness, metrics, sources, and the demo as a new user runs it."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from app.core.context import AppContext
from app.core.db import Database
from app.main import create_app
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


@pytest.mark.asyncio
async def test_metrics_report_ingest_open_states_and_oldest_age(app_client, ctx):
    await push(app_client, [mention("m1", 70), mention("m2", 50), mention("m3", 5)])
    token = await add_user(ctx, "ops", "admin")
    text = (await app_client.get("/metrics", headers=bearer(token))).text
    assert 'webcare_ingested_total{source="push"} 3' in text
    for state in ("ok", "warning", "breached"):
        assert f'webcare_open_mentions{{sla_state="{state}"}} 1' in text
    age = float(re.search(r"^webcare_oldest_open_age_seconds (\S+)$", text, re.M).group(1))
    assert 69 * 60 <= age <= 71 * 60


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
