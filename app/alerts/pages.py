"""Chat alerts for admins: sink health, deliveries, dead letters (retry), test alerts, and
answering a spike with one public statement (also as `POST /api/spikes/statement`)."""
from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse

from app.accounts.principal import Principal
from app.alerts import admin
from app.alerts.spikes.statement import answer_with_statement
from app.alerts.spikes.topic import Topic
from app.core.config import AlertConfig
from app.web.deps import Ctx, role
from app.web.rendering import render

router = APIRouter()
AdminPage = Annotated[Principal, Depends(role("admin", page=True))]


def _sink_config(ctx, name: str) -> AlertConfig:
    config = next((c for c in ctx.config.alerts if c.name == name), None)
    if config is None:
        raise HTTPException(404, "no such alert sink")
    return config


@router.get("/alerts")
async def alerts_page(request: Request, ctx: Ctx, user: AdminPage, answered: int | None = None,
                      covered: int | None = None, errors: int | None = None):
    async with ctx.db.read() as session:
        sinks = await admin.sink_views(session, ctx.config.alerts, ctx.secret)
        sent = await admin.recent(session, "sent")
        dead = await admin.recent(session, "dead")
        spikes = await admin.recent_spikes(session)
    statement = None if answered is None else {"answered": answered, "covered": covered or 0, "errors": errors or 0}
    return render(request, "alerts.html", sinks=sinks, sent=sent, dead=dead, spikes=spikes, statement=statement)


@router.post("/alerts/outbox/{outbox_id}/retry")
async def retry_form(outbox_id: int, ctx: Ctx, user: AdminPage):
    async with ctx.db.write() as session:
        if not await admin.retry_dead(session, outbox_id, ctx.now()):
            raise HTTPException(404, "no such dead letter")
    return RedirectResponse("/alerts", status_code=303)


@router.post("/alerts/sinks/{sink_name}/test")
async def test_form(sink_name: str, ctx: Ctx, user: AdminPage):
    config = _sink_config(ctx, sink_name)
    async with ctx.db.write() as session:
        await admin.send_test(session, config, ctx.config.sla.timezone, ctx.config.app.public_url, ctx.now())
    return RedirectResponse("/alerts", status_code=303)


@router.post("/alerts/sinks/{sink_name}/enable")
async def enable_form(sink_name: str, ctx: Ctx, user: AdminPage):
    _sink_config(ctx, sink_name)
    async with ctx.db.write() as session:
        await admin.enable_sink(session, sink_name)
    return RedirectResponse("/alerts", status_code=303)


@router.post("/alerts/spikes/statement")
async def statement_form(ctx: Ctx, user: AdminPage, text: Annotated[str, Form()], category: Annotated[str, Form()] = "",
                         term: Annotated[str, Form()] = "", since: Annotated[str, Form()] = "",
                         post: Annotated[str, Form()] = ""):
    start = datetime.fromisoformat(since) if since else None
    if start is not None and start.tzinfo is None:
        raise HTTPException(422, "since needs a timezone")
    try:
        topic = Topic.given(category, term)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    results = await answer_with_statement(ctx, user, topic, text, post=post == "1", since=start)
    counts = Counter(r.result for r in results)
    query = urlencode({"answered": counts["answered"], "covered": counts["covered"], "errors": counts["error"]})
    return RedirectResponse(f"/alerts?{query}", status_code=303)
