"""Chat alerts for admins: sink health, deliveries, dead letters (retry), test alerts, and
answering a spike with one public statement (also as `POST /api/spikes/statement`)."""
from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse

from app.accounts.principal import Principal
from app.alerts import admin
from app.alerts.spikes.statement import answer_with_statement, form_request, summary
from app.core.bounds import RowId
from app.web.deps import Ctx, role
from app.web.rendering import render

router = APIRouter()
AdminPage = Annotated[Principal, Depends(role("admin", page=True))]


@router.get("/alerts")
async def alerts_page(request: Request, ctx: Ctx, user: AdminPage, answered: int | None = None,
                      covered: int | None = None, errors: int | None = None):
    async with ctx.db.read() as session:
        view = await admin.page_view(session, ctx.config.alerts, ctx.secret)
    statement = None if answered is None else {"answered": answered, "covered": covered or 0, "errors": errors or 0}
    return render(request, "alerts.html", **view, statement=statement)


@router.post("/alerts/outbox/{outbox_id}/retry")
async def retry_form(outbox_id: RowId, ctx: Ctx, user: AdminPage):
    async with ctx.db.write() as session:
        await admin.retry_dead(session, outbox_id, ctx.now())
    return RedirectResponse("/alerts", status_code=303)


@router.post("/alerts/sinks/{sink_name}/test")
async def test_form(sink_name: str, ctx: Ctx, user: AdminPage):
    config = admin.sink_config(ctx.config.alerts, sink_name)
    async with ctx.db.write() as session:
        await admin.send_test(session, config, ctx.config.sla.timezone, ctx.config.app.public_url, ctx.now())
    return RedirectResponse("/alerts", status_code=303)


@router.post("/alerts/sinks/{sink_name}/enable")
async def enable_form(sink_name: str, ctx: Ctx, user: AdminPage):
    admin.sink_config(ctx.config.alerts, sink_name)
    async with ctx.db.write() as session:
        await admin.enable_sink(session, sink_name)
    return RedirectResponse("/alerts", status_code=303)


@router.post("/alerts/spikes/statement")
async def statement_form(ctx: Ctx, user: AdminPage, text: Annotated[str, Form()], category: Annotated[str, Form()] = "",
                         term: Annotated[str, Form()] = "", since: Annotated[str, Form()] = "",
                         post: Annotated[str, Form()] = ""):
    topic, start = form_request(category, term, since)
    results = await answer_with_statement(ctx, user, topic, text, post=post == "1", since=start)
    return RedirectResponse(f"/alerts?{urlencode(summary(results))}", status_code=303)
