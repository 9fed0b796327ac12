"""SLA reports (JSON, CSV, page) and the wallboard. Leads and admins see the whole team; a
responder sees only the mentions they answered."""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response, StreamingResponse

from app.auth import Principal
from app.deps import ApiUser, Ctx, PageUser, role
from app.reports import GROUP_BYS, PeriodError, ReportFilters, parse_period, sla_report
from app.reports.csv_export import mentions_csv, sla_csv
from app.reports.page import reports_view
from app.reports.period import Period
from app.reports.wallboard import wallboard_view
from app.web import render

router = APIRouter()
GroupBy = Literal[(*GROUP_BYS, "")]  # type: ignore[valid-type]  # "": no grouping, like an empty since=
LeadPage = Annotated[Principal, Depends(role("lead", page=True))]
CSV_TYPE = "text/csv; charset=utf-8"


class ReportQuery:
    """The query string every report takes: period, filters, and (for the aggregate) group_by."""

    def __init__(self, since: str | None = None, until: str | None = None, channel: str | None = None,
                 source: str | None = None, category: str | None = None, language: str | None = None,
                 responder: str | None = None):
        self.since, self.until = since or None, until or None
        self.filters = ReportFilters(channel=channel or None, source=source or None, category=category or None,
                                     language=language or None, responder=responder or None)

    def period(self, ctx) -> Period:
        try:
            return parse_period(self.since, self.until, ctx.config.sla.timezone, ctx.now())
        except PeriodError as exc:
            raise HTTPException(422, str(exc)) from None

    def scoped(self, user: Principal) -> ReportFilters:
        """A responder's own figures only, whatever they asked for."""
        if user.has_role("lead"):
            return self.filters
        return ReportFilters(**{**self.filters.__dict__, "responder": user.username})


Query = Annotated[ReportQuery, Depends()]


def _filename(kind: str, period: Period) -> str:
    return f"webcare-{kind}-{period.first_day.isoformat()}-{period.last_day.isoformat()}.csv"


async def _report(ctx, query: ReportQuery, user: Principal, group_by: str | None):
    async with ctx.db.read() as session:
        return await sla_report(session, query.period(ctx), ctx.now(), group_by=group_by or None,
                                filters=query.scoped(user))


@router.get("/api/reports/sla")
async def sla_json(ctx: Ctx, user: ApiUser, query: Query, group_by: GroupBy | None = None):
    return (await _report(ctx, query, user, group_by)).as_dict()


@router.get("/api/reports/sla.csv")
async def sla_csv_export(ctx: Ctx, user: ApiUser, query: Query, group_by: GroupBy | None = None):
    report = await _report(ctx, query, user, group_by)
    return Response(sla_csv(report), media_type=CSV_TYPE, headers={
        "Content-Disposition": f'attachment; filename="{_filename("sla", report.period)}"'})


@router.get("/api/reports/mentions.csv")
async def mentions_csv_export(ctx: Ctx, user: ApiUser, query: Query):
    period = query.period(ctx)
    return StreamingResponse(mentions_csv(ctx.db, period, query.scoped(user), ctx.now()), media_type=CSV_TYPE,
                             headers={"Content-Disposition": f'attachment; filename="{_filename("mentions", period)}"'})


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
        view = await wallboard_view(session, now, ctx.policy, ctx.sources())
    return {**view, "now": now}


@router.get("/wallboard")
async def wallboard_page(request: Request, ctx: Ctx, user: LeadPage):
    return render(request, "wallboard.html", **await _wallboard_context(ctx))


@router.get("/partials/wallboard")
async def wallboard_partial(request: Request, ctx: Ctx, user: LeadPage):
    return render(request, "partials/wallboard.html", **await _wallboard_context(ctx))
