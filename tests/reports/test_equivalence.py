"""Every grouping of a random month of mentions against a plain per-row count in Python.

The fixture week (conftest.py) pins each figure by hand; this test covers the combinations a
week cannot: NULL keys, answers without a recorded time, a status no report knows, dismiss
reasons outside the list, deleted posts, repeat contacts without a category, mentions on the
DST night and on the period's edges, and keys with commas, quotes and control characters, on
SQLite and PostgreSQL alike."""
from __future__ import annotations

import random
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, select

from app.core.db import Database
from app.core.models import DISMISS_REASONS, FollowUp, Mention
from app.reports import GROUP_BYS, ReportFilters, parse_period, sla_report, sla_reports
from app.sla import DAY_KEYS

pytestmark = pytest.mark.asyncio
TZ = "Europe/Amsterdam"
ZONE = ZoneInfo(TZ)
NOW = datetime(2026, 11, 3, 12, tzinfo=UTC)
PERIOD = parse_period("2026-10-10", "2026-11-02", TZ, NOW)
ODD_KEYS = ("a,b", 'say "hi"', "tab\there", "unit\x1fsep", "", None)


def _random_mentions(rng: random.Random, n: int) -> list[dict]:
    edges = [PERIOD.since, PERIOD.until - timedelta(microseconds=1), PERIOD.until, PERIOD.since - timedelta(seconds=1),
             datetime(2026, 10, 25, 0, 30, tzinfo=UTC), datetime(2026, 10, 25, 1, 30, tzinfo=UTC)]
    rows = []
    for i in range(n):
        posted = edges[i] if i < len(edges) else PERIOD.since + timedelta(
            seconds=rng.randrange(int((PERIOD.until - PERIOD.since).total_seconds())))
        status = rng.choice(("open", "claimed", "answered", "answered", "answered", "dismissed", "merged"))
        timed = status == "answered" and rng.random() < 0.9
        rows.append({
            "source": rng.choice(("push", "masto", *ODD_KEYS[:2])),
            "channel": rng.choice(("mastodon", "bluesky", ODD_KEYS[3])),
            "external_id": f"e{i}", "direction": "outbound" if rng.random() < 0.05 else "inbound",
            "author": f"a{rng.randrange(40)}", "text": "x", "category": rng.choice(("delivery", "billing", *ODD_KEYS)),
            "language": rng.choice(("nl", "en", None)), "urgency": 0, "team": rng.choice(("billing", "press", None)),
            "urgency_reasons": rng.choice(([], ["repeat"], ["anger", "repeat"], ["anger"])),
            "posted_at": posted, "fetched_at": posted, "due_at": rng.choice((posted + timedelta(hours=1), None)),
            "backfill": rng.random() < 0.05, "removed": rng.random() < 0.1, "status": status,
            "answered_by": rng.choice(("anna", "ben", *ODD_KEYS[2:])) if status == "answered" else None,
            "first_response_seconds": rng.randrange(-5, 9000) if timed else None,
            "within_target": rng.choice((True, False, None)) if status == "answered" else None,
            "dismiss_reason": rng.choice((*DISMISS_REASONS, "other", None)) if status == "dismissed" else None,
        })
    return rows


def _key(group_by: str, row: dict):
    local = row["posted_at"].astimezone(ZONE)
    column = {"channel": "channel", "source": "source", "responder": "answered_by", "category": "category",
              "language": "language", "team": "team"}.get(group_by)
    if column:
        return row[column]
    return {"day": local.date().isoformat(), "week": (local.date() - timedelta(days=local.weekday())).isoformat(),
            "hour": local.hour, "weekday_hour": f"{DAY_KEYS[local.weekday()]}-{local.hour:02d}"}[group_by]


def _percentile(values: list[int], percent: int):
    ordered = sorted(values)
    return ordered[max(1, -(-percent * len(ordered) // 100)) - 1] if ordered else None


def _expected(rows: list[dict], follow_ups: dict[int, str], key) -> dict:
    """{key: figures} counted row by row, the way the README defines them."""
    groups: dict = defaultdict(lambda: {"rows": [], "seconds": []})
    for i, row in enumerate(rows):
        if row["direction"] != "inbound" or row["backfill"] or not PERIOD.since <= row["posted_at"] < PERIOD.until:
            continue
        group = groups[key(row)]
        group["rows"].append((i, row))
        if row["status"] == "answered" and row["first_response_seconds"] is not None:
            group["seconds"].append(row["first_response_seconds"])
    result = {}
    for k, group in groups.items():
        members = [r for _, r in group["rows"]]
        waiting = [r for r in members if r["status"] in ("open", "claimed") and not r["removed"]]
        dismissed = [r for r in members if r["status"] == "dismissed"]
        result[k] = {
            "mentions": len(members), "replied": sum(r["status"] == "answered" for r in members),
            "within_target": sum(r["status"] == "answered" and r["within_target"] is True for r in members),
            "open": len(waiting), "open_breached": sum(r["due_at"] is not None and r["due_at"] <= NOW for r in waiting),
            "dismissed": len(dismissed),
            "dismissed_by_reason": {reason: sum(r["dismiss_reason"] == reason for r in dismissed)
                                    for reason in DISMISS_REASONS},
            "repeat_contacts": sum("repeat" in r["urgency_reasons"] for r in members),
            "median_first_response_seconds": _percentile(group["seconds"], 50),
            "p90_first_response_seconds": _percentile(group["seconds"], 90),
            "follow_ups_kept": sum(follow_ups.get(i) == "kept" for i, _ in group["rows"]),
            "follow_ups_missed": sum(follow_ups.get(i) == "missed" for i, _ in group["rows"]),
        }
    return result


FIELDS = ("mentions", "replied", "within_target", "open", "open_breached", "dismissed", "dismissed_by_reason",
          "repeat_contacts", "median_first_response_seconds", "p90_first_response_seconds", "follow_ups_kept",
          "follow_ups_missed")


async def test_every_grouping_matches_a_count_row_by_row(db_url):
    rng = random.Random(20261129)
    rows = _random_mentions(rng, 1500)
    db = Database(db_url)
    try:
        async with db.write() as session:
            await session.execute(insert(Mention), rows)
            ids = dict((await session.execute(select(Mention.external_id, Mention.id))).all())
            follow_ups = {i: rng.choice(("kept", "missed", "pending")) for i in rng.sample(range(len(rows)), 200)}
            await session.execute(insert(FollowUp), [
                {"mention_id": ids[f"e{i}"], "created_by": "anna", "created_at": NOW, "due_at": NOW, "state": state}
                for i, state in follow_ups.items()])
        async with db.read() as session:
            reports = {g: (await sla_report(session, PERIOD, NOW, group_by=g, filters=ReportFilters())).as_dict()
                       for g in (None, *GROUP_BYS)}
            # all at once: time groupings share one pass, column groupings another
            together = await sla_reports(session, PERIOD, NOW, [None, *GROUP_BYS])
            page = await sla_reports(session, PERIOD, NOW, ["day", "week"])   # days, no hours
    finally:
        await db.dispose()

    overall = _expected(rows, follow_ups, lambda row: None)[None]
    repeats = Counter(r["category"] or "" for r in rows if r["direction"] == "inbound" and not r["backfill"]
                      and PERIOD.since <= r["posted_at"] < PERIOD.until and "repeat" in r["urgency_reasons"])
    for group_by, report in reports.items():
        assert {f: report["overall"][f] for f in FIELDS} == overall, group_by
        assert report["overall"]["repeat_contacts_by_category"] == dict(repeats), group_by
        if group_by is None:
            continue
        expected = _expected(rows, follow_ups, partial(_key, group_by))
        got = {g["key"]: {f: g[f] for f in FIELDS} for g in report["groups"]}
        assert got == expected, group_by
        keys = [g["key"] for g in report["groups"]]
        assert keys[-1:] != [None] or None not in keys[:-1], "the no-value group comes last"
    assert overall["mentions"] > 1000 and overall["median_first_response_seconds"] is not None
    assert {g: report.as_dict() for g, report in together.items()} == reports
    assert {g: report.as_dict() for g, report in page.items()} == {g: reports[g] for g in ("day", "week")}
