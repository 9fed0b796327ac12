"""The reports page and the wallboard (leads), over the same figures as the API."""
from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request

from app.accounts.principal import Principal
from app.reports.page_view import reports_view
from app.reports.schemas import Query
from app.reports.wallboard import wallboard_view
from app.web.deps import Ctx, PageUser, role
from app.web.rendering import render

router = APIRouter()
LeadPage = Annotated[Principal, Depends(role("lead", page=True))]


@router.get("/reports")
async def reports_page(request: Request, ctx: Ctx, user: PageUser, query: Query):
    period = query.period(ctx)
    filters = query.scoped(user)
    async with ctx.db.read() as session:
        view = await reports_view(session, period, ctx.now(), filters, ctx.config.sla.target_minutes * 60)
    return render(request, "reports.html", **view, period=period, filters=filters, is_lead=user.has_role("lead"),
                  since=period.first_day.isoformat(), until=period.last_day.isoformat(),
                  query_string=request.url.query)


async def _wallboard_context(ctx) -> dict:
    now = ctx.now()
    async with ctx.db.read() as session:
        view = await wallboard_view(session, now, ctx.policy, ctx.sources(),
                                    timedelta(minutes=ctx.config.replies.away_after_idle_minutes))
    return {**view, "now": now}


@router.get("/wallboard")
async def wallboard_page(request: Request, ctx: Ctx, user: LeadPage):
    return render(request, "wallboard.html", **await _wallboard_context(ctx))


@router.get("/partials/wallboard")
async def wallboard_partial(request: Request, ctx: Ctx, user: LeadPage):
    return render(request, "partials/wallboard.html", **await _wallboard_context(ctx))
