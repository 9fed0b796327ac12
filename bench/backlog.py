"""Backlog draining: a fake Mastodon holds `--backlog` waiting mentions of the brand and gets
`--rate` new ones a second for `--seconds`, polled by one real `webcare worker` (a 5 s interval).
Prints whether the worker caught up, the lag (posts posted but not yet stored, and the same in
seconds of posting) at its worst and when the feed stopped, the time to drain, and the drain
rate (posts stored per second while there was a backlog).

Baseline, measured in the same run on the same database: the same number of posts in pages of
80 (a notifications page) stored by `ingest_batch` directly (no HTTP, no fake, no worker), the rate the worker's intake
cannot exceed. The ratio drain / baseline says what fetching, leases and scheduling cost. (The
old policy, 10 pages of 40 per poll and then the interval, capped a source at 400 posts per
interval: at most ~73 posts/s with a 5 s interval and a half-second poll.)

    .venv/bin/python bench/backlog.py [--rate 500] [--seconds 30] [--backlog 3000] [--database-url URL]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the fakes in tests/support

from sqlalchemy import func, select

from app.core.config import Settings, load_config
from app.core.context import AppContext
from app.core.db import Database
from app.core.models import Mention
from app.intake.store import SourceRef, ingest_batch
from connectors.base import NewMention
from connectors.mastodon import NOTIFICATIONS_PAGE_SIZE
from tests.support.connectors.conformance import serve
from tests.support.connectors.fake_mastodon import TOKEN, FakeMastodon

WEBCARE = str(Path(sys.executable).parent / "webcare")
PAGE = NOTIFICATIONS_PAGE_SIZE   # the source reads the brand's notifications
TEXT = "Bericht {n}: mijn pakket is nog steeds niet bezorgd, kunnen jullie kijken?"


def config(base_url: str) -> str:
    return f"""
[app]
allow_private_networks = true
[brand]
own_accounts = ["acme@social.example"]
[[sources]]
name = "masto"
kind = "mastodon"
base_url = "{base_url}"
notifications = true
token_env = "BENCH_MASTODON_TOKEN"
interval_seconds = 5
"""


async def stored(ctx: AppContext, source: str) -> int:
    async with ctx.db.read() as s:
        return (await s.exec(select(func.count()).select_from(Mention).where(Mention.source == source))).scalar_one()


async def baseline(ctx: AppContext, n: int) -> float:
    """Posts per second through ingest_batch alone, in pages of PAGE."""
    source = ctx.config.sources[0]
    ref, ingest = SourceRef(name="baseline", kind="mastodon"), ctx.ingest_context(source)
    started = time.perf_counter()
    for first in range(-PAGE, n, PAGE):   # the first page warms up (language models), untimed
        if first == 0:
            started = time.perf_counter()
        now = datetime.now(UTC)
        batch = [NewMention(external_id=f"baseline-{i}", posted_at=now, author=f"klant{i % 3}@example.org",
                            text=TEXT.format(n=i)) for i in range(first, min(n, first + PAGE))]
        await ingest_batch(ctx.db, ref, batch, ingest, cursor={"i": first}, now=now)
    return n / (time.perf_counter() - started)


async def run(args) -> None:
    folder = Path(tempfile.mkdtemp(prefix="webcare-backlog-"))
    url = args.database_url or f"sqlite+aiosqlite:///{folder / 'webcare.db'}"
    fake = FakeMastodon()
    async with serve(fake.app()) as base_url:
        fake.base_url = base_url
        (folder / "webcare.toml").write_text(config(base_url))
        env = {k: v for k, v in os.environ.items() if not k.startswith("WEBCARE_")}
        env.update(WEBCARE_DATABASE_URL=url, WEBCARE_CONFIG=str(folder / "webcare.toml"), WEBCARE_DATA_DIR=str(folder),
                   WEBCARE_SECRET_KEY="b" * 40, BENCH_MASTODON_TOKEN=TOKEN)
        subprocess.run([WEBCARE, "migrate"], env=env, check=True, capture_output=True)
        ctx = AppContext(settings=Settings(data_dir=folder), config=load_config(folder / "webcare.toml"),
                         db=Database(url), secret_key="b" * 40)
        posted = 0

        def post(n: int) -> None:
            nonlocal posted
            for _ in range(n):
                posted += 1
                fake.clock = datetime.now(UTC)   # posted now (the fake steps 7 s a post by itself)
                fake.mention_brand(fake.customers[posted % len(fake.customers)], TEXT.format(n=posted))

        worker_log = (folder / "worker.log").open("wb")
        worker = subprocess.Popen([WEBCARE, "worker", "--no-migrate"], env=env, stdout=worker_log,
                                  stderr=subprocess.STDOUT)
        samples: list[tuple[float, int, int]] = []   # (seconds since start, posted, stored)
        try:
            # A Mastodon source's first poll reads only the newest page of notifications (older
            # ones are history); the backlog is what piles up after it.
            post(1)
            while await stored(ctx, "masto") < 1:
                await asyncio.sleep(0.2)
            post(args.backlog)
            started = time.monotonic()
            per_tick = args.rate / 10
            owed = 0.0
            feed_ends = started + args.seconds
            next_sample = started
            while time.monotonic() < feed_ends:   # the feed, sampled twice a second
                owed += per_tick
                post(int(owed))
                owed -= int(owed)
                if time.monotonic() >= next_sample:
                    samples.append((time.monotonic() - started, posted, await stored(ctx, "masto")))
                    next_sample += 0.5
                await asyncio.sleep(0.1)
            fed_for = time.monotonic() - started
            at_feed_end = samples[-1]
            while (now_stored := await stored(ctx, "masto")) < posted:
                if time.monotonic() - started > args.seconds + args.drain_timeout:
                    break
                samples.append((time.monotonic() - started, posted, now_stored))
                await asyncio.sleep(0.25)
            drained_at = time.monotonic() - started
            final = await stored(ctx, "masto")
        finally:
            worker.terminate()
            worker.wait(20)
            worker_log.close()
        max_lag = max(p - s for _, p, s in samples)
        caught_up = next((t for t, p, s in samples if p - s < PAGE), None)
        drain_rate = (final - samples[0][2]) / drained_at
        base_rate = await baseline(ctx, min(final, 5000))
        await ctx.db.dispose()

    backend = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    offered = f"{args.backlog} waiting + {args.rate}/s for {fed_for:.0f} s = {posted} posts"
    print(f"backlog drain ({backend}, one worker, interval 5 s): {offered}")
    print(f"  stored {final} of {posted}: {'ALL' if final == posted else 'MISSING ' + str(posted - final)}")
    print(f"  lag at worst {max_lag} posts ({max_lag / args.rate:.1f} s of posting); "
          f"at the feed's end {at_feed_end[1] - at_feed_end[2]} posts")
    print("  caught up (lag under one page) " + (f"after {caught_up:.1f} s" if caught_up else "not while fed")
          + f"; drained {drained_at - fed_for:.1f} s after the feed stopped")
    print(f"  drain rate {drain_rate:.0f} posts/s; baseline ingest_batch alone {base_rate:.0f} posts/s: "
          f"ratio {drain_rate / base_rate:.2f}; offered {args.rate}/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=int, default=500)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--backlog", type=int, default=3000)
    parser.add_argument("--drain-timeout", type=int, default=300)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
