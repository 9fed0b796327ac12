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
from app.reports.schemas import Query, ReportQuery, SlaReportOut
from app.web.deps import ApiUser, Ctx
from app.web.schemas import errors

router = APIRouter(tags=["reports"])
GroupBy = Literal[(*GROUP_BYS, "")]  # type: ignore[valid-type]  # "": no grouping, like an empty since=
CSV_TYPE = "text/csv; charset=utf-8"


class CsvResponse(Response):
    media_type = CSV_TYPE


class CsvStream(StreamingResponse):
    media_type = CSV_TYPE


# Not JSON: the schema names the media type; the columns are in the README.
CSV_RESPONSES = {200: {"content": {CSV_TYPE: {"schema": {"type": "string"}}}, "description": "CSV with a header row"},
                 **errors(422, json_route=False)}


def _filename(kind: str, period: Period) -> str:
    return f"webcare-{kind}-{period.first_day.isoformat()}-{period.last_day.isoformat()}.csv"


async def _report(ctx, query: ReportQuery, user: Principal, group_by: str | None):
    async with ctx.db.read() as session:
        return await sla_report(session, query.period(ctx), ctx.now(), group_by=group_by or None,
                                filters=query.scoped(user))


@router.get("/api/reports/sla", response_model=SlaReportOut, responses=errors(422))
async def sla_json(ctx: Ctx, user: ApiUser, query: Query, group_by: GroupBy | None = None):
    """SLA figures of a period, overall and per group (a responder gets only their own)."""
    return (await _report(ctx, query, user, group_by)).as_dict()


@router.get("/api/reports/sla.csv", response_class=CsvResponse, responses=CSV_RESPONSES)
async def sla_csv_export(ctx: Ctx, user: ApiUser, query: Query, group_by: GroupBy | None = None):
    """The same figures as CSV: one row for the overall and one per group."""
    report = await _report(ctx, query, user, group_by)
    return CsvResponse(sla_csv(report), headers={
        "Content-Disposition": f'attachment; filename="{_filename("sla", report.period)}"'})


@router.get("/api/reports/mentions.csv", response_class=CsvStream, responses=CSV_RESPONSES)
async def mentions_csv_export(ctx: Ctx, user: ApiUser, query: Query):
    """One row per inbound mention posted in the period, with every timestamp."""
    period = query.period(ctx)
    return CsvStream(mentions_csv(ctx.db, period, query.scoped(user), ctx.now()),
                     headers={"Content-Disposition": f'attachment; filename="{_filename("mentions", period)}"'})
