"""SLA reports for team leads: figures per period and group, CSV exports, SVG charts, wallboard."""
from app.reports.figures import Figures, nearest_rank
from app.reports.grouping import GROUP_BYS
from app.reports.period import Period, PeriodError, parse_period
from app.reports.report import Report, ReportFilters, sla_report, sla_reports

__all__ = [
           "GROUP_BYS",
           "Figures",
           "Period",
           "PeriodError",
           "Report",
           "ReportFilters",
           "nearest_rank",
           "parse_period",
           "sla_report",
           "sla_reports",
]
