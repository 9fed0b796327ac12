"""The report routes: JSON, CSV and page agree; responders see only their own figures."""
from __future__ import annotations

import csv
import io
import re

import pytest

from tests.support.app import add_user, bearer
from tests.support.report_week import SINCE, UNTIL

pytestmark = pytest.mark.asyncio
PERIOD = {"since": SINCE, "until": UNTIL}
HEADLINE = ("mentions", "replied", "within_target", "open_breached", "dismissed", "repeat_contacts",
            "follow_ups_kept", "follow_ups_missed")


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def page_metrics(html: str, scope: str) -> dict[str, str]:
    """data-metric values inside the element whose opening tag contains `scope`."""
    start = html.index(scope)
    block = html[start:html.index("</dl>" if "headline" in scope else "</tr>", start)]
    found = {}
    for name, value, text in re.findall(r'data-metric="(\w+)"(?: data-value="([^"]*)")?>([^<]*)<', block):
        found[name] = value if value or "seconds" in name or name.startswith("pct") else text.strip()
    return found


async def test_json_csv_and_page_show_the_same_figures(app_client, ctx, week):
    token = await add_user(ctx, "lea", "lead")
    api = (await app_client.get("/api/reports/sla", params={**PERIOD, "group_by": "channel"},
                                headers=bearer(token))).json()
    exported = rows((await app_client.get("/api/reports/sla.csv", params={**PERIOD, "group_by": "channel"},
                                          headers=bearer(token))).text)
    page = (await app_client.get("/reports", params=PERIOD, headers=bearer(token))).text
    assert api["overall"]["mentions"] == 12 and api["overall"]["median_first_response_seconds"] == 1800

    assert [r["key"] for r in exported] == ["", "bluesky", "mastodon"] and exported[0]["group_by"] == "overall"
    for row, figures in zip(exported, [api["overall"], *api["groups"]], strict=True):
        for name in (*HEADLINE, "pct_within_target", "median_first_response_seconds", "p90_first_response_seconds"):
            assert row[name] == ("" if figures[name] is None else str(figures[name])), name

    headline = page_metrics(page, '<dl class="headline">')
    for name in HEADLINE:
        assert headline[name] == str(api["overall"][name]), name
    assert headline["pct_within_target"] == "66.7" and ">66.7 %<" in page
    assert headline["median_first_response_seconds"] == "1800" and ">30:00<" in page
    for group in api["groups"]:
        cells = page_metrics(page, f'<tr data-key="{group["key"]}"')
        assert cells["mentions"] == str(group["mentions"])
        assert cells["p90_first_response_seconds"] == str(group["p90_first_response_seconds"])
    assert "<svg" in page and 'class="target"' in page and "<script>" not in page


async def test_a_responder_sees_only_the_mentions_they_answered(app_client, ctx, week):
    anna = await add_user(ctx, "anna")
    asked_for_ben = {**PERIOD, "responder": "ben", "group_by": "responder"}
    body = (await app_client.get("/api/reports/sla", params=asked_for_ben, headers=bearer(anna))).json()
    assert [g["key"] for g in body["groups"]] == ["anna"]
    overall = body["overall"]
    assert (overall["mentions"], overall["within_target"], overall["p90_first_response_seconds"]) == (4, 3, 4500)
    exported = rows((await app_client.get("/api/reports/sla.csv", params=asked_for_ben, headers=bearer(anna))).text)
    assert [(r["key"], r["mentions"]) for r in exported] == [("", "4"), ("anna", "4")]
    listed = rows((await app_client.get("/api/reports/mentions.csv", params=PERIOD, headers=bearer(anna))).text)
    assert sorted(r["external_id"] for r in listed) == ["m1", "m3", "m5", "m8"]
    assert {r["responder"] for r in listed} == {"anna"}
    page = (await app_client.get("/reports", params=asked_for_ben, headers=bearer(anna))).text
    assert page_metrics(page, '<dl class="headline">')["mentions"] == "4"
    assert "per-responder" not in page and 'href="/wallboard"' not in page and "My figures" in page
    lead = await add_user(ctx, "lea", "lead")
    everyone = (await app_client.get("/api/reports/sla", params={**PERIOD, "responder": "ben"},
                                     headers=bearer(lead))).json()
    assert everyone["overall"]["mentions"] == 4 and everyone["overall"]["median_first_response_seconds"] == 1800


async def test_mentions_csv_has_every_timestamp_local_and_utc(app_client, ctx, week):
    token = await add_user(ctx, "lea", "lead")
    response = await app_client.get("/api/reports/mentions.csv", params=PERIOD, headers=bearer(token))
    assert response.headers["content-type"].startswith("text/csv")
    assert 'filename="webcare-mentions-2026-10-22-2026-10-28.csv"' in response.headers["content-disposition"]
    listed = {r["external_id"]: r for r in rows(response.text)}
    # inbound only (not our own m14), backfill marked, nothing from before the period
    assert sorted(listed) == sorted(["m13", "m1", "m2", "m3", "m8", "m4", "m5", "m6", "m7", "m9", "m12", "m10", "m11"])
    assert [listed[k]["sla_outcome"] for k in ("m13", "m1", "m2", "m7", "m10", "m11")] == [
        "backfill", "within_target", "late", "dismissed", "breached", "open"]
    m2 = listed["m2"]
    assert (m2["posted_at_local"], m2["posted_at_utc"]) == ("2026-10-22T19:30:00+02:00", "2026-10-22T17:30:00+00:00")
    assert (m2["answered_at_local"], m2["first_response_seconds"], m2["responder"]) == (
        "2026-10-23T08:40:00+02:00", "4200", "ben")
    assert listed["m6"]["posted_at_local"] == "2026-10-25T02:30:00+02:00"
    assert listed["m7"]["posted_at_local"] == "2026-10-25T02:30:00+01:00"
    assert (listed["m7"]["dismissed_at_local"], listed["m7"]["dismiss_reason"]) == ("2026-10-25T10:05:00+01:00", "spam")
    assert listed["m11"]["claimed_at_utc"] == "2026-10-28T10:35:00+00:00" and listed["m11"]["answered_at_utc"] == ""
    assert listed["m9"]["due_at_local"] == "2026-10-27T09:00:00+01:00"  # the holiday does not count
    assert (listed["m13"]["backfill"], listed["m1"]["backfill"]) == ("true", "false")


async def test_csv_cells_cannot_become_formulas(app_client, ctx, week):
    from sqlalchemy import update

    from app.core.models import Mention

    async with ctx.db.write() as session:
        await session.execute(update(Mention).where(Mention.external_id == "m1").values(author="=HYPERLINK(\"x\")"))
        await session.execute(update(Mention).where(Mention.external_id == "m3").values(author="@cmd", category="+1"))
        await session.execute(update(Mention).where(Mention.external_id == "m4").values(author="-2+3"))
    token = await add_user(ctx, "lea", "lead")
    listed = {r["external_id"]: r for r in rows((await app_client.get(
        "/api/reports/mentions.csv", params=PERIOD, headers=bearer(token))).text)}
    assert listed["m1"]["author"] == "'=HYPERLINK(\"x\")"
    assert (listed["m3"]["author"], listed["m3"]["category"]) == ("'@cmd", "'+1")
    assert listed["m4"]["author"] == "'-2+3"
    aggregate = rows((await app_client.get("/api/reports/sla.csv", params={**PERIOD, "group_by": "category"},
                                           headers=bearer(token))).text)
    assert "'+1" in [r["key"] for r in aggregate]


async def test_bad_periods_and_groupings_are_refused(app_client, ctx):
    token = await add_user(ctx, "lea", "lead")
    for params in ({"since": "yesterday"}, {"since": "2026-10-28", "until": "2026-10-22"}, {"group_by": "colour"}):
        response = await app_client.get("/api/reports/sla", params=params, headers=bearer(token))
        assert response.status_code == 422, params


async def test_empty_parameters_as_in_the_contract_mean_the_defaults(app_client, ctx, week):
    token = await add_user(ctx, "lea", "lead")
    blank = {"since": "", "until": "", "group_by": "", "channel": ""}  # ?since=&until=&group_by=
    body = (await app_client.get("/api/reports/sla", params=blank, headers=bearer(token))).json()
    assert (body["group_by"], body["groups"], body["overall"]["mentions"]) == (None, [], 12)
    exported = rows((await app_client.get("/api/reports/sla.csv", params=blank, headers=bearer(token))).text)
    assert [(r["group_by"], r["mentions"]) for r in exported] == [("overall", "12")]


async def test_default_period_is_the_last_seven_local_days(app_client, ctx, week):
    token = await add_user(ctx, "lea", "lead")
    body = (await app_client.get("/api/reports/sla", headers=bearer(token))).json()
    assert (body["since"], body["until"]) == ("2026-10-21T22:00:00+00:00", "2026-10-28T23:00:00+00:00")
    assert body["overall"]["mentions"] == 12


async def test_wallboard_live_figures_for_leads_only(app_client, ctx, week):
    lead, anna = await add_user(ctx, "lea", "lead"), await add_user(ctx, "anna")
    page = await app_client.get("/wallboard", headers=bearer(lead))
    assert page.status_code == 200 and 'data-partial="/partials/wallboard"' in page.text
    assert '<script src="/static/app.js">' in page.text
    fragment = (await app_client.get("/partials/wallboard", headers={**bearer(lead), "Accept-Language": "nl"})).text

    def tile(name: str) -> str:
        return re.search(rf'data-wall="{name}">\s*<span class="n">([^<]*)<', fragment).group(1)

    # open: m10 (due Tue 15:00) and m17 (a week old) breached, m11 (30 min of 60 used) green
    assert (tile("open"), tile("ok"), tile("warning"), tile("breached")) == ("3", "1", "0", "2")
    assert tile("replied") == "0" and tile("pct_within_target") == "–"
    oldest = re.search(r'data-wall="oldest">.*?data-seconds-left="(-?\d+)" data-clock-running="(\w+)"', fragment, re.S)
    # m17, posted Wed 21 12:00: open time since then is Wed 8 h + Thu 12 + Fri 12 + Sat 6 + Sun 6
    # + Mon 0 (holiday) + Tue 12 + Wed 4 = 60 h = 216000 s; the target was 3600 s of it
    assert oldest.groups() == ("-212400", "true")
    assert re.search(r'data-wall="active">.*?<span class="person">anna</span>', fragment, re.S)
    # masto last polled on Monday (m9), so it is down; push sources are never "down"
    sources = re.search(r'data-wall="sources">(.*?)</section>', fragment, re.S).group(1)
    assert "masto (uitgevallen)" in sources and "push" not in sources
    assert (await app_client.get("/wallboard", headers=bearer(anna))).status_code == 403
    assert (await app_client.get("/partials/wallboard", headers=bearer(anna))).status_code == 403


async def test_reports_page_in_dutch(app_client, ctx, week):
    token = await add_user(ctx, "lea", "lead")
    page = (await app_client.get("/reports", params=PERIOD, headers={**bearer(token), "Accept-Language": "nl"})).text
    assert "Rapportages" in page and "66,7 %" in page and "Per webcarer" in page


async def test_a_period_without_mentions_renders_everywhere(app_client, ctx, week):
    token = await add_user(ctx, "lea", "lead")
    quiet = {"since": "2026-01-05", "until": "2026-01-11"}
    for lang in ("en", "nl"):
        page = await app_client.get("/reports", params=quiet, headers={**bearer(token), "Accept-Language": lang})
        assert page.status_code == 200 and page_metrics(page.text, '<dl class="headline">')["mentions"] == "0"
    body = (await app_client.get("/api/reports/sla", params={**quiet, "group_by": "weekday_hour"},
                                 headers=bearer(token))).json()
    assert body["groups"] == [] and body["overall"]["p90_first_response_seconds"] is None
    exported = rows((await app_client.get("/api/reports/sla.csv", params={**quiet, "group_by": "day"},
                                          headers=bearer(token))).text)
    assert [(r["group_by"], r["mentions"], r["median_first_response_seconds"]) for r in exported] == [
        ("overall", "0", "")]


async def test_the_wallboard_counts_replies_made_today_whenever_their_post_came(app_client, ctx):
    from tests.support.push import ago, mention, push

    await push(app_client, [mention("yesterday", posted_at=ago(26 * 60, ctx.now()), text="Nog geen antwoord")])
    lead = bearer(await add_user(ctx, "lea", "lead"))
    [item] = (await app_client.get("/api/queue", headers=lead)).json()["items"]
    await app_client.post(f"/api/mentions/{item['id']}/reply", headers=lead, json={"text": "Sorry, ik kijk het na!"})
    fragment = (await app_client.get("/partials/wallboard", headers=lead)).text
    assert re.search(r'data-wall="replied">\s*<span class="n">1<', fragment)
