"""The pure parts: percentile, period, DST offsets, CSV cells, chart geometry."""
from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime

import pytest

from app.core.safecsv import safe_cell
from app.reports.charts import PLOT, heat_map, histogram, line_chart
from app.reports.figures import Figures, nearest_rank
from app.reports.period import PeriodError, parse_period
from app.reports.timeslices import offset_changes

UTC = UTC
NOW = datetime(2026, 10, 28, 11, 0, tzinfo=UTC)


def test_nearest_rank_percentiles_in_integers():
    ten = Counter(range(1, 11))
    assert (nearest_rank(ten, 50), nearest_rank(ten, 90)) == (5, 9)  # ranks 5 and 9
    thirty = Counter(range(1, 31))
    assert nearest_rank(thirty, 90) == 27  # 0.9 * 30 is 27 exactly, no float rounding up to 28
    assert nearest_rank(Counter({7: 1}), 90) == 7
    assert nearest_rank(Counter({60: 3, 4000: 1}), 50) == 60  # rank 2 of 60 60 60 4000
    assert nearest_rank(Counter(), 50) is None


def test_percentages_leave_out_what_is_not_decided():
    f = Figures(mentions=5, replied=2, within_target=1, open=2, open_breached=1, dismissed=1)
    assert f.pct_within_target == 33.3  # 1 of 2 replied + 1 open past due
    assert f.pct_breached == 40.0  # 1 late + 1 past due of 5
    assert Figures().pct_within_target is None


def test_dates_are_whole_local_days_and_the_dst_day_has_25_hours():
    period = parse_period("2026-10-25", "2026-10-25", "Europe/Amsterdam", NOW)
    assert period.since == datetime(2026, 10, 24, 22, tzinfo=UTC)
    assert period.until == datetime(2026, 10, 25, 23, tzinfo=UTC)
    assert period.days() == [date(2026, 10, 25)]


def test_datetimes_without_offset_are_team_time():
    period = parse_period("2026-10-20T08:00", "2026-10-20T12:00:00+00:00", "Europe/Amsterdam", NOW)
    assert (period.since, period.until) == (datetime(2026, 10, 20, 6, tzinfo=UTC),
                                            datetime(2026, 10, 20, 12, tzinfo=UTC))


def test_default_is_seven_local_days_up_to_today():
    period = parse_period(None, None, "Europe/Amsterdam", NOW)
    assert period.days()[0] == date(2026, 10, 22) and period.days()[-1] == date(2026, 10, 28)


@pytest.mark.parametrize(("since", "until"), [("22-10-2026", None), ("2026-10-28", "2026-10-27"), ("2026-13-01", None)])
def test_bad_periods(since, until):
    with pytest.raises(PeriodError):
        parse_period(since, until, "Europe/Amsterdam", NOW)


def test_offset_changes_find_the_dst_second():
    period = parse_period("2026-10-22", "2026-10-28", "Europe/Amsterdam", NOW)
    assert offset_changes(period) == [(datetime(2026, 10, 21, 22, tzinfo=UTC), 7200),
                                      (datetime(2026, 10, 25, 1, tzinfo=UTC), 3600)]
    spring = parse_period("2026-03-29", "2026-03-29", "Europe/Amsterdam", NOW)
    assert offset_changes(spring)[1] == (datetime(2026, 3, 29, 1, tzinfo=UTC), 7200)


def test_csv_cells_that_a_spreadsheet_would_run_get_an_apostrophe():
    assert [safe_cell(v) for v in ("=1+1", "+31", "-x", "@sum", "\tx", "ok", "a=b")] == [
        "'=1+1", "'+31", "'-x", "'@sum", "'\tx", "ok", "a=b"]
    assert (safe_cell(-5), safe_cell(None), safe_cell(True)) == (-5, "", "true")


def test_histogram_bins_and_target_line():
    chart = histogram(Counter({0: 1, 599: 1, 600: 2, 3599: 1, 3600: 1, 9000: 1}), 3600)
    counts = [b["count"] for b in chart["bars"]]
    assert counts == [2, 2, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 1]  # 10-minute bins, last: 120 min and longer
    assert [b["late"] for b in chart["bars"]][5:7] == [False, True]
    assert chart["bars"][-1]["to_minutes"] is None
    assert chart["target_x"] == round(PLOT.left + 6 * PLOT.width / 13, 1)


def test_line_chart_leaves_gaps_for_days_without_figures():
    days = [date(2026, 10, d) for d in (22, 23, 24)]
    chart = line_chart(days, {"2026-10-22": Figures(replied=1, within_target=1), "2026-10-24": Figures(replied=2)})
    assert [p["pct"] for p in chart["points"]] == [100.0, None, 0.0]
    assert len(chart["polylines"]) == 2  # no line drawn across the empty day
    assert chart["points"][0]["y"] == PLOT.top and chart["points"][2]["y"] == PLOT.bottom


def test_heat_map_strength_is_volume_and_colour_is_share_missed():
    busy = Figures(mentions=4, replied=4, within_target=2)  # half late
    calm = Figures(mentions=1, replied=1, within_target=1)
    chart = heat_map({"mon-09": busy, "sun-23": calm})
    monday_nine = chart["rows"][0]["cells"][9]
    sunday_eleven_pm = chart["rows"][6]["cells"][23]
    assert (monday_nine["mentions"], monday_nine["opacity"], monday_nine["hue"]) == (4, 1.0, 60)
    assert (sunday_eleven_pm["opacity"], sunday_eleven_pm["hue"]) == (0.4, 120)  # 0.15 + 0.85/4, all in time
    assert chart["rows"][3]["cells"][0]["mentions"] == 0
