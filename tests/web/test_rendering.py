"""Display helpers of the pages."""
from __future__ import annotations

from datetime import UTC, datetime

from app.web.rendering import local_time


def test_dates_carry_the_year_only_when_it_is_not_this_year():
    now = datetime(2026, 12, 5, 12, tzinfo=UTC)
    assert local_time("2026-03-01T10:00:00+00:00", "Europe/Amsterdam", now=now) == "01-03 11:00"
    assert local_time("2025-12-31T23:30:00+00:00", "Europe/Amsterdam", now=now) == "01-01 00:30"  # team time
    assert local_time("2024-12-31T10:00:00+00:00", "Europe/Amsterdam", now=now) == "31-12-2024 11:00"
    assert local_time(None, "Europe/Amsterdam") == ""
