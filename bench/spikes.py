"""Spike check speed (categories and terms), beside the bare reads it cannot do without.

Loads a freshly migrated SQLite database with mentions at a steady rate over five weeks (real
post texts from tests/craft/data/, with an incident word mixed into the last quarter-hour),
then times:
- the bare reads: the five `SELECT id, category, text ... LIMIT <sample>` of the last 15 minutes
  and the same quarter-hour of the past four weeks, through the raw driver;
- `find_spikes()` as the worker runs it every minute (category counts, term sampling and
  tokenising, history look-ups, folding).

The ratio find_spikes / bare reads is what to compare across machines.

    .venv/bin/python bench/spikes.py [--per-window 3000] [--background 200000]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from app.alerts.spikes import check as spikes
from app.alerts.spikes.check import WINDOW, find_spikes, history_slots
from app.core.config import Config
from app.core.db import Database
from app.core.migrate import upgrade

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
WEEKS = 5
DATA = Path(__file__).resolve().parent.parent / "tests" / "craft" / "data"
COLUMNS = ("source", "channel", "external_id", "direction", "author", "text", "category", "urgency",
           "urgency_reasons", "posted_at", "fetched_at", "backfill", "removed", "status")
RUNS = 5


def texts() -> list[tuple[str, str]]:
    with open(DATA / "labelled_posts.jsonl", encoding="utf-8") as f:
        return [(p["text"], p["category"]) for p in map(json.loads, f) if p.get("text")]


def _ts(value: datetime) -> str:
    return value.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")   # as SQLAlchemy stores it


def make_rows(per_window: int, background: int, seed: int = 3) -> list[tuple]:
    """`per_window` mentions in each compared quarter-hour (the last one with an incident word
    in a third of them) and `background` more spread over the five weeks."""
    rng, pool, rows = random.Random(seed), texts(), []

    def add(at: datetime, text: str, category: str) -> None:
        i = len(rows)
        rows.append(("bench", "x", f"e{i}", "inbound", f"a{rng.randrange(50_000)}", text, category, 0, "[]",
                     _ts(at), _ts(at), False, False, "answered"))

    windows = [(NOW - WINDOW, NOW), *history_slots(NOW, "Europe/Amsterdam")]
    for n, (start, _end) in enumerate(windows):
        for _ in range(per_window):
            text, category = rng.choice(pool)
            if n == 0 and rng.random() < 0.33:
                text += " #pinstoring pinautomaat"
            add(start + timedelta(seconds=rng.uniform(0, WINDOW.total_seconds() - 1)), text, category)
    span = timedelta(weeks=WEEKS).total_seconds()
    for _ in range(background):
        text, category = rng.choice(pool)
        add(NOW - timedelta(weeks=WEEKS) + timedelta(seconds=rng.uniform(0, span - 3600)), text, category)
    return rows


def load(path: Path, rows: list[tuple]) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    conn.executemany(f"INSERT INTO mentions ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})", rows)
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()


def bare_reads(path: Path) -> float:
    conn = sqlite3.connect(path)
    started = time.perf_counter()
    for start, end in [(NOW - WINDOW, NOW), *history_slots(NOW, "Europe/Amsterdam")]:
        conn.execute("SELECT id, category, text FROM mentions WHERE direction = 'inbound' AND NOT backfill "
                     "AND NOT removed AND posted_at >= ? AND posted_at < ? ORDER BY posted_at DESC, id DESC "
                     f"LIMIT {spikes.TEXT_SAMPLE}", (_ts(start), _ts(end))).fetchall()
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


async def time_find(url: str) -> tuple[float, list]:
    db, config, runs, found = Database(url), Config(), [], []
    try:
        for _ in range(RUNS):
            async with db.read() as session:
                started = time.perf_counter()
                found = await find_spikes(session, NOW, config)
                runs.append(time.perf_counter() - started)
    finally:
        await db.dispose()
    return statistics.median(runs), found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-window", type=int, default=spikes.TEXT_SAMPLE)
    parser.add_argument("--background", type=int, default=200_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        upgrade(f"sqlite+aiosqlite:///{path}")
        load(path, make_rows(args.per_window, args.background))
        bare = statistics.median(bare_reads(path) for _ in range(RUNS))
        took, found = asyncio.run(time_find(f"sqlite+aiosqlite:///{path}"))
    print(f"sqlite: {args.per_window:,} mentions per compared quarter-hour, {args.background:,} more in five weeks")
    print(f"  bare reads (5 windows)   {bare:7.3f} s")
    print(f"  find_spikes              {took:7.3f} s   ratio {took / bare:5.1f}")
    print("  found: " + ", ".join(f"{f.topic.subject} ({f.spike.count}, related {f.related})" for f in found))


if __name__ == "__main__":
    main()
