"""`GET /api/queue` speed through the whole app (routing, auth, the queue query, the response).

Fills a freshly migrated SQLite database with open mentions through the ingest path, then times
sequential requests for the first page over httpx's ASGI transport (no network), after a warm-up.

    .venv/bin/python bench/queue_api.py [--mentions 500] [--requests 200] [--limit 100]
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from app.accounts import tokens, users
from app.core.config import Settings, load_config
from app.core.context import AppContext
from app.core.db import Database
from app.core.migrate import upgrade
from app.intake.store import store_batch
from app.main import create_app
from connectors.base import NewMention

CONFIG = """
[sla]
target_minutes = 60
warning_minutes = 45
timezone = "Europe/Amsterdam"

[[sources]]
name = "push"
kind = "webhook"
secret_env = "WEBCARE_BENCH_SECRET"
"""


async def run(tmp: str, mentions: int, requests: int, limit: int) -> None:
    url = f"sqlite+aiosqlite:///{tmp}/bench.db"
    (Path(tmp) / "webcare.toml").write_text(CONFIG)
    ctx = AppContext(settings=Settings(data_dir=Path(tmp)), config=load_config(Path(tmp) / "webcare.toml"),
                     db=Database(url), secret_key="x" * 40)
    now = datetime.now(UTC)
    batch = [NewMention(external_id=f"q{i}", posted_at=now - timedelta(minutes=i % 90), author=f"klant{i % 70}",
                        text=f"Mijn pakket {i} is nog steeds niet bezorgd, wat is er aan de hand?")
             for i in range(mentions)]
    source = ctx.source("push")
    async with ctx.db.write() as session:
        await store_batch(session, ctx.source_ref(source), batch, ctx.ingest_context(source), now=now)
        user = await users.create_user(session, "bench", "correct-horse-battery", "responder")
        token = await tokens.create_token(session, user)
    app = create_app(ctx)
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://b") as client,
    ):
        for _ in range(20):
            assert (await client.get(f"/api/queue?limit={limit}", headers=headers)).status_code == 200
        times = []
        for _ in range(requests):
            start = time.perf_counter()
            r = await client.get(f"/api/queue?limit={limit}", headers=headers)
            times.append(time.perf_counter() - start)
            assert r.status_code == 200 and len(r.json()["items"]) == min(limit, mentions)
    await ctx.close()
    total = sum(times)
    print(f"{requests} requests, {limit} of {mentions} open mentions each: total {total:.2f} s, "
          f"mean {1000 * total / requests:.1f} ms, median {1000 * statistics.median(times):.1f} ms, "
          f"p90 {1000 * sorted(times)[int(0.9 * requests)]:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mentions", type=int, default=500)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--limit", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        upgrade(f"sqlite+aiosqlite:///{tmp}/bench.db")  # runs its own event loop
        asyncio.run(run(tmp, args.mentions, args.requests, args.limit))


if __name__ == "__main__":
    main()
