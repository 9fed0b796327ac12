"""What the /reports page shows: the headline, three charts and the tables (per responder,
channel and, where mentions are routed, team), for one period."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from app.reports import charts
from app.reports.grouping import sort_key
from app.reports.period import Period
from app.reports.report import ReportFilters, sla_reports


async def reports_view(session: AsyncSession, period: Period, now: datetime, filters: ReportFilters,
                       target_seconds: int) -> dict[str, Any]:
    reports = await sla_reports(session, period, now, ["day", "weekday_hour", "responder", "channel", "team"],
                                filters=filters)
    by_day, by_cell = reports["day"], reports["weekday_hour"]
    by_responder, by_channel = reports["responder"], reports["channel"]
    return {
        "overall": by_day.overall,
        "repeat_by_category": sorted(by_day.repeat_by_category.items(), key=lambda kv: sort_key(kv[0])),
        "line": charts.line_chart(period.days(), dict(by_day.groups)),
        "histogram": charts.histogram(by_day.overall.response_times, target_seconds),
        "heat": charts.heat_map(dict(by_cell.groups)),
        "responders": by_responder.groups, "channels": by_channel.groups,
        # Only where mentions are routed to teams (one column more in the same pass).
        "teams": reports["team"].groups if any(key for key, _ in reports["team"].groups) else [],
    }
