"""Shared fixtures: a fresh migrated database per test (SQLite, and PostgreSQL when
WEBCARE_TEST_DATABASE_URL names a server), an app context, HTTP clients and a live server.

Databases are copied from a template migrated once per run, so each test starts clean in
milliseconds. Nothing touches a developer's own database."""
from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
import uvicorn

from app.cli import proxy_options
from app.core.config import Settings
from app.core.context import AppContext
from app.core.db import Database
from app.core.migrate import upgrade
from app.main import create_app
from tests.support.app import PG_ENV, PUSH_SECRET, PUSH_SECRET_ENV, free_port, make_config, need_or_skip

pytest_plugins = ["tests.support.browser", "tests.support.mastodon_world"]

# --- database templates -------------------------------------------------------------------

@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("tpl") / "template.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


def _pg_admin_url() -> str | None:
    return os.environ.get(PG_ENV)


async def _pg_exec(admin_url: str, *statements: str) -> None:
    import asyncpg

    dsn = admin_url.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(dsn)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


def pg_url_for(admin_url: str, name: str) -> str:
    base, _, _ = admin_url.rpartition("/")
    return f"{base}/{name}"


@pytest.fixture(scope="session")
def pg_template():
    admin = _pg_admin_url()
    if not admin:
        yield None
        return
    name = f"webcare_tpl_{uuid.uuid4().hex[:10]}"
    asyncio.run(_pg_exec(admin, f'CREATE DATABASE "{name}"'))
    upgrade(pg_url_for(admin, name))
    yield name
    asyncio.run(_pg_exec(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextmanager
def _fresh_database(request, folder: Path, sqlite_template: Path) -> Iterator[str]:
    """A migrated database of the backend `request.param` names, copied from the run's
    template, dropped afterwards."""
    if request.param == "sqlite":
        path = folder / "webcare.db"
        shutil.copy(sqlite_template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    admin = _pg_admin_url()
    if not admin:
        need_or_skip(f"PostgreSQL tests need {PG_ENV} (e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/postgres)")
    template = request.getfixturevalue("pg_template")
    name = f"webcare_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_exec(admin, f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    yield pg_url_for(admin, name)
    asyncio.run(_pg_exec(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path, sqlite_template) -> str:
    with _fresh_database(request, tmp_path, sqlite_template) as url:
        yield url


@pytest.fixture(scope="module", params=BACKENDS)
def module_db_url(request, tmp_path_factory, sqlite_template) -> str:
    """One database for a whole module, on each backend (a server shared by many tests)."""
    with _fresh_database(request, tmp_path_factory.mktemp("db"), sqlite_template) as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path, sqlite_template) -> str:
    """SQLite only, for tests whose subject is not the database."""
    path = tmp_path / "webcare.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


# --- app context and clients --------------------------------------------------------------

@pytest.fixture
def push_secret(monkeypatch) -> str:
    monkeypatch.setenv(PUSH_SECRET_ENV, PUSH_SECRET)
    return PUSH_SECRET


@pytest_asyncio.fixture
async def ctx(db_url, tmp_path, push_secret) -> AsyncIterator[AppContext]:
    context = AppContext(settings=Settings(data_dir=tmp_path), config=make_config(tmp_path),
                         db=Database(db_url), secret_key="x" * 40)
    yield context
    await context.db.dispose()


@pytest_asyncio.fixture
async def app_client(ctx) -> AsyncIterator[httpx.AsyncClient]:
    """The app over ASGITransport (no streaming); the lifespan runs as in production."""
    app = create_app(ctx)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client,
    ):
        yield client


@pytest_asyncio.fixture
async def live_server(ctx) -> AsyncIterator[str]:
    """A real uvicorn on a spare port (httpx's ASGI transport does not stream), believing
    proxy headers as `webcare serve` does."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(ctx), host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="on", timeout_graceful_shutdown=2, **proxy_options(ctx.config)))
    task = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started:
            break
        await asyncio.sleep(0.025)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await asyncio.wait_for(task, 15)

