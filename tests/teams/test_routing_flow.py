"""Routing end to end: signed pushes through the real route, rules applied at ingest,
round-robin among the billing team's available members, the team's queue, a Slack sink limited
to the team (and one limited to another team) on the fake Slack server, and the SLA report
grouped by team adding up to the ungrouped figures."""
from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio

from app.alerts.dispatcher import Dispatcher
from app.alerts.planner import AlertPlanner
from app.main import create_app
from tests.support.alerting import sink_toml, url_env
from tests.support.app import DEFAULT_TOML, Clock, add_user, bearer, make_config
from tests.support.chat.receiver import Receiver
from tests.support.push import mention, push

pytestmark = pytest.mark.asyncio

TOML = DEFAULT_TOML + """
[[teams]]
name = "billing"
members = ["anna", "bob"]

[[teams]]
name = "shipping"
members = ["carol"]

[[teams]]
name = "general"
default = true

[[author_lists]]
name = "press"
authors = ["@journalist"]

[[routing]]
team = "shipping"
authors = ["press"]

[[routing]]
team = "billing"
keywords = ["factuur", "invoice"]
assign = "round_robin"

""" + sink_toml("billing-chat", "slack", teams=["billing"]) + sink_toml("shipping-chat", "slack", teams=["shipping"])


@pytest_asyncio.fixture
async def team_app(ctx, tmp_path, monkeypatch) -> AsyncIterator[tuple[httpx.AsyncClient, Receiver, Clock]]:
    ctx.config = make_config(tmp_path, TOML)
    ctx.clock = Clock()
    async with Receiver().serving() as receiver, httpx.AsyncClient(timeout=5) as outgoing:
        for sink in ctx.config.alerts:
            monkeypatch.setenv(url_env(sink.name), receiver.url(sink.kind, hook=sink.name))
        ctx._http = outgoing
        app = create_app(ctx)
        async with (app.router.lifespan_context(app),
                    httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client):
            yield client, receiver, ctx.clock
        ctx._http = None


async def available(client, token: str, state: str = "available") -> None:
    answer = await client.put("/api/me/availability", json={"availability": state}, headers=bearer(token))
    assert answer.status_code == 200, answer.text
    assert answer.json()["availability"] == state


async def pushed(client, clock: Clock, external_id: str, text: str, **fields) -> None:
    clock.advance(seconds=1)   # each routing decision at its own moment (the idle tie-break)
    answer = await push(client, [mention(external_id, text=text, **fields)])
    assert answer.status_code == 202 and answer.json()["accepted"] == 1, answer.text


async def test_a_keyword_routes_to_the_billing_tab_assigns_the_least_busy_and_alerts_its_sink(team_app, ctx):
    client, receiver, clock = team_app
    anna, bob, carol = [await add_user(ctx, name) for name in ("anna", "bob", "carol")]
    lead = await add_user(ctx, "lena", "lead")
    for token in (anna, bob, carol):
        await available(client, token)

    await pushed(client, clock, "b1", "Waar blijft mijn factuur?")        # a tie: by name, anna
    await pushed(client, clock, "b2", "Mijn #factuur klopt niet")          # anna holds one: bob
    await pushed(client, clock, "b3", "Invoice charged twice")             # 1-1: anna, idle longest
    await available(client, bob, "away")
    await pushed(client, clock, "b4", "Factuur dubbel betaald")            # bob has fewer, but is away
    await pushed(client, clock, "p1", "Over uw factuur...", author="journalist")   # first rule: press
    await pushed(client, clock, "g1", "Mijn pakket is niet aangekomen")    # no rule: the default team

    billing = (await client.get("/api/queue?team=billing", headers=bearer(anna))).json()
    assert {(i["external_id"], i["assigned_to"], i["claimed_by"], i["team"]) for i in billing["items"]} == {
        ("b1", "anna", "anna", "billing"), ("b2", "bob", "bob", "billing"),
        ("b3", "anna", "anna", "billing"), ("b4", "anna", "anna", "billing")}
    others = (await client.get("/api/queue", headers=bearer(anna))).json()["items"]
    assert {i["external_id"]: (i["team"], i["assigned_to"]) for i in others if i["team"] != "billing"} == {
        "p1": ("shipping", None), "g1": ("general", None)}   # no assign in their rules
    teams = (await client.get("/api/teams", headers=bearer(carol))).json()
    members = {m["username"]: (m["availability"], m["in_hand"]) for m in teams["teams"][0]["members"]}
    assert members == {"anna": ("available", 3), "bob": ("away", 1)}

    # 46 minutes on: every mention is past its warning; each sink hears of its own team's only.
    clock.advance(minutes=46)
    await AlertPlanner(ctx).plan()
    clock.advance(minutes=2)
    await Dispatcher(ctx).dispatch()
    billing_ids = {i["id"] for i in billing["items"]}
    shipping_id = next(i["id"] for i in others if i["external_id"] == "p1")
    billing_text = " ".join(r.body.decode() for r in receiver.for_hook("billing-chat"))
    shipping_text = " ".join(r.body.decode() for r in receiver.for_hook("shipping-chat"))
    assert all(r.problems == [] for r in receiver.received)
    assert {f"warning:{i}" in billing_text for i in billing_ids} == {True}
    assert f"warning:{shipping_id}" not in billing_text
    assert f"warning:{shipping_id}" in shipping_text
    assert not any(f"warning:{i}" in shipping_text for i in billing_ids)

    # One answered, one dismissed: the per-team figures add up to the whole.
    first = next(i["id"] for i in billing["items"] if i["external_id"] == "b1")
    assert (await client.post(f"/api/mentions/{first}/reply", json={"text": "Sorry, ik zoek het uit!", "post": False},
                              headers=bearer(anna))).status_code == 200
    g1 = next(i["id"] for i in others if i["external_id"] == "g1")
    assert (await client.post(f"/api/mentions/{g1}/dismiss", json={"reason": "not_relevant"},
                              headers=bearer(lead))).status_code == 200
    whole = (await client.get("/api/reports/sla", headers=bearer(lead))).json()
    grouped = (await client.get("/api/reports/sla?group_by=team", headers=bearer(lead))).json()
    assert grouped["overall"] == whole["overall"]
    by_team = {g["key"]: g for g in grouped["groups"]}
    assert set(by_team) == {"billing", "shipping", "general"}
    assert by_team["billing"]["mentions"] == 4 and by_team["billing"]["replied"] == 1
    for figure in ("mentions", "replied", "within_target", "open_breached", "dismissed"):
        assert sum(g[figure] for g in grouped["groups"]) == whole["overall"][figure], figure
    page = await client.get("/reports", headers=bearer(lead))
    per_team = page.text[page.text.index('id="per-team"'):]
    assert all(f'data-key="{team}"' in per_team for team in ("billing", "shipping", "general"))
