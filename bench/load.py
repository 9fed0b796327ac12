"""The deployment under load: `--clients` dashboards holding an event stream and `--rate` new
mentions a second (signed pushes, one mention each) for `--seconds`, through Debian's nginx
running deploy/nginx.conf in front of two `webcare serve --no-worker` processes and a
`webcare worker`, on PostgreSQL.

The streams are held by child processes, 50 each (bench/sse_clients.py), so that reading them
never delays the pushes or their clocks here. Prints errors (failed pushes, broken streams,
events missing or twice at any client), the push's own round trip and push → event at the SSE
clients (p50/p95/max over every mention at every client) against the target (zero errors, p95
≤ 1 s), beside its baseline measured in the same run against the same servers: the same pushes
with one client.

    .venv/bin/python bench/load.py [--clients 200] [--rate 50] [--seconds 60]
    (needs WEBCARE_TEST_DATABASE_URL, a PostgreSQL server it may create a database on, and
    /usr/sbin/nginx)
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
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/support

from bench.processes import WEBCARE, cpu_seconds, free_port, pct, peak_rss_mib, wait_healthy, webcare_env
from tests.support.app import PUSH_SECRET, PUSH_SECRET_ENV
from tests.support.nginx import nginx_available, nginx_folder, nginx_running
from tests.support.push import signed_headers

P95_TARGET = 1.0
ROOT = Path(__file__).resolve().parents[1]
#: Streams per child process holding them (bench/sse_clients.py): 200 take four.
STREAMS_PER_HOLDER = 50
CONFIG = f'[[sources]]\nname = "push"\nkind = "webhook"\nsecret_env = "{PUSH_SECRET_ENV}"\n'


class StreamHolder:
    """A child process holding `count` event streams (bench/sse_clients.py)."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process, self.fewest, self.result = process, 0, b""

    @classmethod
    async def start(cls, base: str, token: str, count: int, prefix: str) -> StreamHolder:
        address = urlsplit(base)
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.sse_clients", address.hostname or "127.0.0.1", str(address.port or 80),
            token, str(count), prefix, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, limit=1 << 30)
        holder = cls(process)
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), 90)
        if line.strip() != b"ready":
            raise RuntimeError(f"the stream holder did not start: {line[:200]!r}")
        return holder

    async def follow_progress(self) -> None:
        assert self.process.stdout is not None
        while (line := await self.process.stdout.readline()).startswith(b"progress "):
            self.fewest = int(line.split()[1])
        self.result = line

    async def finish(self, progress: asyncio.Task) -> list[dict]:
        """Each stream's arrivals and breakage, once the holder has let them go."""
        assert self.process.stdin is not None
        self.process.stdin.close()
        await asyncio.wait_for(progress, 60)
        await self.process.wait()
        return json.loads(self.result)


@dataclass
class Phase:
    clients: int
    sent: dict[str, float] = field(default_factory=dict)
    answered: list[float] = field(default_factory=list)
    lags: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    cpu: float = 0.0
    clients_cpu: float = 0.0   # the stream holders' own CPU


async def push_one(client: httpx.AsyncClient, external_id: str, phase: Phase) -> None:
    body = json.dumps({"mentions": [{
        "external_id": external_id, "author": f"klant{len(phase.sent) % 97}",
        "posted_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
        "text": f"Mijn pakket {external_id} is nog steeds niet bezorgd, wat is er aan de hand?"}]}).encode()
    start = time.perf_counter()
    phase.sent[external_id] = start
    try:
        response = await client.post("/api/ingest/push", content=body, headers=signed_headers(body))
        if response.status_code != 202 or response.json() != {"accepted": 1, "duplicates": 0}:
            phase.errors.append(f"push {external_id}: {response.status_code} {response.text[:200]}")
        phase.answered.append(time.perf_counter() - start)
    except httpx.HTTPError as exc:
        phase.errors.append(f"push {external_id}: {type(exc).__name__}: {exc}")


async def run_phase(base: str, token: str, clients: int, rate: int, seconds: float, label: str,
                    server_pids: list[int]) -> Phase:
    phase = Phase(clients)
    counts = [len(part) for part in _split(clients, STREAMS_PER_HOLDER)]
    holders = await asyncio.gather(*(StreamHolder.start(base, token, n, f"{label}-") for n in counts))
    progress = [asyncio.create_task(holder.follow_progress()) for holder in holders]
    await asyncio.sleep(1)
    cpu_before = sum(cpu_seconds(pid) for pid in server_pids)
    clients_cpu_before = sum(cpu_seconds(h.process.pid) for h in holders)
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:
        pushes: list[asyncio.Task] = []
        start, n = time.perf_counter(), 0
        while (now := time.perf_counter()) - start < seconds:
            due = int((now - start) * rate) + 1
            while n < due:
                pushes.append(asyncio.create_task(push_one(client, f"{label}-{n}", phase)))
                n += 1
            await asyncio.sleep(max(0.0, start + n / rate - time.perf_counter()))
        await asyncio.gather(*pushes)
    deadline = time.perf_counter() + 15
    while time.perf_counter() < deadline and any(h.fewest < len(phase.sent) for h in holders):
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.5)  # an event sent twice would be here by now
    phase.cpu = (sum(cpu_seconds(pid) for pid in server_pids) - cpu_before) / seconds
    phase.clients_cpu = (sum(cpu_seconds(h.process.pid) for h in holders) - clients_cpu_before) / seconds
    readers = [stream for holder, task in zip(holders, progress, strict=True) for stream in await holder.finish(task)]
    for number, reader in enumerate(readers):
        if reader["broken"]:
            phase.errors.append(f"client {number}: {reader['broken']}")
        arrived = reader["arrived"]
        missing = set(phase.sent) - set(arrived)
        twice = [k for k, times in arrived.items() if k in phase.sent and len(times) > 1]
        if missing:
            phase.errors.append(f"client {number}: {len(missing)} mentions never arrived")
        if twice:
            phase.errors.append(f"client {number}: {len(twice)} mentions arrived twice")
        phase.lags += [arrived[k][0] - t for k, t in phase.sent.items() if k in arrived]
    return phase


def _split(count: int, per_part: int) -> list[range]:
    """`count` streams in parts of at most `per_part`, as even as can be."""
    parts = max(1, -(-count // per_part))
    return [range(count * i // parts, count * (i + 1) // parts) for i in range(parts)]


def ms(seconds: float) -> str:
    return f"{1000 * seconds:.0f} ms"


def show(phase: Phase, rate: int, seconds: float) -> None:
    label = f"{phase.clients} client{'s' if phase.clients > 1 else ''}"
    print(f"load {label:>11}: {len(phase.sent)} pushes at {rate}/s for {seconds:.0f} s, "
          f"{len(phase.lags)} events delivered, {len(phase.errors)} errors; server CPU {phase.cpu:.2f} s/s "
          f"(the clients' {phase.clients_cpu:.2f} s/s)")
    if phase.answered:
        print(f"load {label:>11}: push round trip p50 {ms(statistics.median(phase.answered))}, "
              f"p95 {ms(pct(phase.answered, .95))}")
    if phase.lags:
        print(f"load {label:>11}: push -> SSE event p50 {ms(statistics.median(phase.lags))}, "
              f"p95 {ms(pct(phase.lags, .95))}, max {ms(max(phase.lags))}")
    for error in phase.errors[:5]:
        print(f"load {label:>11}:   {error}")


@contextlib.contextmanager
def database(admin_url: str) -> Iterator[str]:
    async def admin(statement: str) -> None:
        conn = await asyncpg.connect(admin_url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    name = f"webcare_load_{uuid.uuid4().hex[:10]}"
    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{admin_url.rpartition('/')[0]}/{name}"
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextlib.contextmanager
def deployment(folder: Path, db_url: str) -> Iterator[tuple[str, str, list[int]]]:
    """(nginx's base URL, an API token, the server process ids)."""
    (folder / "webcare.toml").write_text(CONFIG)
    env = webcare_env(folder, WEBCARE_DATABASE_URL=db_url, **{PUSH_SECRET_ENV: PUSH_SECRET})
    subprocess.run([WEBCARE, "migrate"], env=env, check=True, capture_output=True)
    subprocess.run([WEBCARE, "user", "add", "bench", "--role", "lead", "--password-stdin"], env=env,
                   input=b"correct-horse-battery\n", check=True, capture_output=True)
    token = subprocess.run([WEBCARE, "token", "create", "bench"], env=env, check=True,
                           capture_output=True).stdout.decode().split()[-1]
    ports = [free_port(), free_port()]
    with contextlib.ExitStack() as stack:
        processes = []
        for command in ([WEBCARE, "serve", "--no-worker", "--no-migrate", "--port", str(ports[0])],
                        [WEBCARE, "serve", "--no-worker", "--no-migrate", "--port", str(ports[1])],
                        [WEBCARE, "worker", "--no-migrate"]):
            process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            stack.callback(process.wait, 30)
            stack.callback(process.terminate)
            processes.append(process)
        for port in ports:
            wait_healthy(f"http://127.0.0.1:{port}")
        nginx_port = free_port()
        conf = nginx_folder(folder / "nginx", [f"127.0.0.1:{port}" for port in ports], nginx_port)
        base = stack.enter_context(nginx_running(conf, nginx_port))
        yield base, token, [p.pid for p in processes]


async def measure(base: str, token: str, pids: list[int], clients: int, rate: int,
                  seconds: float) -> tuple[Phase, Phase]:
    # Each web process loads its language model on its first post: not part of either figure,
    # and slowly enough that no backlog is left for the baseline.
    await run_phase(base, token, 1, 5, 3, "warm-up", pids)
    baseline = await run_phase(base, token, 1, rate, seconds, "one", pids)
    loaded = await run_phase(base, token, clients, rate, seconds, "many", pids)
    return baseline, loaded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--rate", type=int, default=50, help="new mentions a second")
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
    admin_url = os.environ.get("WEBCARE_TEST_DATABASE_URL")
    if not admin_url:
        raise SystemExit("bench/load.py needs WEBCARE_TEST_DATABASE_URL (a PostgreSQL server)")
    if not nginx_available():
        raise SystemExit("bench/load.py needs Debian's nginx (/usr/sbin/nginx)")
    with database(admin_url) as db_url, tempfile.TemporaryDirectory() as tmp, \
            deployment(Path(tmp), db_url) as (base, token, pids):
        baseline, loaded = asyncio.run(measure(base, token, pids, args.clients, args.rate, args.seconds))
        peaks = [peak_rss_mib(pid) for pid in pids]
    show(baseline, args.rate, args.seconds)
    show(loaded, args.rate, args.seconds)
    print(f"load: peak RSS web {peaks[0]:.0f} / {peaks[1]:.0f} MiB, worker {peaks[2]:.0f} MiB")
    if baseline.lags and loaded.lags:
        p95 = pct(loaded.lags, .95)
        verdict = "met" if p95 <= P95_TARGET and not loaded.errors else "MISSED"
        print(f"load: target (0 errors, p95 <= {P95_TARGET:.0f} s) {verdict}; p95 with {args.clients} clients / "
              f"with 1: {p95 / pct(baseline.lags, .95):.2f}x")


if __name__ == "__main__":
    main()
