"""`approval_waiting`: a reply waiting for a lead reaches the sinks that subscribe to it, once,
and not when a lead decided before the planner ran."""
from __future__ import annotations

import pytest

from app.accounts import admin, tokens
from app.accounts.principal import Principal
from app.approvals import service
from tests.support.alerting import Alerting, sink_toml
from tests.support.app import add_user

pytestmark = pytest.mark.asyncio


async def principal(a: Alerting, username: str, role: str = "responder", *, approval: bool = False) -> Principal:
    token = await add_user(a.ctx, username, role)
    if approval:
        await admin.set_approval(a.ctx, "admin", username, True)
    async with a.ctx.db.read() as session:
        found = await tokens.principal_from_token(session, token, a.clock())
    assert found is not None
    return found


async def test_a_waiting_reply_alerts_the_subscribed_sink_once_with_a_link_to_the_queue(alerting):
    a = alerting(sink_toml("leads", "slack", events=["approval_waiting"]),
                 sink_toml("team", "slack", events=["breached"]))
    [mid] = await a.ingest("m1")
    trainee = await principal(a, "tess", approval=True)
    approval = await service.request_approval(a.ctx, mid, trainee, "Sorry voor het wachten! Ik zoek het uit.",
                                              post=False)
    await a.tick(seconds=10)
    await a.tick(minutes=1)  # bursts are grouped for a minute
    await a.tick(minutes=5)

    assert a.keys("leads") == [[f"approval_waiting:{approval.id}"]]
    assert a.got("team") == []
    [message] = a.got("leads")
    assert message.problems == []
    text = message.body.decode()
    assert "Reply awaits approval" in text and f"/approvals#approval-{approval.id}" in text and "tess" in text


async def waiting_approval(alerting):
    """A sink for approval_waiting, a trainee's reply waiting, and a lead: (alerting, approval, lead)."""
    a = alerting(sink_toml("leads", "slack", events=["approval_waiting"]))
    [mid] = await a.ingest("m1")
    trainee = await principal(a, "tess", approval=True)
    lead = await principal(a, "lea", "lead")
    approval = await service.request_approval(a.ctx, mid, trainee, "Sorry! Ik zoek het uit.", post=False)
    assert approval.id is not None
    return a, approval, lead


async def test_no_alert_when_a_lead_decided_before_the_planner_ran(alerting):
    a, approval, lead = await waiting_approval(alerting)
    await service.return_reply(a.ctx, approval.id, lead, "Noem een moment.")
    await a.tick(seconds=10)
    await a.tick(minutes=1)
    assert a.got("leads") == [] and await a.rows() == []


async def test_an_alert_planned_but_not_yet_sent_goes_quiet_when_a_lead_decides(alerting):
    a, approval, lead = await waiting_approval(alerting)
    await a.tick(seconds=10)  # planned; waiting out the burst window
    await service.approve(a.ctx, a.ctx.http(), approval.id, lead)
    await a.tick(minutes=1)
    assert a.got("leads") == []
    assert [(r.kind, r.state) for r in await a.rows()] == [("approval_waiting", "muted")]
