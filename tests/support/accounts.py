"""Test helpers for signing in through the login form, watching an event stream end, and
running `webcare` as a separate process (a server, or a one-off command)."""
from __future__ import annotations

import asyncio
import contextlib
import os
import re
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.support.app import PUSH_SECRET, PUSH_SECRET_ENV, free_port

WEBCARE = str(Path(sys.executable).parent / "webcare")
PASSWORD = "correct-horse-battery"  # add_user's default
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def login_csrf(page_html: str) -> str:
    return CSRF_FIELD.search(page_html).group(1)


async def login(client: httpx.AsyncClient, username: str = "anna", password: str = PASSWORD,
                **kwargs) -> httpx.Response:
    """The login form as a browser submits it: fetch the page (CSRF cookie and field), post."""
    token = login_csrf((await client.get("/login")).text)
    return await client.post("/login", data={"username": username, "password": password, "csrf_token": token,
                                              "next": "/"}, follow_redirects=False, **kwargs)


@contextlib.asynccontextmanager
async def client_at(app, address: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose requests come from `address` (the socket peer the app sees)."""
    transport = httpx.ASGITransport(app=app, client=(address, 40123))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


@dataclass
class OpenStream:
    """An open GET /api/events; `ended` is set (and `ended_at` noted) when the server ends it."""
    types: list[str] = field(default_factory=list)
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    ended_at: float | None = None
    task: asyncio.Task | None = None

    async def seconds_to_end(self, since: float, timeout: float = 5.0) -> float:
        await asyncio.wait_for(self.ended.wait(), timeout)
        return self.ended_at - since


@contextlib.asynccontextmanager
async def open_stream(client: httpx.AsyncClient, headers: dict[str, str] | None = None,
                      until: str | None = None) -> AsyncIterator[OpenStream]:
    """Connect, and once the server has answered yield the stream, read in the background
    (event types noted) until the server ends it or an event of type `until` arrives."""
    stream, connected = OpenStream(), asyncio.Event()

    async def read() -> None:
        async with client.stream("GET", "/api/events", headers=headers or {}, timeout=30) as response:
            assert response.status_code == 200, response.status_code
            async for line in response.aiter_lines():
                connected.set()
                if line.startswith("event: "):
                    stream.types.append(line[7:])
                    if line[7:] == until:
                        return
        stream.ended_at = time.monotonic()
        stream.ended.set()

    stream.task = asyncio.create_task(read())
    waiting = asyncio.ensure_future(connected.wait())
    try:
        await asyncio.wait({stream.task, waiting}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
        if stream.task.done():
            stream.task.result()  # surfaces a refusal
        assert connected.is_set(), "the event stream did not start"
        yield stream
    finally:
        waiting.cancel()
        stream.task.cancel()
        await asyncio.gather(stream.task, waiting, return_exceptions=True)


def webcare_env(tmp_path: Path, db_url: str) -> dict[str, str]:
    """The environment a `webcare` process needs to share the test's database and config."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEBCARE_")}
    env.update(WEBCARE_DATABASE_URL=db_url, WEBCARE_DATA_DIR=str(tmp_path), WEBCARE_SECRET_KEY="k" * 40,
               WEBCARE_CONFIG=str(tmp_path / "webcare.toml"), PYTHONUNBUFFERED="1")
    env[PUSH_SECRET_ENV] = PUSH_SECRET
    return env


async def run_webcare(tmp_path: Path, db_url: str, *args: str) -> tuple[int, str]:
    """Run a `webcare` command without blocking the event loop (a live server may be on it)."""
    process = await asyncio.create_subprocess_exec(WEBCARE, *args, env=webcare_env(tmp_path, db_url),
                                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode, output.decode(errors="replace")


def webcare_command(tmp_path: Path, db_url: str, *args: str, stdin: str | None = None) -> str:
    """Run a `webcare` command to completion (it must succeed); its output."""
    done = subprocess.run([WEBCARE, *args], env=webcare_env(tmp_path, db_url), input=stdin, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@contextlib.contextmanager
def serve_process(tmp_path: Path, db_url: str, *args: str, port: int | None = None) -> Iterator[str]:
    """`webcare serve` in its own process on `port` (default: a spare one); yields its base
    URL. Its output (an access-log line per request: a file, as a pipe nobody reads would fill
    and stall the server) must hold no traceback when it stops."""
    port = port or free_port()
    log_path = tmp_path / f"serve-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen([WEBCARE, "serve", "--port", str(port), *args], env=webcare_env(tmp_path, db_url),
                                   stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log_path.read_text(errors="replace")
            assert time.monotonic() < deadline, "webcare serve did not start"
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(30)
    output = log_path.read_text(errors="replace")
    assert "Traceback" not in output, output
