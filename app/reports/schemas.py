"""What every report request takes (the period and the filters from the query string), and
the SLA report's JSON."""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from pydantic import Field

from app.accounts.principal import Principal
from app.core.errors import Invalid
from app.reports import PeriodError, ReportFilters, parse_period
from app.reports.period import Period
from app.web.schemas import Out, Timestamp


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
            raise Invalid(str(exc)) from None

    def scoped(self, user: Principal) -> ReportFilters:
        """A responder's own figures only, whatever they asked for."""
        if user.has_role("lead"):
            return self.filters
        return ReportFilters(**{**self.filters.__dict__, "responder": user.username})


Query = Annotated[ReportQuery, Depends()]


class DismissedByReason(Out):
    spam: int
    not_relevant: int
    duplicate: int
    no_reply_needed: int
    covered: int


class FiguresOut(Out):
    """The figures of one group (see the README, "How the figures are counted")."""
    mentions: int
    replied: int
    within_target: int
    pct_within_target: float | None = Field(description="0-100, one decimal; null when nothing is decided yet")
    median_first_response_seconds: int | None
    p90_first_response_seconds: int | None
    open_breached: int
    dismissed: int
    dismissed_by_reason: DismissedByReason
    late: int
    open: int
    pct_breached: float | None
    repeat_contacts: int
    follow_ups_kept: int
    follow_ups_missed: int


class OverallOut(FiguresOut):
    repeat_contacts_by_category: dict[str, int] = Field(description='no category counts under ""')


class GroupOut(FiguresOut):
    key: str | int | None = Field(description="the group's value: hour is 0-23, week its Monday, weekday_hour 'mon-09'")


class SlaReportOut(Out):
    since: Timestamp
    until: Timestamp
    timezone: str
    group_by: str | None
    overall: OverallOut
    groups: list[GroupOut]
