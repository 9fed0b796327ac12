"""What one single-mention push costs the database: every statement, transaction end and pool
checkout (each a round trip; a checkout pings first when the pool pre-pings), listed for one
push after a warm-up, then the CPU this process spends per push over `--pushes` more. The
baseline beside it, measured in the same run: a push refused for its signature (401), which
costs the HTTP handling and the signature check but no database. A replayed push (same
`webhook-id`) is shown too.

In process, over ASGI (no uvicorn, no network), so the figures are the app's own: the web
process of bench/load.py spends this per push plus HTTP parsing.

    .venv/bin/python bench/push_statements.py [--backend sqlite|postgres] [--pushes 300] [--quiet]
    (PostgreSQL needs WEBCARE_TEST_DATABASE_URL: a server it may create a database on)
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import tempfile
import time
import uuid
from base64 import b64encode
from collections.abc import AsyncIterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the helpers in tests/support

import asyncpg
import httpx

from app.core.config import Settings
from app.core.context import AppContext
from app.core.db import Database
from app.core.migrate import upgrade
from app.main import create_app
from app.web.listen import asyncpg_dsn
from tests.support.app import PUSH_SECRET, PUSH_SECRET_ENV, make_config
from tests.support.push import mention, signed_headers
from tests.support.statements import StatementLog, counting

WARM_UP = 20
OTHER_SECRET = "whsec_" + b64encode(b"not-the-push-source-secret-32byt").decode()


@contextlib.asynccontextmanager
async def database(backend: str, folder: Path) -> AsyncIterator[str]:
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{folder / 'webcare.db'}"
        await asyncio.to_thread(upgrade, url)
        yield url
        return
    admin = os.environ.get("WEBCARE_TEST_DATABASE_URL")
    if not admin:
        raise SystemExit("--backend postgres needs WEBCARE_TEST_DATABASE_URL")
    name = f"webcare_bench_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(asyncpg_dsn(admin))
    await conn.execute(f'CREATE DATABASE "{name}"')
    url = f"{admin.rpartition('/')[0]}/{name}"
    try:
        await asyncio.to_thread(upgrade, url)
        yield url
    finally:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


async def send(client: httpx.AsyncClient, external_id: str, msg_id: str | None = None, *,
               secret: str = PUSH_SECRET, status: int = 202) -> None:
    body = json.dumps({"mentions": [mention(external_id, author=f"author-{external_id}")]}).encode()
    r = await client.post("/api/ingest/push", content=body, headers=signed_headers(body, msg_id=msg_id, secret=secret))
    assert r.status_code == status, r.text


async def measure(backend: str, pushes: int, quiet: bool) -> None:
    os.environ[PUSH_SECRET_ENV] = PUSH_SECRET
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        async with database(backend, folder) as url:
            ctx = AppContext(settings=Settings(data_dir=folder), config=make_config(folder),
                             db=Database(url), secret_key="x" * 40)
            app = create_app(ctx)
            transport = httpx.ASGITransport(app=app)
            async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport,
                                                                            base_url="http://test") as client:
                for i in range(WARM_UP):
                    await send(client, f"warm-{i}", msg_id=f"msg_warm_{i}")
                with counting(ctx.db.engine) as log:
                    await send(client, "counted")
                report(backend, log, quiet)
                fresh = await cpu_per_push(client, pushes, lambda i: send(client, f"cpu-{i}"))
                refused = await cpu_per_push(client, pushes, lambda i: send(
                    client, f"cpu-{i}", secret=OTHER_SECRET, status=401))
                replay = await cpu_per_push(client, pushes, lambda i: send(client, "warm-0", "msg_warm_0"))
            await ctx.db.dispose()
    print(f"{backend}: CPU per push {fresh:.2f} ms over {pushes}; a push refused for its signature "
          f"{refused:.2f} ms (ratio {fresh / refused:.2f}); a replayed push {replay:.2f} ms")


async def cpu_per_push(client: httpx.AsyncClient, pushes: int, push) -> float:
    start = time.process_time()
    for i in range(pushes):
        await push(i)
    return (time.process_time() - start) * 1000 / pushes


def report(backend: str, log: StatementLog, quiet: bool) -> None:
    if not quiet:
        for n, line in enumerate(log.lines(), 1):
            print(f"{n:3d}  {line}")
    print(f"{backend}: one single-mention push: {len(log.statements)} statements, {log.checkouts} checkouts "
          f"({log.ping_round_trips} round trips of pre-ping each), {log.round_trips} round trips")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="postgres")
    parser.add_argument("--pushes", type=int, default=300)
    parser.add_argument("--quiet", action="store_true", help="the counts without the statements")
    args = parser.parse_args()
    asyncio.run(measure(args.backend, args.pushes, args.quiet))


if __name__ == "__main__":
    main()
