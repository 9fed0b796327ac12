"""Every figure and grouping of the fixture week, worked out by hand (see conftest.py)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.core.models import Mention
from app.reports import ReportFilters, parse_period, sla_report
from tests.support.report_week import NOW, SINCE, UNTIL

pytestmark = pytest.mark.asyncio

NO_DISMISSALS = {"spam": 0, "not_relevant": 0, "duplicate": 0, "no_reply_needed": 0, "covered": 0}


async def report(ctx, group_by=None, **filters):
    period = parse_period(SINCE, UNTIL, ctx.config.sla.timezone, NOW)
    async with ctx.db.read() as session:
        return (await sla_report(session, period, NOW, group_by=group_by, filters=ReportFilters(**filters))).as_dict()


async def test_stored_first_response_times_follow_opening_hours_holiday_and_dst(ctx, week):
    async with ctx.db.read() as session:
        rows = dict((await session.execute(select(Mention.external_id, Mention.first_response_seconds))).all())
    assert {k: v for k, v in rows.items() if v is not None} == {
        "m16": 300, "m1": 1200, "m2": 4200, "m3": 2700, "m8": 1200, "m4": 1800, "m5": 4500, "m6": 600, "m9": 1800}


async def test_overall_figures(ctx, week):
    overall = (await report(ctx))["overall"]
    assert overall == {
        "mentions": 12, "replied": 8, "within_target": 6, "late": 2, "open": 2, "open_breached": 1,
        "pct_within_target": 66.7,  # 6 of (8 replied + 1 open past due)
        "median_first_response_seconds": 1800,  # 600 1200 1200 [1800] 1800 2700 4200 4500: rank ceil(4)
        "p90_first_response_seconds": 4500,  # rank ceil(7.2) = 8
        "dismissed": 2, "dismissed_by_reason": {**NO_DISMISSALS, "spam": 1, "duplicate": 1},
        "pct_breached": 25.0,  # (2 late + 1 open past due) of 12
        "repeat_contacts": 5,  # m3 m6 m9 m10 m12
        "repeat_contacts_by_category": {"delivery": 3, "outage": 1, "product": 1},
        "follow_ups_kept": 1, "follow_ups_missed": 1,
    }


async def test_by_channel(ctx, week):
    groups = {g.pop("key"): g for g in (await report(ctx, "channel"))["groups"]}
    assert list(groups) == ["bluesky", "mastodon"]
    assert groups["mastodon"] == {
        "mentions": 8, "replied": 6, "within_target": 6, "late": 0, "open": 1, "open_breached": 0,
        "pct_within_target": 100.0, "median_first_response_seconds": 1200, "p90_first_response_seconds": 2700,
        "dismissed": 1, "dismissed_by_reason": {**NO_DISMISSALS, "duplicate": 1}, "pct_breached": 0.0,
        "repeat_contacts": 4, "follow_ups_kept": 0, "follow_ups_missed": 0}
    assert groups["bluesky"] == {
        "mentions": 4, "replied": 2, "within_target": 0, "late": 2, "open": 1, "open_breached": 1,
        "pct_within_target": 0.0, "median_first_response_seconds": 4200, "p90_first_response_seconds": 4500,
        "dismissed": 1, "dismissed_by_reason": {**NO_DISMISSALS, "spam": 1}, "pct_breached": 75.0,
        "repeat_contacts": 1, "follow_ups_kept": 1, "follow_ups_missed": 1}


async def test_by_responder_includes_the_unanswered(ctx, week):
    groups = {g["key"]: g for g in (await report(ctx, "responder"))["groups"]}
    assert list(groups) == ["anna", "ben", None]
    pick = ("mentions", "replied", "within_target", "pct_within_target", "median_first_response_seconds",
            "p90_first_response_seconds", "open_breached", "dismissed", "repeat_contacts",
            "follow_ups_kept", "follow_ups_missed")
    rows = {k: tuple(g[p] for p in pick) for k, g in groups.items()}
    assert rows == {"anna": (4, 4, 3, 75.0, 1200, 4500, 0, 0, 1, 0, 1),  # 1200 1200 2700 4500
                    "ben": (4, 4, 3, 75.0, 1800, 4200, 0, 0, 2, 1, 0),  # 600 1800 1800 4200
                    None: (4, 0, 0, 0.0, None, None, 1, 2, 2, 0, 0)}  # m7 m10 m11 m12


async def test_by_local_day_across_dst(ctx, week):
    groups = (await report(ctx, "day"))["groups"]
    assert [(g["key"], g["mentions"], g["replied"], g["within_target"]) for g in groups] == [
        ("2026-10-22", 2, 2, 1), ("2026-10-23", 1, 1, 1),
        ("2026-10-24", 3, 3, 2),  # m8 at 00:30 CEST is still the 23rd in UTC
        ("2026-10-25", 2, 1, 1), ("2026-10-26", 1, 1, 1), ("2026-10-27", 2, 0, 0), ("2026-10-28", 1, 0, 0)]
    saturday = groups[2]
    assert (saturday["median_first_response_seconds"], saturday["p90_first_response_seconds"]) == (1800, 4500)
    assert saturday["pct_within_target"] == 66.7


async def test_by_week_hour_and_weekday_hour(ctx, week):
    weeks = (await report(ctx, "week"))["groups"]
    assert [(g["key"], g["mentions"]) for g in weeks] == [("2026-10-19", 8), ("2026-10-26", 4)]
    hours = (await report(ctx, "hour"))["groups"]
    # both 02:30s of the DST night are hour 2
    assert [(g["key"], g["mentions"]) for g in hours] == [
        (0, 1), (2, 2), (9, 4), (10, 1), (11, 1), (14, 1), (15, 1), (19, 1)]
    cells = {g["key"]: (g["mentions"], g["pct_breached"]) for g in (await report(ctx, "weekday_hour"))["groups"]}
    assert cells == {"mon-09": (1, 0.0), "tue-09": (1, 0.0), "tue-14": (1, 100.0), "wed-11": (1, 0.0),
                     "thu-09": (1, 0.0), "thu-19": (1, 100.0), "fri-10": (1, 0.0), "sat-00": (1, 0.0),
                     "sat-09": (1, 0.0), "sat-15": (1, 100.0), "sun-02": (2, 0.0)}


PICK = ("mentions", "replied", "within_target", "pct_within_target", "median_first_response_seconds",
        "p90_first_response_seconds", "open", "open_breached", "dismissed", "repeat_contacts", "follow_ups_kept",
        "follow_ups_missed")


def figures(groups) -> dict:
    return {g["key"]: tuple(g[p] for p in PICK) for g in groups}


async def test_by_week_every_figure(ctx, week):
    assert figures((await report(ctx, "week"))["groups"]) == {
        # m1 m2 m3 m8 m4 m5 m6 m7: 600 1200 1200 [1800] 2700 4200 [4500]; m7 dismissed; m3 m6 repeats
        "2026-10-19": (8, 7, 5, 71.4, 1800, 4500, 0, 0, 1, 2, 1, 1),
        # m9 m12 m10 m11: one reply (1800), m10 past due, m11 waiting, m12 dismissed; m9 m10 m12 repeats
        "2026-10-26": (4, 1, 1, 50.0, 1800, 1800, 2, 1, 1, 3, 0, 0)}


async def test_by_category_source_and_language(ctx, week):
    def counts(groups):
        return {g["key"]: g["mentions"] for g in groups}

    assert counts((await report(ctx, "category"))["groups"]) == {
        "billing": 2, "delivery": 4, "outage": 3, "product": 1, "question": 1, "service": 1}
    assert counts((await report(ctx, "source"))["groups"]) == {"masto": 2, "push": 10}
    assert counts((await report(ctx, "language"))["groups"]) == {"en": 3, "nl": 9}
    by_category = figures((await report(ctx, "category"))["groups"])
    assert by_category["delivery"] == (4, 2, 2, 66.7, 1200, 2700, 1, 1, 1, 3, 0, 0)  # m1 m3 | m10 past due | m12
    assert by_category["outage"] == (3, 3, 2, 66.7, 1800, 4500, 0, 0, 0, 1, 0, 1)  # 1800 [1800] [4500]
    assert by_category["billing"] == (2, 1, 0, 0.0, 4200, 4200, 1, 0, 0, 0, 1, 0)  # m11 not due yet
    assert by_category["service"] == (1, 0, 0, None, None, None, 0, 0, 1, 0, 0, 0)  # m7 dismissed: nothing decided
    assert figures((await report(ctx, "source"))["groups"])["masto"] == (2, 2, 2, 100.0, 1800, 1800, 0, 0, 0, 1, 0, 0)
    english = figures((await report(ctx, "language"))["groups"])["en"]  # m2 m8 m5: 1200 [4200] [4500]
    assert english == (3, 3, 1, 33.3, 4200, 4500, 0, 0, 0, 0, 1, 1)


async def test_filters_narrow_every_figure(ctx, week):
    overall = (await report(ctx, channel="bluesky", category="outage"))["overall"]
    counts = (overall["mentions"], overall["replied"], overall["within_target"], overall["follow_ups_missed"])
    assert counts == (1, 1, 0, 1)
    own = (await report(ctx, responder="ben"))["overall"]
    assert (own["mentions"], own["median_first_response_seconds"], own["repeat_contacts"]) == (4, 1800, 2)


async def test_an_empty_period_has_no_percentiles(ctx, week):
    period = parse_period("2026-01-01", "2026-01-07", ctx.config.sla.timezone, NOW)
    async with ctx.db.read() as session:
        overall = (await sla_report(session, period, NOW)).as_dict()["overall"]
    assert overall["mentions"] == 0 and overall["pct_within_target"] is None
    assert overall["median_first_response_seconds"] is None
