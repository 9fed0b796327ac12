"""Ingest throughput: the app's ingest path against plain sqlite3, measured in the same run.

Both sides write the same rows in the same batch size with one commit per batch and an
insert-or-ignore on (channel, external_id). The ratio (app / plain) is what matters on a
noisy machine; the issue's target is >= 0.25.

    .venv/bin/python bench/ingest.py [--rows 100000] [--batch 500]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from app.core.db import Database
from app.core.migrate import upgrade
from app.intake.store import IngestContext, SourceRef, ingest_batch
from app.privacy.pseudonym import erasure_key
from app.sla import SlaPolicy
from connectors.base import NewMention

START = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


def make_batches(rows: int, batch: int) -> list[list[NewMention]]:
    mentions = [NewMention(external_id=f"ext-{i}", posted_at=START + timedelta(seconds=i), author=f"user{i % 997}",
                           text=f"Mijn pakket {i} is nog steeds niet bezorgd, wat is er aan de hand?",
                           channel="mastodon", language="nl") for i in range(rows)]
    return [mentions[i:i + batch] for i in range(0, rows, batch)]


async def run_app(path: Path, batches) -> float:
    url = f"sqlite+aiosqlite:///{path}"
    await asyncio.to_thread(upgrade, url)
    db = Database(url)
    # As the app runs it: with the check that leaves out posts purged or erased before.
    ctx = IngestContext(policy=SlaPolicy(), erased_key=erasure_key("bench-secret-key-" * 3))
    source = SourceRef(name="bench", kind="mastodon")
    started = time.perf_counter()
    for n, batch in enumerate(batches):
        await ingest_batch(db, source, batch, ctx, cursor={"n": n}, now=START)
    elapsed = time.perf_counter() - started
    await db.dispose()
    return elapsed


def run_plain(path: Path, batches) -> float:
    """The floor: plain sqlite3 on the same migrated schema (same indexes), the same column
    values, one transaction per batch holding the rows, their events and the cursor."""
    upgrade(f"sqlite+aiosqlite:///{path}")
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("INSERT INTO source_state (source, kind, created_at, fetched_total, skipped_total, reads_total, "
                 "consecutive_failures, health) VALUES ('bench', 'mastodon', '2026-11-02 08:00:00', 0, 0, 0, 0, 'ok')")
    stamp = START.replace(tzinfo=None).isoformat(sep=" ")
    started = time.perf_counter()
    for n, batch in enumerate(batches):
        conn.execute("BEGIN IMMEDIATE")
        ids = []
        for m in batch:
            posted = m.posted_at.replace(tzinfo=None)
            cur = conn.execute(
                "INSERT INTO mentions (source, channel, external_id, direction, author, text, language, urgency, "
                "urgency_reasons, posted_at, fetched_at, due_at, warning_at, backfill, removed, status) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING RETURNING id, external_id",
                ("bench", m.channel, m.external_id, "inbound", m.author, m.text, m.language, 0, "[]",
                 posted.isoformat(sep=" "), stamp, (posted + timedelta(hours=1)).isoformat(sep=" "),
                 (posted + timedelta(minutes=45)).isoformat(sep=" "), 0, 0, "open"))
            ids.extend(cur.fetchall())
        conn.executemany("INSERT INTO events (created_at, type, mention_id, source, data) VALUES (?,?,?,?,?)",
                         [(stamp, "mention.created", i, "bench",
                           json.dumps({"id": i, "external_id": e, "status": "open", "channel": "mastodon"}))
                          for i, e in ids])
        conn.execute("UPDATE source_state SET cursor = ?, last_success_at = ?, fetched_total = fetched_total + ? "
                     "WHERE source = 'bench'", (json.dumps({"n": n}), stamp, len(batch)))
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    batches = make_batches(args.rows, args.batch)
    with tempfile.TemporaryDirectory() as tmp:
        plain = run_plain(Path(tmp) / "plain.db", batches)
        app = asyncio.run(run_app(Path(tmp) / "app.db", batches))
    plain_rate, app_rate = args.rows / plain, args.rows / app
    print(f"rows={args.rows} batch={args.batch}")
    print(f"plain sqlite3 : {plain_rate:10.0f} mentions/s ({plain:.2f} s)")
    print(f"webcare ingest: {app_rate:10.0f} mentions/s ({app:.2f} s)")
    print(f"ratio app/plain: {app_rate / plain_rate:.2f} (target >= 0.25)")


if __name__ == "__main__":
    main()
