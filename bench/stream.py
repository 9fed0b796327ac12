"""Streaming intake under load: a fake Mastodon streaming API and a fake Jetstream each carry
`--rate` posts a second for `--seconds` (1 % of them matching the sources), into one
`webcare serve` process (SQLite, in-process worker). Prints whether the process kept up (posts
matched vs stored, lag at the end), the server's CPU seconds per second of stream, and how long a
matching post takes from being published to reaching a dashboard's event stream (SSE), p50/p95.

Baseline, measured in the same run against the same server: a signed push of one mention to
`POST /api/ingest/push`, from send to the same SSE client. The ratio stream p95 / push p95 says
what streaming intake costs beyond storing and announcing a post at all.

    .venv/bin/python bench/stream.py [--rate 1000] [--seconds 30]
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from standardwebhooks import Webhook

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the fakes in tests/support

from tests.support.connectors.conformance import serve
from tests.support.connectors.fake_jetstream import FakeJetstream
from tests.support.connectors.fake_jetstream import running as jetstream_running
from tests.support.connectors.fake_mastodon import TAG, TOKEN
from tests.support.connectors.fake_mastodon_stream import FakeMastodonStreaming

WEBCARE = str(Path(sys.executable).parent / "webcare")
SECRET = "whsec_" + base64.b64encode(b"bench-stream-secret-0123456789ab").decode()
PUSH_SAMPLES = 40


def config(mastodon_url: str, jetstream_url: str) -> str:
    return f"""
[app]
allow_private_networks = true
[[sources]]
name = "push"
kind = "webhook"
secret_env = "BENCH_PUSH_SECRET"
[[sources]]
name = "mastodon"
kind = "mastodon"
base_url = "{mastodon_url}"
hashtags = ["{TAG}"]
token_env = "BENCH_MASTODON_TOKEN"
stream = true
interval_seconds = 3600
[[sources]]
name = "firehose"
kind = "jetstream"
base_url = "{jetstream_url}"
query = "acme"
stream = true
interval_seconds = 3600
backfill_hours = 0
"""


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


class Seen:
    """The SSE client: when each external id's mention.created arrived."""

    def __init__(self) -> None:
        self.at: dict[str, float] = {}

    async def follow(self, base: str, token: str) -> None:
        headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
        async with httpx.AsyncClient(timeout=httpx.Timeout(10, read=None)) as client, \
                client.stream("GET", f"{base}/api/events", headers=headers) as response:
            event = ""
            async for line in response.aiter_lines():
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:") and event == "mention.created":
                    self.at.setdefault(json.loads(line[5:])["external_id"], time.perf_counter())


async def publish(mastodon: FakeMastodonStreaming, jetstream: FakeJetstream, rate: int, seconds: int,
                  sent: dict[str, float]) -> None:
    """`rate` posts a second on each fake, every hundredth one matching."""
    customer = mastodon.customers[0]
    tick = 0.05
    per_tick = max(1, int(rate * tick))
    n = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in range(per_tick):
            n += 1
            matching = n % 100 == 0
            # The fakes date each post a few seconds after the last; here posts are dated now.
            mastodon.clock = jetstream.clock = datetime.now(UTC) - timedelta(seconds=7)
            status = mastodon.post(customer, f"<p>post {n}{' #' + TAG if matching else ''}</p>",
                                   tags=[TAG] if matching else [])
            post = jetstream.create(f"did:plc:bench{n % 1000:020d}", f"post {n}{' acme kapot' if matching else ''}")
            if matching:
                now = time.perf_counter()
                sent[status["uri"]] = sent[post["uri"]] = now
        await asyncio.sleep(max(0.0, start + tick * (n // per_tick) - time.perf_counter()))


async def push_baseline(base: str, seen: Seen) -> list[float]:
    hook = Webhook(SECRET)
    waits = []
    async with httpx.AsyncClient(timeout=10) as client:
        for i in range(PUSH_SAMPLES):
            body = json.dumps({"mentions": [{"external_id": f"push-{i}", "author": "klant",
                                             "posted_at": datetime.now(UTC).isoformat(),
                                             "text": "acme: mijn pakket is kwijt"}]})
            msg_id, stamp = f"msg_{i}", datetime.now(UTC)
            headers = {"webhook-id": msg_id, "webhook-timestamp": str(int(stamp.timestamp())),
                       "webhook-signature": hook.sign(msg_id, stamp, body), "Content-Type": "application/json"}
            start = time.perf_counter()
            assert (await client.post(f"{base}/api/ingest/push", content=body, headers=headers)).status_code == 202
            while f"push-{i}" not in seen.at:
                await asyncio.sleep(0.002)
            waits.append(seen.at[f"push-{i}"] - start)
            await asyncio.sleep(0.05)
    return waits


async def run(rate: int, seconds: int) -> None:
    mastodon = FakeMastodonStreaming()
    async with serve(mastodon.app()) as mastodon_url, jetstream_running(FakeJetstream()) as jetstream:
        mastodon.base_url = mastodon_url
        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / "webcare.toml").write_text(config(mastodon_url, jetstream.base_url))
            env = {**{k: v for k, v in os.environ.items() if not k.startswith("WEBCARE_")},
                   "WEBCARE_CONFIG": f"{tmp}/webcare.toml", "WEBCARE_DATA_DIR": tmp, "WEBCARE_SECRET_KEY": "k" * 40,
                   "BENCH_PUSH_SECRET": SECRET, "BENCH_MASTODON_TOKEN": TOKEN}
            subprocess.run([WEBCARE, "migrate"], env=env, check=True, capture_output=True)
            subprocess.run([WEBCARE, "user", "add", "bench", "--role", "lead", "--password-stdin"], env=env,
                           input=b"correct-horse-battery\n", check=True, capture_output=True)
            token = subprocess.run([WEBCARE, "token", "create", "bench"], env=env, check=True,
                                   capture_output=True).stdout.decode().split()[-1]
            port = _free_port()
            server = subprocess.Popen([WEBCARE, "serve", "--port", str(port)], env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            base = f"http://127.0.0.1:{port}"
            try:
                await _ready(base)
                seen = Seen()
                follower = asyncio.create_task(seen.follow(base, token))
                await asyncio.sleep(5)  # both streams connected and caught up
                push = await push_baseline(base, seen)
                sent: dict[str, float] = {}
                cpu_before = cpu_seconds(server.pid)
                await publish(mastodon, jetstream, rate, seconds, sent)
                cpu = cpu_seconds(server.pid) - cpu_before
                deadline = time.perf_counter() + 30
                while time.perf_counter() < deadline and not set(sent) <= set(seen.at):
                    await asyncio.sleep(0.1)
                follower.cancel()
            finally:
                server.terminate()
                server.wait(20)
    arrived = [seen.at[k] - t for k, t in sent.items() if k in seen.at]
    missing = len(sent) - len(arrived)
    print(f"{2 * rate} posts/s for {seconds} s on two streams, {len(sent)} matching: "
          f"{len(arrived)} reached the dashboard, {missing} missing after 30 s")
    print(f"server CPU: {cpu / seconds:.2f} s per second of stream")
    print(f"stream → SSE: p50 {1000 * statistics.median(arrived):.0f} ms, p95 {1000 * pct(arrived, 0.95):.0f} ms")
    print(f"push → SSE (baseline): p50 {1000 * statistics.median(push):.0f} ms, p95 {1000 * pct(push, 0.95):.0f} ms")
    print(f"ratio stream p95 / push p95: {pct(arrived, 0.95) / pct(push, 0.95):.2f}")


def _free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _ready(base: str) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(300):
            try:
                if (await client.get(f"{base}/healthz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit("webcare serve did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=1000, help="posts a second on each stream")
    parser.add_argument("--seconds", type=int, default=30)
    args = parser.parse_args()
    asyncio.run(run(args.rate, args.seconds))


if __name__ == "__main__":
    main()
