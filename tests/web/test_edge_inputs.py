"""Edge input answers 4xx with a plain message, never 500, on SQLite and on PostgreSQL (which
refuses what does not fit an int4/int8 column or its timestamp range): huge ids and offsets,
dates in year 1 or 9999, JSON nested 100,000 deep, absurd follower counts and post dates."""
from __future__ import annotations

import json

import pytest

from tests.support.app import add_user, bearer
from tests.support.push import mention, push, signed_headers

pytestmark = pytest.mark.asyncio

BEYOND_INT64 = str(2**64)
BEYOND_INT4 = str(2**31)
HUGE_IDS = [BEYOND_INT4, str(2**63), BEYOND_INT64, "9" * 40, "-" + BEYOND_INT64, "0"]


def refused(r, status: int = 422) -> str:
    """The answer is the expected refusal with a message, as JSON; returns the message text."""
    assert r.status_code == status, (r.status_code, r.text[:500])
    assert r.headers["content-type"].startswith("application/json")
    assert "Traceback" not in r.text
    detail = r.json()["detail"]
    assert detail
    return json.dumps(detail)


async def _mention_id(app_client, h) -> int:
    assert (await push(app_client, [mention("edge-1")])).status_code == 202
    return (await app_client.get("/api/queue", headers=h)).json()["items"][0]["id"]


@pytest.mark.parametrize("value", HUGE_IDS)
async def test_ids_that_no_row_can_have_are_refused_in_every_path(app_client, ctx, value):
    h = bearer(await add_user(ctx, "lead", "lead"))
    calls = [("GET", f"/api/mentions/{value}", None), ("POST", f"/api/mentions/{value}/claim", None),
             ("POST", f"/api/mentions/{value}/note", {"text": "x"}),
             ("POST", f"/api/mentions/{value}/follow-up", {"due_at": "2030-01-01T10:00:00+01:00"}),
             ("GET", f"/api/mentions/{value}/openers", None), ("POST", f"/api/follow-ups/{value}/done", None),
             ("PUT", f"/api/openers/{value}", {"language": "nl", "text": "Dank voor uw bericht."})]
    for method, path, body in calls:
        message = refused(await app_client.request(method, path, headers=h, json=body))
        assert "2147483647" in message or "greater than or equal to 1" in message, (path, message)
    # Pages say it in a page, not a 500.
    page = await app_client.get(f"/mentions/{value}", headers={**h, "Accept": "text/html"})
    assert page.status_code == 422 and "Traceback" not in page.text


async def test_ids_in_bodies_are_bounded_too(app_client, ctx):
    h = bearer(await add_user(ctx, "anna"))
    r = await app_client.post("/api/mentions/dismiss", headers=h, json={"ids": [1, 2**64], "reason": "spam"})
    assert "2147483647" in refused(r)
    check = await app_client.post("/api/replies/check", headers=h,
                                  json={"text": "Hoi", "language": "nl", "mention_id": 2**63})
    assert "2147483647" in refused(check)


@pytest.mark.parametrize("offset", [BEYOND_INT4, BEYOND_INT64, "9" * 40])
async def test_huge_offsets_are_refused(app_client, ctx, offset):
    h = bearer(await add_user(ctx, "anna"))
    await _mention_id(app_client, h)
    assert "2147483647" in refused(await app_client.get(f"/api/queue?offset={offset}", headers=h))
    last = await app_client.get("/api/queue?offset=2147483647", headers=h)
    assert last.status_code == 200 and last.json()["items"] == [] and last.json()["total"] == 1


@pytest.mark.parametrize("query", ["since=0001-01-01", "until=0001-01-02", "since=0001-01-01T00:00:00-14:00",
                                   "until=9999-12-31", "until=9999-12-31T23:59:59-14:00", "since=1900-01-01",
                                   "since=2020-01-01&until=2999-01-01"])
async def test_report_periods_outside_the_years_we_keep_are_refused(app_client, ctx, query):
    h = bearer(await add_user(ctx, "lead", "lead"))
    for path in ("/api/reports/sla", "/api/reports/sla.csv", "/api/reports/mentions.csv"):
        message = refused(await app_client.get(f"{path}?{query}&group_by=day", headers=h))
        assert "2000-01-01" in message or "days" in message, message


async def test_a_long_but_sensible_report_period_still_answers(app_client, ctx):
    h = bearer(await add_user(ctx, "lead", "lead"))
    r = await app_client.get("/api/reports/sla?since=2000-01-01&until=2030-12-31&group_by=week", headers=h)
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("due_at", ["9999-12-31T23:59:59-14:00", "9999-12-31T23:59:59+00:00",
                                    "0001-01-01T00:00:00+14:00", "1900-01-01T00:00:00+00:00", "2200-01-01T00:00:00Z"])
async def test_a_follow_up_due_at_an_impossible_moment_is_refused(app_client, ctx, due_at):
    h = bearer(await add_user(ctx, "anna"))
    mid = await _mention_id(app_client, h)
    message = refused(await app_client.post(f"/api/mentions/{mid}/follow-up", headers=h, json={"due_at": due_at}))
    assert "due_at" in message
    assert (await app_client.get("/api/follow-ups", headers=h)).json()["items"] == []


@pytest.mark.parametrize("since", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"])
async def test_a_statement_since_an_impossible_moment_is_refused(app_client, ctx, since):
    h = bearer(await add_user(ctx, "lead", "lead"))
    r = await app_client.post("/api/spikes/statement", headers=h,
                              json={"category": "outage", "text": "We zijn ermee bezig", "since": since})
    assert "since" in refused(r)


@pytest.mark.parametrize("path", ["/api/openers", "/api/mentions/dismiss", "/api/replies/check"])
async def test_json_nested_100000_deep_is_refused_without_recursing(app_client, ctx, path):
    h = bearer(await add_user(ctx, "lead", "lead"))
    body = b"[" * 100_000 + b"]" * 100_000
    r = await app_client.post(path, headers={**h, "content-type": "application/json"}, content=body)
    assert "nested" in refused(r)


async def test_a_push_nested_100000_deep_is_refused_without_recursing(app_client):
    body = b'{"mentions": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    r = await app_client.post("/api/ingest/push", content=body, headers=signed_headers(body))
    assert "nested" in refused(r)


async def test_a_body_that_is_not_utf8_is_refused_as_invalid(app_client, ctx):
    h = bearer(await add_user(ctx, "anna"))
    r = await app_client.post("/api/replies/check", headers={**h, "content-type": "application/json"},
                              content=b'{"text": "\xff\xfe", "language": "nl"}')
    assert "UTF-8" in refused(r)


async def test_request_bodies_over_the_limit_are_refused_before_they_are_read(app_client, ctx):
    h = bearer(await add_user(ctx, "anna"))
    big = json.dumps({"text": "x" * (2 * 1024 * 1024), "language": "nl"}).encode()
    r = await app_client.post("/api/replies/check", headers={**h, "content-type": "application/json"}, content=big)
    assert "bytes" in refused(r, 413)


async def test_a_push_with_followers_beyond_any_integer_column_is_stored_clamped(app_client, ctx):
    h = bearer(await add_user(ctx, "anna"))
    r = await push(app_client, [mention("big-1", followers=10**30), mention("big-2", followers=2**63)])
    assert r.status_code == 202 and r.json()["accepted"] == 2
    items = (await app_client.get("/api/queue", headers=h)).json()["items"]
    assert sorted(i["followers"] for i in items) == [2**31 - 1, 2**31 - 1]


@pytest.mark.parametrize("posted_at", ["0001-01-01T00:00:00+00:00", "0001-01-01T00:00:00+14:00",
                                       "1900-01-01T00:00:00Z", "1999-12-31T23:59:59Z"])
async def test_a_push_posted_before_2000_is_refused_with_the_item_named(app_client, ctx, posted_at):
    h = bearer(await add_user(ctx, "anna"))
    r = await push(app_client, [mention("ok-1"), {**mention("old-1"), "posted_at": posted_at}])
    refused(r)
    assert r.json()["errors"] == [{"index": 1, "field": "posted_at",
                                   "message": "must be between 2000-01-01 and 2099-12-31"}]
    assert (await app_client.get("/api/queue", headers=h)).json()["total"] == 0


async def test_a_push_dated_in_year_9999_is_refused_as_future(app_client):
    r = await push(app_client, [{**mention("late-1"), "posted_at": "9999-12-31T23:59:59-14:00"}])
    refused(r)
    assert r.json()["errors"][0]["field"] == "posted_at"


async def test_the_follow_up_form_refuses_an_impossible_moment_on_the_page(app_client, ctx):
    h = bearer(await add_user(ctx, "anna"))
    mid = await _mention_id(app_client, h)
    r = await app_client.post(f"/mentions/{mid}/follow-up", headers=h, data={"due_at": "9999-12-31T23:59:59-14:00"})
    assert r.status_code == 303 and "error=" not in r.headers["location"]  # the refusal travels as a flash
    page = await app_client.get(r.headers["location"], headers=h)
    assert page.status_code == 200 and "due_at must be between 2000-01-01 and 2099-12-31" in page.text
    assert (await app_client.get("/api/follow-ups", headers=h)).json()["items"] == []


async def test_nul_characters_are_refused_in_queries_forms_and_bodies(app_client, ctx):
    """PostgreSQL can neither store nor compare NUL; the driver would fail the query."""
    h = bearer(await add_user(ctx, "lead", "lead"))
    mid = await _mention_id(app_client, h)
    for path in ("/api/queue?language=n%00l", "/api/reports/sla?channel=%00", "/api/privacy/export?author=a%00"):
        assert "NUL" in refused(await app_client.get(path, headers=h)), path
    assert "NUL" in refused(await app_client.post(f"/api/mentions/{mid}/assign", headers=h,
                                                   json={"username": "anna\u0000"}))
    form = await app_client.post(f"/mentions/{mid}/note", headers=h, data={"text": "a\x00b"})
    assert "NUL" in refused(form)
    # An escaped backslash before "u0000" is six plain characters, not a NUL.
    note = await app_client.post(f"/api/mentions/{mid}/note", headers={**h, "content-type": "application/json"},
                                 content=b'{"text": "C:\\\\u0000"}')
    assert note.status_code == 201, note.text and note.json()["text"] == "C:\\u0000"


async def test_a_push_with_nul_characters_is_cleaned_like_any_channel_post(app_client, ctx):
    h = bearer(await add_user(ctx, "anna"))
    r = await push(app_client, [mention("nul-1", author_name="Nul\x00 Byte", text="Factuur\x00 klopt niet")])
    assert r.status_code == 202, r.text
    item = (await app_client.get("/api/queue", headers=h)).json()["items"][0]
    assert (item["author_name"], item["text"]) == ("Nul Byte", "Factuur klopt niet")


@pytest.mark.parametrize("query", ["since=0001-01-01", "until=9999-12-31", "mention_id=99999999999999999999",
                                   "mention_id=%C2%B2"])
async def test_the_audit_filter_refuses_impossible_dates_and_ids_on_its_page(app_client, ctx, query):
    h = bearer(await add_user(ctx, "root", "admin"))
    r = await app_client.get(f"/admin/audit?{query}", headers={**h, "Accept": "text/html"})
    assert r.status_code == 422 and "Traceback" not in r.text
    assert "2026-10-31" in r.text or "whole number" in r.text
