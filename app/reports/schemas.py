"""What every report request takes: the period and the filters from the query string."""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException

from app.accounts.principal import Principal
from app.reports import PeriodError, ReportFilters, parse_period
from app.reports.period import Period


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
