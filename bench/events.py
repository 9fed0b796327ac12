"""Live-update lag: from a signed push to the event at an SSE client, beside the push itself.

Real `webcare serve --no-worker` processes on spare ports. SQLite: one process takes the pushes
and serves the stream (its own commit wakes its event hub). PostgreSQL: two processes, pushes
to the first and the stream from the second (LISTEN/NOTIFY). The baseline, measured in the same
run, is the push's own round trip, which commits the mention and its event row; the ratio is
lag / push. Pushes are sequential, one mention each, after a warm-up.

    .venv/bin/python bench/events.py [--pushes 200] [--backend sqlite|postgres|both]
    (PostgreSQL needs WEBCARE_TEST_DATABASE_URL: a server it may create a database on)
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from base64 import b64encode
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
from standardwebhooks.webhooks import Webhook

from app.accounts import tokens, users
from app.core.db import Database
from app.core.migrate import upgrade
from app.web.listen import asyncpg_dsn

WEBCARE = str(Path(sys.executable).parent / "webcare")
SECRET = "whsec_" + b64encode(b"webcare-bench-push-secret-32byte").decode()
CONFIG = '[[sources]]\nname = "push"\nkind = "webhook"\nsecret_env = "WEBCARE_BENCH_SECRET"\n'
WARM_UP = 10


def signed(body: bytes) -> dict[str, str]:
    msg_id, now = f"msg_{uuid.uuid4().hex}", datetime.now(UTC)
    return {"content-type": "application/json", "webhook-id": msg_id, "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": Webhook(SECRET).sign(msg_id, now, body.decode())}


@contextlib.contextmanager
def serve(folder: Path, url: str) -> Iterator[str]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEBCARE_")}
    env.update(WEBCARE_DATABASE_URL=url, WEBCARE_DATA_DIR=str(folder), WEBCARE_CONFIG=str(folder / "webcare.toml"),
               WEBCARE_SECRET_KEY="b" * 40, WEBCARE_BENCH_SECRET=SECRET, WEBCARE_LOG_LEVEL="WARNING")
    process = subprocess.Popen([WEBCARE, "serve", "--no-worker", "--no-migrate", "--port", str(port)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(30)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def make_token(url: str) -> str:
    db = Database(url)
    async with db.write() as session:
        user = await users.create_user(session, "bench", "correct-horse-battery", "responder")
        token = await tokens.create_token(session, user)
    await db.dispose()
    return token


async def measure(push_to: str, watch: str, token: str, pushes: int) -> tuple[list[float], list[float]]:
    """(push round trips, push-to-event lags) in seconds, warm-up left out."""
    arrivals: asyncio.Queue[tuple[str, float]] = asyncio.Queue()
    started = asyncio.Event()

    async def listen(client: httpx.AsyncClient) -> None:
        async with client.stream("GET", "/api/events", headers={"Authorization": f"Bearer {token}"}) as response:
            async for line in response.aiter_lines():
                started.set()
                if line.startswith("data: ") and "external_id" in (data := json.loads(line[6:])):
                    arrivals.put_nowait((data["external_id"], time.perf_counter()))

    pushes_s, lags = [], []
    async with httpx.AsyncClient(base_url=push_to, timeout=30) as writer, \
            httpx.AsyncClient(base_url=watch, timeout=None) as reader:
        stream = asyncio.create_task(listen(reader))
        await asyncio.wait_for(started.wait(), 30)
        for n in range(WARM_UP + pushes):
            body = json.dumps({"mentions": [{
                "external_id": f"b{n}", "author": f"klant{n % 50}", "text": f"Mijn pakket {n} is niet bezorgd",
                "posted_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat()}]}).encode()
            sent = time.perf_counter()
            response = await writer.post("/api/ingest/push", content=body, headers=signed(body))
            answered = time.perf_counter()
            assert response.status_code == 202, response.text
            external_id, arrived = await asyncio.wait_for(arrivals.get(), 30)
            assert external_id == f"b{n}", external_id
            if n >= WARM_UP:
                pushes_s.append(answered - sent)
                lags.append(arrived - sent)
        stream.cancel()
        await asyncio.gather(stream, return_exceptions=True)
    return pushes_s, lags


def p(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))] * 1000


def show(label: str, pushes: list[float], lags: list[float]) -> None:
    for name, values in (("push (baseline)", pushes), ("push -> SSE event", lags)):
        print(f"{label}: {name:<18} p50 {p(values, .5):6.1f} ms  p95 {p(values, .95):6.1f} ms  "
              f"mean {1000 * statistics.mean(values):6.1f} ms")
    print(f"{label}: lag / push            p50 {p(lags, .5) / p(pushes, .5):5.2f}x   "
          f"p95 {p(lags, .95) / p(pushes, .95):5.2f}x")


def run_sqlite(pushes: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "webcare.toml").write_text(CONFIG)
        url = f"sqlite+aiosqlite:///{folder}/bench.db"
        upgrade(url)
        token = asyncio.run(make_token(url))
        with serve(folder, url) as one:
            show("sqlite, one process", *asyncio.run(measure(one, one, token, pushes)))


def run_postgres(pushes: int, admin_url: str) -> None:
    async def admin(statement: str) -> None:
        conn = await asyncpg.connect(asyncpg_dsn(admin_url))
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    name = f"webcare_bench_{uuid.uuid4().hex[:10]}"
    url = f"{admin_url.rpartition('/')[0]}/{name}"
    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            (folder / "webcare.toml").write_text(CONFIG)
            upgrade(url)
            token = asyncio.run(make_token(url))
            with serve(folder, url) as first, serve(folder, url) as second:
                show("postgres, two processes", *asyncio.run(measure(first, second, token, pushes)))
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pushes", type=int, default=200)
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    args = parser.parse_args()
    admin_url = os.environ.get("WEBCARE_TEST_DATABASE_URL")
    if args.backend != "sqlite" and not admin_url:
        raise SystemExit("PostgreSQL needs WEBCARE_TEST_DATABASE_URL (e.g. postgresql+asyncpg://postgres@127.0.0.1/postgres)")
    if args.backend in ("sqlite", "both"):
        run_sqlite(args.pushes)
    if args.backend in ("postgres", "both"):
        run_postgres(args.pushes, admin_url)


if __name__ == "__main__":
    main()
