"""The queue at scale: `GET /api/queue` (first page + counts) and the dashboard HTML with 10,000
waiting mentions among 100,000 and 1,000,000 stored, on SQLite and PostgreSQL.

Rows are loaded with plain SQL (executemany on SQLite, COPY on PostgreSQL in a database made
and dropped here, from WEBCARE_TEST_DATABASE_URL), statistics gathered (ANALYZE; VACUUM too on
PostgreSQL, as autovacuum would), then
sequential requests go through the whole app over httpx's ASGI transport. Each figure is
printed beside its bare SQL measured in the same run: the very statements (text and parameters,
BEGIN/COMMIT/ROLLBACK too) the route's warm-up request sent, listed, then replayed through the
bare driver, sqlite3 or asyncpg (bench/bare_sql.py; ratio app / bare), and through the app's own
engine (SQLAlchemy's async engine and driver, rows fetched untyped: the stack's floor for that SQL),
and each size beside the smallest (ratio: what history costs). It also times what one event
costs each open dashboard: the whole list fragment against the changed row's update.

    .venv/bin/python bench/queue_scale.py [--open 10000] [--totals 100000,1000000]
                                    [--requests 200] [--backend sqlite|postgres|both]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx

from app.accounts import tokens, users
from app.core.config import Settings, load_config
from app.core.context import AppContext
from app.core.db import Database
from app.core.migrate import upgrade
from app.main import create_app
from app.web.listen import asyncpg_dsn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/ and tests/support

from bench.bare_sql import Replay, capture, describe, engine_replay, postgres_replay, sqlite_replay
from tests.support.statements import StatementLog

COLUMNS = ("source", "channel", "external_id", "direction", "author", "text", "urgency", "urgency_reasons",
           "posted_at", "fetched_at", "due_at", "warning_at", "due_minute", "backfill", "removed", "status")
# One source, the one the rows came in by: its health is on the dashboard, as in any team's.
CONFIG = ('[sla]\ntarget_minutes = 60\nwarning_minutes = 45\n\n'
          '[[sources]]\nname = "push"\nkind = "webhook"\nsecret_env = "WEBCARE_BENCH_PUSH_SECRET"\n')


def make_rows(waiting: int, total: int, now: datetime) -> list[tuple]:
    rng = random.Random(15)
    rows = []
    for n in range(total):
        is_waiting = n < waiting
        posted = now - (timedelta(minutes=rng.uniform(0, 90)) if is_waiting else timedelta(days=rng.uniform(0, 100)))
        status = ("claimed" if n % 7 == 0 else "open") if is_waiting else ("answered" if n % 3 else "dismissed")
        due = posted + timedelta(hours=1)
        rows.append(("push", "push", f"b{n}", "inbound", f"klant{n % 5000}",
                     f"Mijn pakket {n} is nog steeds niet bezorgd, wat is er aan de hand?", n % 3, "[]",
                     posted, posted, due, posted + timedelta(minutes=45), int(due.timestamp() // 60),
                     False, False, status))
    rng.shuffle(rows)  # waiting rows spread through the table, as in life
    return rows


def load_sqlite(path: Path, rows: list[tuple]) -> None:
    def naive(value):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ") if isinstance(value, datetime) else value

    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    conn.executemany(f"INSERT INTO mentions ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
                     ([naive(v) for v in row] for row in rows))
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()


async def load_postgres(url: str, rows: list[tuple]) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await conn.copy_records_to_table("mentions", records=rows, columns=COLUMNS)
        await conn.execute("VACUUM ANALYZE mentions")  # as autovacuum leaves a table at rest
    finally:
        await conn.close()


def sqlite_driver(path: Path) -> Callable[[StatementLog], Replay]:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)  # as the app's (app/core/db.py)
    return lambda log: sqlite_replay(conn, log)


def p95(values: list[float]) -> float:
    return sorted(values[:-1])[int(0.95 * (len(values) - 1))] * 1000


def p50(values: list[float]) -> float:
    return sorted(values[:-1])[(len(values) - 1) // 2] * 1000


def cpu(values: list[float]) -> float:
    return values[-1] * 1000


async def timed(requests: int, call: Callable[[], Awaitable[None]]) -> list[float]:
    """Wall seconds per call, then the process's CPU seconds per call as the last item (this
    process's: on SQLite the queries' too, on PostgreSQL not the server's)."""
    for _ in range(10):
        await call()
    times = []
    cpu = time.process_time()
    for _ in range(requests):
        started = time.perf_counter()
        await call()
        times.append(time.perf_counter() - started)
    return [*times, (time.process_time() - cpu) / requests]


async def measure(folder: Path, url: str, bare: Callable[[StatementLog], Replay], requests: int) -> dict:
    ctx = AppContext(settings=Settings(data_dir=folder), config=load_config(folder / "webcare.toml"),
                     db=Database(url), secret_key="b" * 40)
    async with ctx.db.write() as session:
        user = await users.create_user(session, f"bench{uuid.uuid4().hex[:6]}", "correct-horse-battery", "lead")
        token = await tokens.create_token(session, user)
    app = create_app(ctx)
    headers = {"Authorization": f"Bearer {token}"}
    result = {}
    async with app.router.lifespan_context(app), \
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://b") as client:
        async def api() -> None:
            r = await client.get("/api/queue?limit=100", headers=headers)
            assert r.status_code == 200 and len(r.json()["items"]) == 100, r.text[:200]

        async def page() -> None:
            r = await client.get("/", headers=headers)
            assert r.status_code == 200 and "sla-breached" in r.text

        # What one event costs each open dashboard: the whole list fragment (as every event did
        # before) against the changed row with the page's order and counts (as now).
        changed = (await client.get("/api/queue?limit=1", headers=headers)).json()["items"][0]["id"]

        async def whole_list() -> None:
            r = await client.get("/partials/queue", headers=headers)
            assert r.status_code == 200 and "sla-breached" in r.text

        async def rows() -> None:
            r = await client.get(f"/partials/queue/rows?ids={changed}", headers=headers)
            assert r.status_code == 200 and f'id="mention-{changed}"' in r.text

        # Each route's bare SQL: what its warm-up request sent, replayed on the bare driver.
        bare_api, bare_page = (await capture(ctx.db.engine, api)), (await capture(ctx.db.engine, page))
        print(describe("GET /api/queue?limit=100", bare_api))
        print(describe("GET /", bare_page))
        # Interleaved, so load on the machine touches both sides alike.
        result["bare api"] = await timed(requests, bare(bare_api))
        result["engine api"] = await timed(requests, engine_replay(ctx.db, bare_api))
        result["api"] = await timed(requests, api)
        result["bare page"] = await timed(requests, bare(bare_page))
        result["engine page"] = await timed(requests, engine_replay(ctx.db, bare_page))
        result["page"] = await timed(requests, page)
        result["whole list"] = await timed(requests, whole_list)
        result["rows"] = await timed(requests, rows)
    return result


def show(label: str, r: dict) -> None:
    for name, bare in (("api", "bare api"), ("page", "bare page")):
        what = "GET /api/queue?limit=100" if name == "api" else "GET / (dashboard)      "
        print(f"{label}: {what} p50 {p50(r[name]):6.1f} ms  p95 {p95(r[name]):6.1f} ms   bare SQL p50 "
              f"{p50(r[bare]):6.1f} ms  p95 {p95(r[bare]):6.1f} ms   ratio p50 {p50(r[name]) / p50(r[bare]):4.2f}  "
              f"p95 {p95(r[name]) / p95(r[bare]):4.2f}   CPU {cpu(r[name]):5.1f} ms/request (bare {cpu(r[bare]):4.1f})")
        engine = r["engine " + name]
        print(f"{label}: {what} the same SQL through the app's engine (untyped rows) p50 {p50(engine):6.1f} ms  "
              f"p95 {p95(engine):6.1f} ms   app / engine ratio p50 {p50(r[name]) / p50(engine):4.2f}  "
              f"p95 {p95(r[name]) / p95(engine):4.2f}")
    print(f"{label}: one event, the whole list (/partials/queue) p50 {p50(r['whole list']):6.1f} ms  p95 "
          f"{p95(r['whole list']):6.1f} ms   the changed row (/partials/queue/rows) p50 {p50(r['rows']):6.1f} ms  "
          f"p95 {p95(r['rows']):6.1f} ms   ratio p50 {p50(r['rows']) / p50(r['whole list']):4.2f}")


async def run_postgres_size(url: str, folder: Path, requests: int) -> dict:
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        return await measure(folder, url, lambda log: postgres_replay(conn, log), requests)
    finally:
        await conn.close()


def run(backend: str, waiting: int, totals: list[int], requests: int, admin_url: str | None) -> None:
    results = {}
    for total in totals:
        rows = make_rows(waiting, total, datetime.now(UTC))
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            (folder / "webcare.toml").write_text(CONFIG)
            started = time.perf_counter()
            if backend == "sqlite":
                path = folder / "bench.db"
                url = f"sqlite+aiosqlite:///{path}"
                upgrade(url)
                load_sqlite(path, rows)
                del rows  # a million tuples kept alive would weigh on every request measured
                print(f"sqlite: loaded {total:,} rows in {time.perf_counter() - started:.1f} s")
                results[total] = asyncio.run(measure(folder, url, sqlite_driver(path), requests))
            else:
                name = f"webcare_bench_{uuid.uuid4().hex[:10]}"
                url = f"{admin_url.rpartition('/')[0]}/{name}"
                asyncio.run(_admin(admin_url, f'CREATE DATABASE "{name}"'))
                try:
                    upgrade(url)
                    asyncio.run(load_postgres(url, rows))
                    del rows
                    results[total] = asyncio.run(run_postgres_size(url, folder, requests))
                    print(f"postgres: loaded {total:,} rows and measured in {time.perf_counter() - started:.1f} s")
                finally:
                    asyncio.run(_admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        show(f"{backend}, {waiting:,} waiting of {total:,}", results[total])
    smallest = min(totals)
    for total in totals:
        if total != smallest:
            for name in ("api", "page"):
                print(f"{backend}: {name} at {total:,} / at {smallest:,}: p50 "
                      f"{p50(results[total][name]) / p50(results[smallest][name]):.2f}  p95 "
                      f"{p95(results[total][name]) / p95(results[smallest][name]):.2f}")


async def _admin(admin_url: str, statement: str) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(admin_url))
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--open", type=int, default=10_000)
    parser.add_argument("--totals", default="100000,1000000")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    args = parser.parse_args()
    admin_url = os.environ.get("WEBCARE_TEST_DATABASE_URL")
    if args.backend != "sqlite" and not admin_url:
        raise SystemExit("PostgreSQL needs WEBCARE_TEST_DATABASE_URL (e.g. postgresql+asyncpg://postgres@127.0.0.1/postgres)")
    totals = [int(t) for t in args.totals.split(",")]
    for backend in ("sqlite", "postgres"):
        if args.backend in (backend, "both"):
            run(backend, args.open, totals, args.requests, admin_url)


if __name__ == "__main__":
    main()
