"""Availability follows what people do: signing in makes them available, signing out away,
a quiet spell idle (and activity brings them back); round-robin passes by anyone not available."""
from __future__ import annotations

import re

import pytest
from sqlmodel import select

from app.core.models import User
from tests.support.app import Clock, add_user, bearer, make_config

pytestmark = pytest.mark.asyncio
TOML = """
[replies]
away_after_idle_minutes = 20

[[teams]]
name = "billing"
members = ["anna", "bob"]
"""


async def state(ctx, username: str) -> User:
    async with ctx.db.read() as session:
        return (await session.exec(select(User).where(User.username == username))).one()


async def members(client, token: str) -> dict[str, str]:
    teams = (await client.get("/api/teams", headers=bearer(token))).json()["teams"]
    return {m["username"]: m["availability"] for m in teams[0]["members"]}


async def test_sign_in_sign_out_and_idle_time_set_availability(app_client, ctx, tmp_path):
    ctx.config = make_config(tmp_path, TOML)
    ctx.clock = clock = Clock()
    lead = await add_user(ctx, "lena", "lead")
    await add_user(ctx, "anna")
    bob = await add_user(ctx, "bob")
    assert await members(app_client, lead) == {"anna": "idle", "bob": "idle"}   # never seen yet

    page = await app_client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    signed_in = await app_client.post("/login", data={"username": "anna", "password": "correct-horse-battery",
                                                      "csrf_token": csrf, "next": "/"}, follow_redirects=False)
    assert signed_in.status_code == 303
    assert (await members(app_client, lead))["anna"] == "available"

    clock.advance(minutes=21)   # a quiet spell past away_after_idle_minutes
    assert (await members(app_client, lead))["anna"] == "idle"
    home = await app_client.get("/")   # activity again (sessions note it every 5 minutes)
    assert (await members(app_client, lead))["anna"] == "available"

    csrf = re.search(r'name="csrf_token" value="([^"]+)"', home.text).group(1)
    away = await app_client.post("/settings/availability", data={"state": "away", "csrf_token": csrf},
                                 follow_redirects=False)
    assert away.status_code == 303 and (await state(ctx, "anna")).availability == "away"
    refused = await app_client.post("/settings/availability", data={"state": "away"}, follow_redirects=False)
    assert refused.status_code == 403   # a form without its CSRF token
    back = await app_client.post("/settings/availability", data={"state": "available", "csrf_token": csrf},
                                 follow_redirects=False)
    assert back.status_code == 303 and (await state(ctx, "anna")).availability == "available"

    assert (await app_client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)).status_code == 303
    assert (await state(ctx, "anna")).availability == "away"

    answer = await app_client.put("/api/me/availability", json={"availability": "available"}, headers=bearer(bob))
    assert answer.json() == {"username": "bob", "availability": "available", "shown": "available"}
    assert await members(app_client, lead) == {"anna": "away", "bob": "available"}
    bad = await app_client.put("/api/me/availability", json={"availability": "gone"}, headers=bearer(bob))
    assert bad.status_code == 422
