"""Presence in two browsers: Bob opens the mention Anna has open and sees her there, sees her
typing, and sees her go when she leaves; the queue marks the mention she has open. And the
same with Anna and Bob on two web processes sharing one database (PostgreSQL: LISTEN/NOTIFY)."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
import uvicorn

from app.core.config import Settings
from app.core.context import AppContext
from app.core.db import Database
from app.main import create_app
from tests.support.app import add_user, free_port
from tests.support.browser import assert_accessible, login_page
from tests.support.push import mention, push

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]
PASSWORD = "correct-horse-battery"


async def test_b_sees_a_open_typing_and_gone(browser, live_server, ctx):
    await add_user(ctx, "anna", password=PASSWORD)
    await add_user(ctx, "bob", password=PASSWORD)
    async with httpx.AsyncClient(base_url=live_server) as client:
        await push(client, [mention("p1", 20, text="Mijn pakket is nog steeds niet bezorgd!")])
    anna = await login_page(browser, live_server, "anna", PASSWORD)
    bob = await login_page(browser, live_server, "bob", PASSWORD)
    await anna.goto(f"{live_server}/mentions/1")
    assert await anna.is_hidden("#presence")  # nobody else yet

    await bob.goto(f"{live_server}/?m=1")
    await bob.wait_for_selector("#presence:not([hidden]) li.viewing", timeout=10_000)
    assert await bob.inner_text("#presence li") == "anna has this mention open"
    # ... and Anna learns of Bob without reloading (his arrival is an event).
    await anna.wait_for_selector("#presence li.viewing", timeout=10_000)
    assert await anna.inner_text("#presence li") == "bob has this mention open"

    requests: list[str] = []
    anna.on("request", lambda r: requests.append(r.method) if r.url.endswith("/presence") else None)
    await anna.type("#reply-text", "Wat vervelend, ik zoek het voor u uit.", delay=20)
    await bob.wait_for_selector("#presence li.typing", timeout=10_000)
    assert await bob.inner_text("#presence li.typing") == "anna is typing a reply…"
    assert requests.count("POST") <= 2, "typing must not send a request per keystroke"
    await assert_accessible(bob)
    # "Typing" ends by itself a few seconds after the last key.
    await bob.wait_for_selector("#presence li.viewing", timeout=15_000)

    await bob.goto(f"{live_server}/")  # the queue marks the mention Anna has open
    await bob.wait_for_selector("#mention-1 .tag.presence", timeout=10_000)
    assert await bob.inner_text("#mention-1 .tag.presence") == "anna has it open"
    await bob.goto(f"{live_server}/mentions/1")
    await bob.wait_for_selector("#presence li.viewing", timeout=10_000)
    await anna.goto(f"{live_server}/")  # Anna leaves the mention
    await bob.wait_for_selector("#presence", state="hidden", timeout=10_000)
    assert await bob.locator("#presence li").count() == 0


@asynccontextmanager
async def _second_web_process(ctx, tmp_path) -> AsyncIterator[str]:
    """Another web process on the same database: its own engine, event hub and (on
    PostgreSQL) LISTEN connection; nothing shared with the first but the database."""
    other = AppContext(settings=Settings(data_dir=tmp_path), config=ctx.config, db=Database(ctx.db.url),
                       secret_key=ctx.secret_key)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(other), host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="on", timeout_graceful_shutdown=2))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.025)
    try:
        yield f"http://localhost:{port}"  # another host name: its own cookies
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 15)
        await other.db.dispose()


async def test_presence_crosses_web_processes(browser, live_server, ctx, tmp_path):
    await add_user(ctx, "anna", password=PASSWORD)
    await add_user(ctx, "bob", password=PASSWORD)
    async with httpx.AsyncClient(base_url=live_server) as client:
        await push(client, [mention("p2", 20, text="Mijn factuur klopt niet!")])
    async with _second_web_process(ctx, tmp_path) as second:
        anna = await login_page(browser, live_server, "anna", PASSWORD)
        bob = await login_page(browser, second, "bob", PASSWORD)
        await bob.goto(f"{second}/mentions/1")
        await anna.goto(f"{live_server}/mentions/1")
        # Bob's page hears of Anna through the events of his own process (NOTIFY or the poll).
        await bob.wait_for_selector("#presence li.viewing", timeout=10_000)
        await anna.type("#reply-text", "Wat vervelend!", delay=20)
        await bob.wait_for_selector("#presence li.typing", timeout=10_000)
        await anna.goto(f"{live_server}/")
        await bob.wait_for_selector("#presence", state="hidden", timeout=10_000)
