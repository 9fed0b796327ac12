"""deploy/nginx.conf, the file docker-compose.yml mounts, run by Debian's nginx in front of two
`webcare serve --no-worker` processes and a `webcare worker` on PostgreSQL: what the compose
deployment does, without Docker (see tests/support/nginx.py)."""
from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.accounts import WEBCARE, serve_process, webcare_command, webcare_env
from tests.support.app import PG_ENV, free_port, need_or_skip, write_config
from tests.support.nginx import DEPLOY, nginx_args, nginx_available, nginx_folder, nginx_running
from tests.support.push import mention, signed_headers

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

ROOT = Path(__file__).resolve().parents[1]
MENTIONS = 30
#: From a push's answer (its mention and event row committed) to the event at a stream. An
#: event passes nginx at once or not at all: buffered, a small event would wait for kilobytes
#: more (minutes of keep-alive comments). Generous for a loaded 2-core machine.
PROMPT_SECONDS = 2.0


def need_nginx() -> None:
    if not nginx_available():
        need_or_skip("the nginx tests need Debian's nginx (/usr/sbin/nginx: apt-get install nginx-light)")


async def _admin(statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(os.environ[PG_ENV].replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    admin = os.environ.get(PG_ENV)
    if not admin:
        need_or_skip(f"the nginx deployment test runs on PostgreSQL: set {PG_ENV}")
    name = f"webcare_nginx_{uuid.uuid4().hex[:10]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{admin.rpartition('/')[0]}/{name}"
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextlib.contextmanager
def worker_running(folder: Path, db_url: str) -> Iterator[subprocess.Popen]:
    log = (folder / "worker.log").open("wb")
    process = subprocess.Popen([WEBCARE, "worker", "--no-migrate"], env=webcare_env(folder, db_url),
                               stdout=log, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        process.terminate()
        process.wait(30)
        log.close()
    output = (folder / "worker.log").read_text(errors="replace")
    assert "Traceback" not in output, output


@pytest.fixture(scope="module")
def deployment(tmp_path_factory, pg_url) -> Iterator[tuple[str, str, list[str]]]:
    """(nginx's base URL, an API token, the two web processes' addresses)."""
    need_nginx()
    folder = tmp_path_factory.mktemp("nginx-deploy")
    write_config(folder)
    webcare_command(folder, pg_url, "migrate")
    webcare_command(folder, pg_url, "user", "add", "lead", "--role", "lead", "--password-stdin",
                    stdin="correct-horse-battery\n")
    token = webcare_command(folder, pg_url, "token", "create", "lead").split()[-1]
    with serve_process(folder, pg_url, "--no-worker", "--no-migrate") as one, \
            serve_process(folder, pg_url, "--no-worker", "--no-migrate") as two, \
            worker_running(folder, pg_url) as worker:
        upstreams = [one.removeprefix("http://"), two.removeprefix("http://")]
        port = free_port()
        with nginx_running(nginx_folder(folder / "nginx", upstreams, port), port) as base:
            yield base, token, upstreams
        assert worker.poll() is None, "the worker stopped"


def test_the_configuration_is_valid_for_debian_nginx(tmp_path):
    need_nginx()
    conf = nginx_folder(tmp_path / "nginx", ["127.0.0.1:9"], free_port())
    done = subprocess.run([*nginx_args(conf)[:-2], "-t"], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert "syntax is ok" in done.stderr


class Stream:
    """One dashboard's event stream through nginx: when each mention.created arrived."""

    def __init__(self, base: str, token: str) -> None:
        self.base, self.token = base, token
        self.created: dict[str, list[float]] = {}
        self.upstream = ""
        self.connected = asyncio.Event()
        self.task: asyncio.Task | None = None

    async def follow(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "text/event-stream"}
        async with httpx.AsyncClient(timeout=httpx.Timeout(10, read=None)) as client, \
                client.stream("GET", f"{self.base}/api/events", headers=headers) as response:
            assert response.status_code == 200, await response.aread()
            self.upstream = response.headers.get("x-test-upstream", "")
            event = ""
            async for line in response.aiter_lines():
                self.connected.set()
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:") and event == "mention.created":
                    external_id = json.loads(line[5:])["external_id"]
                    self.created.setdefault(external_id, []).append(time.perf_counter())

    async def __aenter__(self) -> Stream:
        self.task = asyncio.create_task(self.follow())
        await asyncio.wait_for(self.connected.wait(), 20)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.task is not None
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


async def streams_on_both_upstreams(base: str, token: str, upstreams: list[str],
                                    stack: contextlib.AsyncExitStack) -> list[Stream]:
    """Open streams until each web process serves one (nginx's workers each keep their own
    round-robin turn, so two in a row may land on the same process)."""
    by_upstream: dict[str, Stream] = {}
    for _ in range(12):
        stream = await stack.enter_async_context(Stream(base, token))
        by_upstream.setdefault(stream.upstream, stream)
        if set(by_upstream) == set(upstreams):
            return [by_upstream[u] for u in upstreams]
    raise AssertionError(f"streams reached only {sorted(by_upstream)} of {upstreams}")


@pytest.mark.asyncio
async def test_every_push_reaches_streams_on_both_web_processes_exactly_once(deployment):
    base, token, upstreams = deployment
    run = uuid.uuid4().hex[:8]
    async with contextlib.AsyncExitStack() as stack, httpx.AsyncClient(base_url=base, timeout=20) as client:
        for warm_up in range(2):   # each web process loads its language model on its first post
            body = json.dumps({"mentions": [mention(f"warm-{run}-{warm_up}")]}).encode()
            warmed = await client.post("/api/ingest/push", content=body, headers=signed_headers(body))
            assert warmed.status_code == 202
        streams = await streams_on_both_upstreams(base, token, upstreams, stack)
        pushed_at: dict[str, float] = {}
        answered_by: set[str] = set()
        for n in range(MENTIONS):
            external_id = f"nginx-{run}-{n}"
            body = json.dumps({"mentions": [mention(external_id, text=f"Pakket {n} kwijt")]}).encode()
            response = await client.post("/api/ingest/push", content=body, headers=signed_headers(body))
            pushed_at[external_id] = time.perf_counter()
            assert response.status_code == 202, response.text
            assert response.json() == {"accepted": 1, "duplicates": 0}
            answered_by.add(response.headers["x-test-upstream"])
            if n % 10 == 0:   # the same mention again, a new delivery: stored once
                again = await client.post("/api/ingest/push", content=body, headers=signed_headers(body))
                assert again.status_code == 202 and again.json() == {"accepted": 0, "duplicates": 1}
            await asyncio.sleep(0.05)
        deadline = time.perf_counter() + 20
        while time.perf_counter() < deadline and not all(set(pushed_at) <= set(s.created) for s in streams):
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)   # a duplicate event would arrive by now

        assert answered_by == set(upstreams), "pushes were not spread over both web processes"
        for stream in streams:
            missing = set(pushed_at) - set(stream.created)
            assert not missing, f"{len(missing)} mentions never reached the stream on {stream.upstream}"
            mine = {k: v for k, v in stream.created.items() if k.startswith(f"nginx-{run}-")}
            assert all(len(times) == 1 for times in mine.values()), "a mention arrived twice"
            slowest = max(mine[k][0] - pushed_at[k] for k in pushed_at)
            assert slowest < PROMPT_SECONDS, f"an event took {slowest:.2f} s through nginx to {stream.upstream}"

        queue = await client.get("/api/queue", params={"limit": 200}, headers={"Authorization": f"Bearer {token}"})
        assert queue.status_code == 200
        ids = [item["external_id"] for item in queue.json()["items"] if item["external_id"].startswith(f"nginx-{run}-")]
        assert sorted(ids) == sorted(pushed_at)


@pytest.mark.asyncio
async def test_pages_and_refusals_pass_through_unchanged(deployment):
    """nginx adds nothing and hides nothing: the app's own answers reach the client."""
    base, _token, _ = deployment
    async with httpx.AsyncClient(base_url=base, timeout=20) as client:
        assert (await client.get("/api/queue")).status_code == 401
        login = await client.get("/login")
        assert login.status_code == 200 and "content-security-policy" in login.headers
        assert "server" not in login.headers or "nginx/" not in login.headers["server"]
        big = json.dumps({"mentions": [mention("big", text="x" * (1024 * 1024))]}).encode()
        response = await client.post("/api/ingest/push", content=big, headers=signed_headers(big))
        assert response.status_code == 413 and response.headers["content-type"].startswith("application/json")


def test_the_compose_health_check_passes_through_this_nginx(deployment):
    """docker-compose.yml's nginx health check, run against this nginx's port."""
    import yaml

    base, _token, _ = deployment
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    test = compose["services"]["nginx"]["healthcheck"]["test"]
    assert test[:3] == ["CMD", "bash", "-c"]
    port = base.rsplit(":", 1)[1]
    listen = (DEPLOY / "webcare-listen.conf").read_text(encoding="utf-8").split("listen ")[1].split(";")[0]
    command = test[3].replace(f"/dev/tcp/127.0.0.1/{listen}", f"/dev/tcp/127.0.0.1/{port}")
    assert subprocess.run(["bash", "-c", command], timeout=20).returncode == 0
    refused = command.replace("/healthz", "/no-such-page")
    assert subprocess.run(["bash", "-c", refused], timeout=20).returncode != 0
