"""SLA report speed over a large mentions table, beside the bare SQL aggregate it needs.

Loads N mentions (default 1,000,000, spread over 100 days) with plain SQL (executemany on
SQLite, COPY on PostgreSQL) into a freshly migrated database, then times:
- the bare aggregate: one `SELECT count(*), sum(...) ... WHERE posted_at in period` through the
  raw driver, the least any report over the period has to read;
- `sla_report()` as the API runs it (outcome counts, first-response times for the percentiles,
  repeat contacts, follow-ups), without grouping and for every `group_by` value;
- the reports page's four groupings (day, weekday_hour, responder, channel) one by one beside
  `sla_reports()` sharing passes between them.

The ratio report / bare aggregate is what to compare across machines. Targets on the 2-core
dev machine, for every grouping: at most 1 s on PostgreSQL and 2 s on SQLite.

    .venv/bin/python bench/reports.py [--rows 1000000] [--backend sqlite|postgres|both]

PostgreSQL uses WEBCARE_TEST_DATABASE_URL (a server it may create a database on); the
database is created for the run and dropped afterwards.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from app.core.db import Database
from app.core.migrate import upgrade
from app.reports import GROUP_BYS, ReportFilters, parse_period, sla_report, sla_reports

START = datetime(2026, 7, 1, tzinfo=UTC)
DAYS = 100
TZ = "Europe/Amsterdam"
NOW = START + timedelta(days=DAYS)
CHANNELS = ("mastodon", "bluesky", "reddit", "x", "rss")
CATEGORIES = ("delivery", "billing", "outage", "product", "service", "account", "praise", "question", "other")
LANGUAGES = ("nl", "en", "de", "fr")
RESPONDERS = tuple(f"responder{i}" for i in range(20))
REASONS = ("spam", "not_relevant", "duplicate", "no_reply_needed", "covered")
COLUMNS = ("source", "channel", "external_id", "direction", "author", "text", "language", "category", "urgency",
           "urgency_reasons", "posted_at", "fetched_at", "due_at", "warning_at", "backfill", "removed", "status",
           "answered_at", "answered_by", "first_response_seconds", "within_target", "dismissed_at", "dismiss_reason")
RUNS = 3
PAGE = ("day", "weekday_hour", "responder", "channel")  # what /reports shows


def make_rows(n: int, seed: int = 5) -> list[tuple]:
    """Realistic mix: 80 % answered (0-2 h), 10 % dismissed, 4 % open, 3 % backfill, 3 % our own posts;
    a fifth flagged as repeat contacts."""
    rng = random.Random(seed)
    step = DAYS * 86400 / n
    rows = []
    for i in range(n):
        posted = START + timedelta(seconds=int(i * step))
        channel = CHANNELS[i % len(CHANNELS)]
        roll = rng.random()
        direction = "outbound" if roll > 0.97 else "inbound"
        status, reason = "open", None
        answered_at = responder = seconds = within = dismissed_at = None
        if direction == "outbound":
            status = "answered"
        elif roll < 0.80:
            seconds = int(rng.expovariate(1 / 1800)) % 7200
            status, answered_at = "answered", posted + timedelta(seconds=seconds)
            responder, within = RESPONDERS[rng.randrange(len(RESPONDERS))], seconds <= 3600
        elif roll < 0.90:
            status, dismissed_at, reason = "dismissed", posted + timedelta(minutes=5), REASONS[i % len(REASONS)]
        rows.append((f"src-{channel}", channel, f"ext-{i}", direction, f"author{rng.randrange(200_000)}",
                     "Mijn pakket is nog steeds niet bezorgd", LANGUAGES[i % 4], CATEGORIES[i % 9], 0,
                     '["repeat"]' if rng.random() < 0.2 else "[]",
                     posted, posted + timedelta(seconds=30), posted + timedelta(hours=1),
                     posted + timedelta(minutes=45), 0.94 < roll <= 0.97, False, status, answered_at, responder,
                     seconds, within, dismissed_at, reason))
    return rows


def _sqlite_text(value):
    # The same text SQLAlchemy stores for a DateTime on SQLite (naive UTC).
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def load_sqlite(path: Path, rows: list[tuple]) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("BEGIN")
    conn.executemany(f"INSERT INTO mentions ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
                     ([_sqlite_text(v) for v in row] for row in rows))
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()


async def load_postgres(url: str, rows: list[tuple]) -> None:
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.copy_records_to_table("mentions", records=rows, columns=COLUMNS)
        await conn.execute("VACUUM ANALYZE mentions")  # as autovacuum leaves a table in use
    finally:
        await conn.close()


BARE = ("SELECT count(*), sum(CASE WHEN status = 'answered' THEN 1 ELSE 0 END), "
        "sum(CASE WHEN within_target THEN 1 ELSE 0 END) FROM mentions "
        "WHERE direction = 'inbound' AND NOT backfill AND posted_at >= {p} AND posted_at < {p2}")


def bare_sqlite(path: Path, since: datetime, until: datetime) -> Callable[[], Awaitable[float]]:
    async def run() -> float:
        conn = sqlite3.connect(path)
        started = time.perf_counter()
        conn.execute(BARE.format(p="?", p2="?"), (_sqlite_text(since), _sqlite_text(until))).fetchall()
        elapsed = time.perf_counter() - started
        conn.close()
        return elapsed
    return run


def bare_postgres(url: str, since: datetime, until: datetime) -> Callable[[], Awaitable[float]]:
    async def run() -> float:
        import asyncpg

        conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            started = time.perf_counter()
            await conn.fetch(BARE.format(p="$1", p2="$2"), since, until)
            return time.perf_counter() - started
        finally:
            await conn.close()
    return run


@dataclass
class Timing:
    bare: float  # the bare aggregate, measured just before this report (the machine is shared)
    report: float
    result: dict  # the report as the API returns it, to compare the backends


async def time_reports(url: str, bare: Callable[[], Awaitable[float]]) -> dict[str, Timing]:
    """Median of RUNS for the ungrouped report and each grouping, each beside its own bare runs."""
    db = Database(url)
    period = parse_period(START.date().isoformat(), (NOW - timedelta(days=1)).date().isoformat(), TZ, NOW)
    timings = {}
    try:
        for group_by in (None, *GROUP_BYS):
            bare_runs, runs = [], []
            for _ in range(RUNS):
                bare_runs.append(await bare())
                async with db.read() as session:
                    started = time.perf_counter()
                    report = await sla_report(session, period, NOW, group_by=group_by, filters=ReportFilters())
                    runs.append(time.perf_counter() - started)
            timings[group_by or "overall"] = Timing(statistics.median(bare_runs), statistics.median(runs),
                                                    report.as_dict())
        one_by_one, shared = [], []
        for _ in range(RUNS):
            async with db.read() as session:
                started = time.perf_counter()
                separate = {g: await sla_report(session, period, NOW, group_by=g) for g in PAGE}
                one_by_one.append(time.perf_counter() - started)
                started = time.perf_counter()
                together = await sla_reports(session, period, NOW, PAGE)
                shared.append(time.perf_counter() - started)
            if {g: r.as_dict() for g, r in together.items()} != {g: r.as_dict() for g, r in separate.items()}:
                raise SystemExit("shared passes gave other figures than the reports one by one")
        timings["page"] = Timing(statistics.median(one_by_one), statistics.median(shared), {})
    finally:
        await db.dispose()
    return timings


def period_bounds() -> tuple[datetime, datetime]:
    period = parse_period(START.date().isoformat(), (NOW - timedelta(days=1)).date().isoformat(), TZ, NOW)
    return period.since, period.until


def show(backend: str, timings: dict[str, Timing]) -> None:
    page = timings.pop("page")
    print(f"{backend}: {timings['overall'].result['overall']['mentions']:,} mentions in the SLA population")
    print(f"  {'report':<26} {'time':>8} {'bare':>8}  ratio")
    for name, t in timings.items():
        print(f"  sla_report({name:<13}) {t.report:7.3f}s {t.bare:7.3f}s  {t.report / t.bare:5.1f}")
    worst = max(timings, key=lambda name: timings[name].report)
    print(f"  slowest: {worst} {timings[worst].report:.3f} s")
    print(f"  reports page ({', '.join(PAGE)}): shared passes {page.report:.3f} s, "
          f"one by one {page.bare:.3f} s, ratio {page.report / page.bare:.2f}")


def run_sqlite(rows: list[tuple]) -> dict[str, Timing]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        upgrade(f"sqlite+aiosqlite:///{path}")
        started = time.perf_counter()
        load_sqlite(path, rows)
        print(f"sqlite: loaded {len(rows):,} rows in {time.perf_counter() - started:.1f} s")
        timings = asyncio.run(time_reports(f"sqlite+aiosqlite:///{path}", bare_sqlite(path, *period_bounds())))
        show("sqlite", timings)
        return timings


def run_postgres(rows: list[tuple], admin_url: str) -> dict[str, Timing]:
    import asyncpg

    async def admin(statement: str) -> None:
        conn = await asyncpg.connect(admin_url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    name = f"webcare_bench_{uuid.uuid4().hex[:10]}"
    url = f"{admin_url.rpartition('/')[0]}/{name}"
    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        upgrade(url)
        started = time.perf_counter()
        asyncio.run(load_postgres(url, rows))
        print(f"postgres: loaded {len(rows):,} rows in {time.perf_counter() - started:.1f} s")
        timings = asyncio.run(time_reports(url, bare_postgres(url, *period_bounds())))
        show("postgres", timings)
        return timings
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def compare(sqlite: dict[str, Timing], postgres: dict[str, Timing]) -> None:
    """Both databases must give the very same report for the same rows."""
    differ = [name for name in sqlite if sqlite[name].result != postgres[name].result]
    print("sqlite and postgres reports identical" if not differ else f"REPORTS DIFFER for: {', '.join(differ)}")
    if differ:
        raise SystemExit(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    args = parser.parse_args()
    rows = make_rows(args.rows)
    admin_url = os.environ.get("WEBCARE_TEST_DATABASE_URL")
    if args.backend != "sqlite" and not admin_url:
        raise SystemExit("PostgreSQL needs WEBCARE_TEST_DATABASE_URL (e.g. postgresql+asyncpg://postgres@127.0.0.1/postgres)")
    sqlite = run_sqlite(rows) if args.backend in ("sqlite", "both") else None
    postgres = run_postgres(rows, admin_url) if args.backend in ("postgres", "both") else None
    if sqlite and postgres:
        compare(sqlite, postgres)


if __name__ == "__main__":
    main()
