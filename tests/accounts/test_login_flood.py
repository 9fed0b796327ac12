"""Sign-in against a real `webcare serve` process, as the red team did: a flood of wrong
passwords does not slow signed pushes down, and X-Forwarded-For is believed only from a
configured proxy, so rotating it does not dodge the limits."""
from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from app.accounts import throttle
from app.core.db import Database
from app.core.models import AuditEntry
from tests.support.accounts import PASSWORD, login, serve_process, webcare_command
from tests.support.app import DEFAULT_TOML, write_config
from tests.support.login_flood import THREADS
from tests.support.push import mention, push

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
PROXY = "127.0.0.2"  # the test's own "reverse proxy": connections made from this loopback address


def setup_server(tmp_path: Path, db_url: str, trusted_proxies: list[str] | None = None) -> None:
    app_section = f"[app]\ntrusted_proxies = {json.dumps(trusted_proxies)}\n" if trusted_proxies else ""
    write_config(tmp_path, app_section + DEFAULT_TOML)
    webcare_command(tmp_path, db_url, "user", "add", "anna", "--role", "responder", "--password-stdin",
                    stdin=PASSWORD + "\n")


async def test_forwarded_for_is_believed_only_from_a_trusted_proxy(tmp_path, db_url):
    setup_server(tmp_path, db_url, trusted_proxies=[PROXY])
    with serve_process(tmp_path, db_url, "--no-worker") as base:
        async with httpx.AsyncClient(base_url=base) as direct:  # peer 127.0.0.1: no proxy
            for i in range(throttle.ADDRESS_LIMIT.failures):
                wrong = await login(direct, f"user{i}", "wrong-password!",
                                    headers={"X-Forwarded-For": f"203.0.113.{i}"})
                assert wrong.status_code == 401
            rotated = await login(direct, "anna", headers={"X-Forwarded-For": "203.0.113.200"})
            assert rotated.status_code == 429 and int(rotated.headers["retry-after"]) > 0

        proxy = httpx.AsyncHTTPTransport(local_address=PROXY)
        async with httpx.AsyncClient(base_url=base, transport=proxy) as via_proxy:
            for i in range(throttle.ADDRESS_LIMIT.failures):
                wrong = await login(via_proxy, f"user{i}", "wrong-password!", headers={"X-Forwarded-For": "192.0.2.1"})
                assert wrong.status_code == 401
            assert (await login(via_proxy, "anna", headers={"X-Forwarded-For": "192.0.2.1"})).status_code == 429
            # Another address behind the proxy has its own count (and 127.0.0.1's block is not theirs).
            assert (await login(via_proxy, "anna", headers={"X-Forwarded-For": "192.0.2.2"})).status_code == 303

    db = Database(db_url)
    async with db.read() as s:
        logins = (await s.exec(select(AuditEntry).where(AuditEntry.action == "login"))).scalars().all()
    await db.dispose()
    assert [entry.detail["client"] for entry in logins] == ["192.0.2.2"]


async def timed_pushes(client: httpx.AsyncClient, count: int, into: list[float]) -> None:
    for _ in range(count):
        started = time.perf_counter()
        answer = await push(client, [mention(f"m-{time.monotonic_ns()}")])
        into.append(time.perf_counter() - started)
        assert answer.status_code == 202, answer.text


def p90(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=10)[8]


@dataclass
class Measurement:
    quiet: list[float] = field(default_factory=list)
    flooded: list[float] = field(default_factory=list)

    def within_bounds(self) -> bool:
        return (statistics.median(self.flooded) < 2 * statistics.median(self.quiet)
                and p90(self.flooded) < 2.5 * p90(self.quiet))

    def __str__(self) -> str:
        return (f"quiet median {statistics.median(self.quiet) * 1000:.1f} ms, p90 {p90(self.quiet) * 1000:.1f} ms; "
                f"flooded median {statistics.median(self.flooded) * 1000:.1f} ms, "
                f"p90 {p90(self.flooded) * 1000:.1f} ms")


async def measure(client: httpx.AsyncClient, flood: subprocess.Popen) -> Measurement:
    """60 pushes quiet and 60 during the flood, in alternating blocks of 5."""
    result = Measurement()
    for block in range(12):
        for flooding in ((False, True) if block % 2 == 0 else (True, False)):
            if flooding:
                flood.stdin.write("go\n")
                flood.stdin.flush()
                await asyncio.sleep(0.5)  # the threads are posting
            await timed_pushes(client, 5, result.flooded if flooding else result.quiet)
            if flooding:
                flood.stdin.write("pause\n")
                flood.stdin.flush()
                await asyncio.sleep(0.3)  # posts in flight are answered
    return result


async def test_a_login_flood_does_not_slow_signed_pushes_down(tmp_path, db_url):
    """Pushes are timed in short alternating blocks, quiet and during the flood, so the shared
    machine's other load falls on both alike; a measurement the machine's own load spoiled is
    taken again, up to three in all (before the fix every one was a hundred times slower).
    The flood's four threads run in their own process (they would hold the GIL of the thread
    timing the pushes) at a lower CPU priority: an attacker's client does not run on the
    server's two cores, and here it would otherwise take one of them from the server."""
    setup_server(tmp_path, db_url)
    measurements: list[Measurement] = []
    with serve_process(tmp_path, db_url) as base:
        flood = subprocess.Popen(["nice", "-n", "10", sys.executable, "-m", "tests.support.login_flood", base, "anna"],
                                 cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            async with httpx.AsyncClient(base_url=base, timeout=30) as client:
                await timed_pushes(client, 5, [])  # warm-up: connections, caches
                while len(measurements) < 3 and not any(m.within_bounds() for m in measurements):
                    measurements.append(await measure(client, flood))
        finally:
            answers = json.loads(flood.communicate(timeout=60)[0])
    report = "; ".join(f"measurement {i + 1}: {m}" for i, m in enumerate(measurements)) + f"; flood answers {answers}"
    print(report)
    assert sum(answers.values()) >= 200 * len(measurements), report  # the flood really ran
    # Only the first few wrong passwords were checked; everything after was refused unhashed.
    assert answers.get("401", 0) <= throttle.USER_LIMIT.failures + THREADS, report
    assert set(answers) <= {"401", "429"}, report
    assert measurements[-1].within_bounds(), report
