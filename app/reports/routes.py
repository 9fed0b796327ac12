"""SLA reports as JSON and CSV. Leads and admins see the whole team; a responder sees only
the mentions they answered."""
from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from fastapi.responses import Response, StreamingResponse

from app.accounts.principal import Principal
from app.reports import GROUP_BYS, sla_report
from app.reports.csv_export import mentions_csv, sla_csv
from app.reports.period import Period
from app.reports.schemas import Query, ReportQuery
from app.web.deps import ApiUser, Ctx

router = APIRouter()
GroupBy = Literal[(*GROUP_BYS, "")]  # type: ignore[valid-type]  # "": no grouping, like an empty since=
CSV_TYPE = "text/csv; charset=utf-8"




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
