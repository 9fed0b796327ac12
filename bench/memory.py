"""Memory of one `webcare serve` (web + in-process worker, SQLite) with 10 sources polling fake
servers that speak the channels' real protocols (two each of Mastodon, Bluesky, Reddit, RSS and
X, every 5 s, new posts in four languages arriving all the time) for `--seconds`.

Prints the process's peak resident set (VmHWM) against the target (150 MB) and beside its
baseline, measured in the same run at the same time: the same `webcare serve` with no source
at all. The difference is what polling, storing and classifying posts costs.

    .venv/bin/python bench/memory.py [--seconds 60]
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the fakes in tests/support

from bench.processes import WEBCARE, free_port, peak_rss_mib, rss_mib, wait_healthy, webcare_env
from tests.support.connectors import fake_bluesky, fake_mastodon, fake_reddit, fake_x
from tests.support.connectors.conformance import served
from tests.support.connectors.fake_rss import FakeFeed

TARGET_MB = 150   # decimal megabytes, the stricter reading: 143.05 MiB
MIB = 2**20 / 10**6  # MB per MiB
INTERVAL = 5
# Posts in every language the team answers in, so language detection walks a realistic share
# of its model, and with the brand's name, so every connector's query matches them.
TEXTS = (
    "Waar blijft mijn pakket? Al drie dagen niets gehoord van acme, dit is echt belachelijk",
    "acme my invoice was charged twice this month and nobody answers the phone",
    "Warum ist die Bestellung bei acme immer noch nicht angekommen? Sehr enttäuschend",
    "acme, ma commande est arrivée cassée, je voudrais un remboursement s'il vous plaît",
    "Storing bij acme? De app doet het al de hele ochtend niet #acme",
    "Thanks acme for the quick help yesterday, great service!",
)


def config(urls: dict[str, str]) -> str:
    blocks = ["[app]\nallow_private_networks = true\n"]
    for n in (1, 2):
        common = f'interval_seconds = {INTERVAL}\nbackfill_hours = 0\n'
        blocks += [
            f'[[sources]]\nname = "mastodon-{n}"\nkind = "mastodon"\nbase_url = "{urls["mastodon"]}"\n'
            f'hashtags = ["{fake_mastodon.TAG}"]\ntoken_env = "BENCH_MASTODON_TOKEN"\n{common}',
            f'[[sources]]\nname = "bluesky-{n}"\nkind = "bluesky"\nbase_url = "{urls["bluesky"]}"\n'
            f'identifier = "{fake_bluesky.IDENTIFIER}"\napp_password_env = "BENCH_BSKY_PASSWORD"\n'
            f'query = "{fake_bluesky.QUERY}"\n{common}',
            f'[[sources]]\nname = "reddit-{n}"\nkind = "reddit"\nbase_url = "{urls["reddit"]}"\n'
            f'query = "{fake_reddit.QUERY}"\nsubreddits = ["{fake_reddit.SUB}"]\n'
            f'client_id_env = "BENCH_REDDIT_ID"\nclient_secret_env = "BENCH_REDDIT_SECRET"\n'
            f'user_agent = "{fake_reddit.USER_AGENT}"\n{common}',
            f'[[sources]]\nname = "rss-{n}"\nkind = "rss"\nurl = "{urls["rss"]}/feed.xml"\n{common}',
            f'[[sources]]\nname = "x-{n}"\nkind = "x"\nbase_url = "{urls["x"]}"\nquery = "acme"\n'
            f'bearer_token_env = "BENCH_X_BEARER"\n{common}',
        ]
    return "\n".join(blocks)


SECRETS = {"BENCH_MASTODON_TOKEN": fake_mastodon.TOKEN, "BENCH_BSKY_PASSWORD": fake_bluesky.APP_PASSWORD,
           "BENCH_REDDIT_ID": fake_reddit.CLIENT_ID, "BENCH_REDDIT_SECRET": fake_reddit.CLIENT_SECRET,
           "BENCH_X_BEARER": fake_x.BEARER}


@contextlib.asynccontextmanager
async def fakes() -> AsyncIterator[dict[str, object]]:
    async with served(fake_mastodon.FakeMastodon()) as mastodon, served(fake_bluesky.FakeBluesky()) as bluesky, \
            served(fake_reddit.FakeReddit()) as reddit, served(FakeFeed()) as rss, served(fake_x.FakeX()) as x:
        yield {"mastodon": mastodon, "bluesky": bluesky, "reddit": reddit, "rss": rss, "x": x}


def add_posts(channels: dict[str, object], n: int) -> None:
    """One new post on every fake channel, in the next language."""
    text = TEXTS[n % len(TEXTS)] + f" ({n})"
    for name, fake in channels.items():
        html = f"<p>{text} #{fake_mastodon.TAG}</p>" if name == "mastodon" else text
        fake.add_posts(1, html=html)  # type: ignore[attr-defined]


@contextlib.contextmanager
def serving(folder: Path, toml: str):
    folder.mkdir()
    (folder / "webcare.toml").write_text(toml)
    env = webcare_env(folder, **SECRETS)
    subprocess.run([WEBCARE, "migrate"], env=env, check=True, capture_output=True)
    port = free_port()
    process = subprocess.Popen([WEBCARE, "serve", "--port", str(port)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_healthy(f"http://127.0.0.1:{port}")
        yield process
    finally:
        process.terminate()
        process.wait(30)


def stored(folder: Path) -> int:
    import sqlite3

    with contextlib.closing(sqlite3.connect(folder / "webcare.db")) as db:
        return db.execute("SELECT count(*) FROM mentions").fetchone()[0]


async def run(seconds: int) -> dict[str, float]:
    async with fakes() as channels:
        urls = {name: fake.base_url for name, fake in channels.items()}  # type: ignore[attr-defined]
        with tempfile.TemporaryDirectory() as tmp:
            with serving(Path(tmp) / "idle", "") as idle, serving(Path(tmp) / "polling", config(urls)) as polling:
                start, n = time.monotonic(), 0
                while time.monotonic() - start < seconds:
                    add_posts(channels, n)
                    n += 1
                    await asyncio.sleep(1)
                figures = {"peak": peak_rss_mib(polling.pid), "now": rss_mib(polling.pid),
                           "idle_peak": peak_rss_mib(idle.pid), "posts": n * len(channels)}
            db = Path(tmp) / "polling" / "webcare.db"
            figures["stored"] = stored(db.parent) if db.exists() else 0
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=60)
    args = parser.parse_args()
    f = asyncio.run(run(args.seconds))
    verdict = "within" if f["peak"] * MIB <= TARGET_MB else "OVER"
    print(f"memory: 10 sources polling for {args.seconds} s, {f['posts']:.0f} posts published, "
          f"{f['stored']:.0f} mentions stored")
    print(f"memory: peak RSS {f['peak']:.1f} MiB = {f['peak'] * MIB:.1f} MB (now {f['now']:.1f} MiB) — {verdict} "
          f"the {TARGET_MB} MB target; "
          f"baseline (the same serve with no source) {f['idle_peak']:.1f} MiB: ratio {f['peak'] / f['idle_peak']:.2f}")


if __name__ == "__main__":
    main()
