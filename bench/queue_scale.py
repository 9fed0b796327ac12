"""The queue at scale: `GET /api/queue` (first page + counts) and the dashboard HTML with 10,000
waiting mentions among 100,000 and 1,000,000 stored, on SQLite and PostgreSQL.

Rows are loaded with plain SQL (executemany on SQLite, COPY on PostgreSQL in a database made and
dropped here, from WEBCARE_TEST_DATABASE_URL), statistics gathered (ANALYZE; VACUUM too on
PostgreSQL, as autovacuum would), then sequential requests go through the whole app over httpx's
ASGI transport, taking turns with their baselines and with the other size's. Each figure is
printed beside its bare SQL measured in the same run: the very statements (text and parameters,
BEGIN/COMMIT/ROLLBACK too) the route's warm-up request sent, listed, then replayed through the
bare driver, sqlite3 or asyncpg (bench/bare_sql.py; ratio app / bare), and through the app's own
engine (SQLAlchemy's async engine and driver, rows fetched untyped: the stack's floor for that
SQL; on SQLite also through SQLAlchemy alone, without aiosqlite's thread), and each size beside
the smallest (ratio: what history costs). It also times what one event costs each open dashboard:
the whole list fragment against the changed row's update.

    .venv/bin/python bench/queue_scale.py [--open 10000] [--totals 100000,1000000]
                                    [--requests 200] [--backend sqlite|postgres|both]
"""
from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from contextlib import AsyncExitStack, ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import asyncpg
import httpx
import sqlalchemy as sa

from app.accounts import tokens, users
from app.core.config import Settings, load_config
from app.core.context import AppContext
from app.core.db import Database
from app.core.migrate import upgrade
from app.main import create_app
from app.web.listen import asyncpg_dsn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/ and tests/support

from bench.bare_sql import (
    Replay,
    capture,
    describe,
    engine_replay,
    postgres_replay,
    sqlalchemy_replay,
    sqlite_replay,
)
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
        try:  # and the checkpoint the load's WAL calls for, not left to run beside the requests
            await conn.execute("CHECKPOINT")
        except asyncpg.InsufficientPrivilegeError:
            print("postgres: no CHECKPOINT (not a superuser): one may run during the 1M measurements")
    finally:
        await conn.close()


def sqlite_driver(path: Path) -> Callable[[StatementLog], Replay]:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)  # as the app's (app/core/db.py)
    return lambda log: sqlite_replay(conn, log)


class PostgresDriver:
    """asyncpg, on one connection opened with the first replay (in the measuring event loop)."""

    def __init__(self, url: str) -> None:
        self.url, self.conn = url, None

    def __call__(self, log: StatementLog) -> Replay:
        async def run() -> None:
            if self.conn is None:
                self.conn = await asyncpg.connect(asyncpg_dsn(self.url))
            await postgres_replay(self.conn, log)()
        return run

    async def close(self) -> None:
        if self.conn is not None:
            await self.conn.close()


def sqlalchemy_alone(path: Path) -> Callable[[StatementLog], Replay]:
    conn = sa.create_engine(f"sqlite:///{path}").connect()
    return lambda log: sqlalchemy_replay(conn, log)


K = TypeVar("K")


def p95(values: list[float]) -> float:
    return sorted(values[:-1])[int(0.95 * (len(values) - 1))] * 1000


def p50(values: list[float]) -> float:
    return sorted(values[:-1])[(len(values) - 1) // 2] * 1000


def cpu(values: list[float]) -> float:
    return values[-1] * 1000


async def timed(requests: int, calls: dict[K, Callable[[], Awaitable[None]]]) -> dict[K, list[float]]:
    """For each call: wall seconds per call, then the process's CPU seconds per call as the last
    item (this process's: on SQLite the queries' too, on PostgreSQL not the server's). The calls
    take turns, one each per round, so a burst of load on the machine falls on all of them alike."""
    for _ in range(10):
        for call in calls.values():
            await call()
    times: dict[K, list[float]] = {name: [] for name in calls}
    cpu = dict.fromkeys(calls, 0.0)
    for _ in range(requests):
        for name, call in calls.items():
            started, started_cpu = time.perf_counter(), time.process_time()
            await call()
            times[name].append(time.perf_counter() - started)
            cpu[name] += time.process_time() - started_cpu
    return {name: [*times[name], cpu[name] / requests] for name in calls}


@dataclass
class Size:
    """One database of the run: `bare` replays a statement log on its bare driver, `alone`
    through SQLAlchemy without the async driver (SQLite)."""
    total: int
    folder: Path
    url: str
    bare: Callable[[StatementLog], Replay]
    alone: Callable[[StatementLog], Replay] | None = None
    close: Callable[[], Awaitable[None]] | None = None   # the bare driver's connection


@dataclass
class Opened:
    db: Database
    calls: dict[str, Callable[[], Awaitable[None]]]   # each route, requested as a lead would
    logs: dict[str, StatementLog]                     # what the API's and the dashboard's warm-ups sent


async def open_app(size: Size, stack: AsyncExitStack) -> Opened:
    ctx = AppContext(settings=Settings(data_dir=size.folder), config=load_config(size.folder / "webcare.toml"),
                     db=Database(size.url), secret_key="b" * 40)
    async with ctx.db.write() as session:
        user = await users.create_user(session, f"bench{uuid.uuid4().hex[:6]}", "correct-horse-battery", "lead")
        token = await tokens.create_token(session, user)
    app = create_app(ctx)
    headers = {"Authorization": f"Bearer {token}"}
    await stack.enter_async_context(app.router.lifespan_context(app))
    client = await stack.enter_async_context(
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://b"))

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
    logs = {"api": await capture(ctx.db.engine, api), "page": await capture(ctx.db.engine, page)}
    print(describe(f"{size.total:,} stored, GET /api/queue?limit=100", logs["api"]))
    print(describe(f"{size.total:,} stored, GET /", logs["page"]))
    return Opened(ctx.db, {"api": api, "page": page, "whole list": whole_list, "rows": rows}, logs)


async def measure(sizes: list[Size], requests: int) -> dict[int, dict[str, list[float]]]:
    """Every size's app open at once, their requests and baselines taking turns: a slow minute of
    the machine then falls on the sizes alike (one size after the other, it fell on one)."""
    result: dict[int, dict[str, list[float]]] = {size.total: {} for size in sizes}
    async with AsyncExitStack() as stack:
        opened = {size.total: await open_app(size, stack) for size in sizes}
        for size in sizes:
            if size.close:
                stack.push_async_callback(size.close)
        for route in ("api", "page"):
            calls: dict[tuple[int, str], Callable[[], Awaitable[None]]] = {}
            for size in sizes:
                app, log = opened[size.total], opened[size.total].logs[route]
                calls[size.total, f"bare {route}"] = size.bare(log)
                calls[size.total, f"engine {route}"] = engine_replay(app.db, log)
                if size.alone:
                    calls[size.total, f"alone {route}"] = size.alone(log)
                calls[size.total, route] = app.calls[route]
            for (total, name), times in (await timed(requests, calls)).items():
                result[total][name] = times
        events = {(size.total, name): opened[size.total].calls[name]
                  for size in sizes for name in ("whole list", "rows")}
        for (total, name), times in (await timed(requests, events)).items():
            result[total][name] = times
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
        if alone := r.get("alone " + name):
            print(f"{label}: {what} the same SQL through SQLAlchemy alone (no async driver) p50 {p50(alone):6.1f} ms  "
                  f"p95 {p95(alone):6.1f} ms   / bare SQL p50 {p50(alone) / p50(r[bare]):4.2f}  "
                  f"(the rest of the engine's: aiosqlite's thread)")
    print(f"{label}: one event, the whole list (/partials/queue) p50 {p50(r['whole list']):6.1f} ms  p95 "
          f"{p95(r['whole list']):6.1f} ms   the changed row (/partials/queue/rows) p50 {p50(r['rows']):6.1f} ms  "
          f"p95 {p95(r['rows']):6.1f} ms   ratio p50 {p50(r['rows']) / p50(r['whole list']):4.2f}")


def fill(backend: str, url: str, waiting: int, total: int) -> None:
    """The schema and the rows, made in a child process (`filled`): a million tuples built in the
    measuring process left its heap large and slower, request after request, long after they
    were freed (the 1M figures' CPU grew where their SQL did not)."""
    upgrade(url)
    rows = make_rows(waiting, total, datetime.now(UTC))
    if backend == "sqlite":
        load_sqlite(Path(url.removeprefix("sqlite+aiosqlite:///")), rows)
    else:
        asyncio.run(load_postgres(url, rows))


def filled(backend: str, url: str, waiting: int, total: int) -> None:
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as child:
        child.submit(fill, backend, url, waiting, total).result()


def run(backend: str, waiting: int, totals: list[int], requests: int, admin_url: str | None) -> None:
    with ExitStack() as cleanup:
        sizes = []
        for total in totals:
            folder = Path(cleanup.enter_context(tempfile.TemporaryDirectory()))
            (folder / "webcare.toml").write_text(CONFIG)
            started = time.perf_counter()
            if backend == "sqlite":
                path = folder / "bench.db"
                url = f"sqlite+aiosqlite:///{path}"
                filled(backend, url, waiting, total)
                sizes.append(Size(total, folder, url, sqlite_driver(path), sqlalchemy_alone(path)))
            else:
                name = f"webcare_bench_{uuid.uuid4().hex[:10]}"
                url = f"{admin_url.rpartition('/')[0]}/{name}"
                asyncio.run(_admin(admin_url, f'CREATE DATABASE "{name}"'))
                cleanup.callback(asyncio.run, _admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                filled(backend, url, waiting, total)
                driver = PostgresDriver(url)
                sizes.append(Size(total, folder, url, driver, close=driver.close))
            print(f"{backend}: loaded {total:,} rows in {time.perf_counter() - started:.1f} s")
        results = asyncio.run(measure(sizes, requests))
    for total in totals:
        show(f"{backend}, {waiting:,} waiting of {total:,}", results[total])
    smallest = min(totals)
    for total in totals:
        if total != smallest:
            # The bare SQL's and the engine's too: what history costs the SQL, beside the route's.
            for name in ("api", "page", "bare api", "bare page", "engine api", "engine page"):
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
