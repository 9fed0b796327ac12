"""The database away for a while is not a bug: requests that need it answer 503 with
Retry-After (JSON for the API and a push, a page for people), /readyz says unavailable, and
nothing answers 500 or leaks a traceback. The rule itself (`database_unavailable`) tells a
refused or dropped connection and SQLite's busy timeout from a bad statement."""
from __future__ import annotations

import asyncio
import socket

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

from app.core.db import Database, database_unavailable
from tests.support.app import add_user, bearer, free_port
from tests.support.push import mention, push

pytestmark = pytest.mark.asyncio


def _closed_port_url() -> str:
    port = free_port()
    with socket.socket() as probe:   # nothing listens there
        assert probe.connect_ex(("127.0.0.1", port)) != 0
    return f"postgresql+asyncpg://postgres@127.0.0.1:{port}/postgres"


async def test_requests_answer_503_with_retry_after_while_the_database_is_away(app_client, ctx, caplog):
    token = await add_user(ctx, "anna")
    working = ctx.db
    ctx.db = Database(_closed_port_url())
    try:
        pushed = await push(app_client, [mention("while-away")])
        assert pushed.status_code == 503, pushed.text
        assert pushed.headers["retry-after"] == "5"
        assert pushed.json() == {"detail": "The database is unavailable right now. Please try again in a moment."}
        queue = await app_client.get("/api/queue", headers=bearer(token))
        assert queue.status_code == 503 and queue.headers["retry-after"] == "5"
        page = await app_client.get("/login", headers={"accept": "text/html", "accept-language": "nl"})
        ready = await app_client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["status"] == "unavailable"
    finally:
        await ctx.db.dispose()
        ctx.db = working
    assert page.status_code in (200, 503)   # the login form itself needs no database
    assert "Traceback" not in caplog.text
    # ... and once it is back, the same requests work again.
    assert (await push(app_client, [mention("after")])).status_code == 202
    assert (await app_client.get("/readyz")).status_code == 200


async def test_the_unavailable_page_is_in_the_users_language(app_client, ctx):
    token = await add_user(ctx, "bram")
    working = ctx.db
    ctx.db = Database(_closed_port_url())
    try:
        page = await app_client.get("/", headers={"accept": "text/html", "accept-language": "nl",
                                                  **bearer(token)})
    finally:
        await ctx.db.dispose()
        ctx.db = working
    assert page.status_code == 503 and page.headers["retry-after"] == "5"
    assert "De database is op dit moment niet bereikbaar" in page.text


async def test_the_rule_tells_an_outage_from_a_bug(tmp_path):
    refused = Database(_closed_port_url())
    try:
        with pytest.raises(ConnectionRefusedError) as raised:
            await refused.ping()
    finally:
        await refused.dispose()
    assert database_unavailable(raised.value)
    locked = OperationalError("UPDATE source_state", {}, Exception("database is locked"))
    assert database_unavailable(locked)
    assert not database_unavailable(IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed")))
    assert not database_unavailable(ProgrammingError("SELECT", {}, Exception("no such column")))
    assert not database_unavailable(ConnectionRefusedError("a chat hook refused"))  # not the driver's
    sqlite = Database(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    try:
        async with sqlite.read() as session:
            with pytest.raises(OperationalError, match="no such") as bad:
                await session.execute(text("SELECT nope FROM nowhere"))
    finally:
        await sqlite.dispose()
    assert not database_unavailable(bad.value)
    assert not database_unavailable(asyncio.CancelledError())
