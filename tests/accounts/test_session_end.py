"""Sessions that really end, over real HTTP with a live server: an open event stream closes
within a second of a logout, a token's revocation or its user's deactivation (done by a
separate `webcare` process, as an admin would); reactivating revives nothing; signing in as
someone else on the same browser ends the previous session."""
from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from sqlalchemy import select

from app.core.models import AuditEntry, User
from tests.support.accounts import login, login_csrf, open_stream, run_webcare
from tests.support.app import add_user, bearer
from tests.support.push import mention, push

pytestmark = pytest.mark.asyncio
WITHIN = 1.0  # seconds from the ending to the stream's end


async def csrf_of(client: httpx.AsyncClient) -> str:
    return login_csrf((await client.get("/")).text)


async def test_logout_ends_the_sessions_open_stream_within_a_second(live_server, ctx):
    await add_user(ctx, "anna")
    watcher_token = await add_user(ctx, "watcher", "admin")
    async with httpx.AsyncClient(base_url=live_server) as browser, httpx.AsyncClient(base_url=live_server) as other:
        assert (await login(browser)).status_code == 303
        async with open_stream(browser) as stream, \
                open_stream(other, bearer(watcher_token), until="mention.created") as bystander:
            out = await browser.post("/logout", data={"csrf_token": await csrf_of(browser)}, follow_redirects=False)
            assert out.status_code == 303
            assert await stream.seconds_to_end(time.monotonic()) < WITHIN
            # Someone else's stream stays open and is not told about the ending.
            assert (await push(other, [mention("after-logout")])).status_code == 202
            await asyncio.wait_for(bystander.task, 5)
        assert bystander.types == ["mention.created"]
        # Nor does a replay from the start show it.
        async with open_stream(other, {**bearer(watcher_token), "Last-Event-ID": "0"},
                               until="mention.created") as replay:
            await asyncio.wait_for(replay.task, 5)
        assert replay.types == ["mention.created"]


async def test_disable_ends_a_token_stream_and_the_token_and_enable_revives_neither(live_server, ctx, tmp_path,
                                                                                  db_url):
    token = await add_user(ctx, "tim")
    async with httpx.AsyncClient(base_url=live_server) as client, httpx.AsyncClient(base_url=live_server) as browser:
        assert (await login(browser, "tim")).status_code == 303
        old_cookie = browser.cookies.get("webcare_session")
        async with open_stream(client, bearer(token)) as token_stream, open_stream(browser) as session_stream:
            code, output = await run_webcare(tmp_path, db_url, "user", "disable", "tim")
            done = time.monotonic()
            assert code == 0, output
            assert await token_stream.seconds_to_end(done) < WITHIN
            assert await session_stream.seconds_to_end(done) < WITHIN
        assert (await client.get("/api/queue", headers=bearer(token))).status_code == 401
        assert (await browser.get("/api/queue")).status_code == 401
        async with httpx.AsyncClient(base_url=live_server) as fresh:
            assert (await login(fresh, "tim")).status_code == 401

        code, output = await run_webcare(tmp_path, db_url, "user", "enable", "tim")
        assert code == 0, output
        assert (await client.get("/api/queue", headers=bearer(token))).status_code == 401
        async with httpx.AsyncClient(base_url=live_server, cookies={"webcare_session": old_cookie}) as old:
            assert (await old.get("/api/queue")).status_code == 401
        # They can sign in afresh, with a new session.
        assert (await login(browser, "tim")).status_code == 303
        assert (await browser.get("/api/queue")).status_code == 200
    async with ctx.db.read() as s:
        actions = (await s.exec(select(AuditEntry.action).where(AuditEntry.actor.startswith("cli"))
                                .order_by(AuditEntry.id))).scalars().all()
    assert actions == ["user.disable", "user.enable"]


async def test_revoking_a_token_ends_its_stream_within_a_second(live_server, ctx, tmp_path, db_url):
    token = await add_user(ctx, "tim")
    async with httpx.AsyncClient(base_url=live_server) as client, open_stream(client, bearer(token)) as stream:
        code, output = await run_webcare(tmp_path, db_url, "token", "revoke", "tim")
        assert code == 0 and "revoked 1" in output, output
        assert await stream.seconds_to_end(time.monotonic()) < WITHIN


async def test_signing_in_as_someone_else_ends_the_previous_session(live_server, ctx):
    await add_user(ctx, "anna")
    await add_user(ctx, "bram")
    async with httpx.AsyncClient(base_url=live_server) as browser:
        assert (await login(browser, "anna")).status_code == 303
        annas_cookie = browser.cookies.get("webcare_session")
        async with open_stream(browser) as annas_stream:
            assert (await login(browser, "bram")).status_code == 303
            assert await annas_stream.seconds_to_end(time.monotonic()) < WITHIN
        assert browser.cookies.get("webcare_session") != annas_cookie
        assert (await browser.get("/api/queue")).status_code == 200  # as Bram
    async with httpx.AsyncClient(base_url=live_server, cookies={"webcare_session": annas_cookie}) as thief:
        assert (await thief.get("/api/queue")).status_code == 401


async def test_set_role_changes_what_the_user_may_do(live_server, ctx, tmp_path, db_url):
    token = await add_user(ctx, "tim")
    export = "/api/privacy/export?author=nobody"  # admins only
    async with httpx.AsyncClient(base_url=live_server, headers=bearer(token)) as client:
        assert (await client.get(export)).status_code == 403
        code, output = await run_webcare(tmp_path, db_url, "user", "set-role", "tim", "admin")
        assert code == 0 and "admin" in output, output
        assert (await client.get(export)).status_code == 200
    code, output = await run_webcare(tmp_path, db_url, "user", "set-role", "nobody", "lead")
    assert code == 1 and "no user named 'nobody'" in output and "Traceback" not in output
    async with ctx.db.read() as s:
        assert (await s.exec(select(User.role).where(User.username == "tim"))).scalar_one() == "admin"
