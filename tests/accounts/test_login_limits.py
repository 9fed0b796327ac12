"""The login limits and the cost of a wrong password, through the app: failures are limited
per address whatever the username and over all addresses, a refusal does no hashing, a burst
cannot slip past a limit, and a password check leaves the event loop and the database free
for everyone else. (Real server processes, proxies and the flood: test_login_flood.py.)"""
from __future__ import annotations

import asyncio
import threading
import time
from datetime import timedelta

import pytest
import pytest_asyncio
from sqlalchemy import delete

from app.accounts import passwords, throttle
from app.core.models import LoginAttempt
from app.main import create_app
from tests.support.accounts import client_at, login
from tests.support.app import Clock, add_user
from tests.support.push import mention, push

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def app(ctx):
    ctx.clock = Clock()
    application = create_app(ctx)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
def hashes(monkeypatch) -> list[str]:
    """Counts the argon2 checks (the real ones still run)."""
    seen: list[str] = []
    real = passwords.verify_password

    def counting(password, password_hash):
        seen.append(password)
        return real(password, password_hash)

    monkeypatch.setattr(passwords, "verify_password", counting)
    return seen


async def test_one_address_is_limited_whatever_the_username(app, ctx, hashes):
    await add_user(ctx, "anna")
    async with client_at(app, "203.0.113.7") as guesser:
        for i in range(throttle.ADDRESS_LIMIT.failures):
            assert (await login(guesser, f"user{i}", "wrong-password!")).status_code == 401
        refused = await login(guesser, "anna")  # a new username, even the right password
        assert refused.status_code == 429
        assert 0 < int(refused.headers["retry-after"]) <= 15 * 60
    assert len(hashes) == throttle.ADDRESS_LIMIT.failures  # the refusal did not hash
    async with client_at(app, "203.0.113.8") as neighbour:  # another address is not affected
        assert (await login(neighbour, "anna")).status_code == 303
    ctx.clock.advance(minutes=15, seconds=1)  # the window passes
    async with client_at(app, "203.0.113.7") as guesser:
        assert (await login(guesser, "anna")).status_code == 303


async def test_all_addresses_together_are_limited_and_refused_without_hashing(app, ctx, hashes, monkeypatch):
    # A small global limit keeps the test short; the mechanism is the one the constants drive.
    small = throttle.Limit("global", 4, timedelta(minutes=1))
    monkeypatch.setattr(throttle, "LIMITS", (throttle.USER_LIMIT, throttle.ADDRESS_LIMIT, small))
    await add_user(ctx, "anna")
    for i in range(4):
        async with client_at(app, f"198.51.100.{i}") as guesser:
            assert (await login(guesser, "anna", "wrong-password!")).status_code == 401
    async with client_at(app, "198.51.100.99") as newcomer:
        refused = await login(newcomer, "anna")
        assert refused.status_code == 429 and 0 < int(refused.headers["retry-after"]) <= 60
        # Remembered by this process: answered without the database as well.
        started = time.perf_counter()
        assert (await login(newcomer, "anna", "wrong-again!!")).status_code == 429
        assert time.perf_counter() - started < 1
    assert len(hashes) == 4
    ctx.clock.advance(minutes=1, seconds=1)
    async with client_at(app, "198.51.100.99") as newcomer:
        assert (await login(newcomer, "anna")).status_code == 303


async def test_a_refusal_is_remembered_by_the_process(app, ctx, hashes):
    await add_user(ctx, "anna")
    async with client_at(app, "203.0.113.7") as guesser:
        for _ in range(throttle.USER_LIMIT.failures):
            assert (await login(guesser, "anna", "wrong-password!")).status_code == 401
        assert (await login(guesser, "anna")).status_code == 429
        async with ctx.db.write() as s:  # the database forgets; this process does not, until the wait is over
            await s.execute(delete(LoginAttempt))
        assert (await login(guesser, "anna")).status_code == 429
        ctx.clock.advance(minutes=15, seconds=1)
        assert (await login(guesser, "anna")).status_code == 303


async def test_a_known_refusal_is_answered_at_the_door_in_the_browsers_language(app, ctx, hashes):
    await add_user(ctx, "anna")
    async with client_at(app, "203.0.113.7") as guesser:
        for _ in range(throttle.USER_LIMIT.failures):
            assert (await login(guesser, "anna", "wrong-password!")).status_code == 401
        assert (await login(guesser, "anna")).status_code == 429  # the route refuses, and remembers
        door = await login(guesser, "anna", headers={"Accept-Language": "nl-NL,nl;q=0.9"})
        assert door.status_code == 429 and door.headers["content-type"].startswith("text/plain")
        assert door.text.startswith("Te veel mislukte pogingen") and int(door.headers["retry-after"]) > 0
        assert "script-src 'self'" in door.headers["content-security-policy"]
        # Another username from the same address is not refused by anything this process knows.
        assert (await login(guesser, "bram", "wrong-password!")).status_code == 401
    assert len(hashes) == throttle.USER_LIMIT.failures + 1


async def test_a_burst_cannot_slip_past_the_limit_while_its_checks_run(app, ctx, hashes):
    await add_user(ctx, "anna")
    async with client_at(app, "203.0.113.7") as guesser:
        answers = await asyncio.gather(*(login(guesser, f"user{i}", "wrong-password!") for i in range(25)))
    statuses = sorted(r.status_code for r in answers)
    assert statuses.count(401) <= throttle.ADDRESS_LIMIT.failures and statuses.count(429) >= 15
    assert len(hashes) == statuses.count(401)


async def test_a_password_check_leaves_the_loop_and_the_database_to_others(app, ctx, monkeypatch):
    """A push sent while a password is being checked goes through before the check ends: the
    check runs on its own thread and holds no transaction (it used to block the event loop
    inside the write transaction). The check is held open until the push is through, or 5 s."""
    await add_user(ctx, "anna")
    checking, push_done = threading.Event(), threading.Event()
    real = passwords.verify_password

    def held_open(password, password_hash):
        checking.set()
        push_done.wait(5)
        return real(password, password_hash)

    monkeypatch.setattr(passwords, "verify_password", held_open)
    finished: list[str] = []
    async with client_at(app, "203.0.113.7") as client:
        async def sign_in():
            assert (await login(client, "anna", "wrong-password!")).status_code == 401
            finished.append("login")

        async def pushed():
            while not checking.is_set():
                await asyncio.sleep(0.01)
            assert (await push(client, [mention("during-login")])).status_code == 202
            finished.append("push")
            push_done.set()

        await asyncio.wait_for(asyncio.gather(sign_in(), pushed()), 30)
    assert finished == ["push", "login"]
