"""POST /api/ingest/{source}: Standard Webhooks signatures, replay, validation, limits."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from tests.support.app import add_user, bearer
from tests.support.push import mention, push, signed_headers

pytestmark = pytest.mark.asyncio


async def test_valid_push_is_accepted_and_queued(app_client, ctx):
    r = await push(app_client, [mention("a1", 5), mention("a2", 2)])
    assert r.status_code == 202
    assert r.json() == {"accepted": 2, "duplicates": 0}
    token = await add_user(ctx, "anna")
    q = (await app_client.get("/api/queue", headers=bearer(token))).json()
    assert [i["external_id"] for i in q["items"]] == ["a1", "a2"]
    assert q["items"][0]["source"] == "push" and q["items"][0]["channel"] == "push"


async def test_redelivery_with_a_new_id_counts_duplicates(app_client):
    batch = [mention("d1"), mention("d2")]
    assert (await push(app_client, batch)).json()["accepted"] == 2
    assert (await push(app_client, batch)).json() == {"accepted": 0, "duplicates": 2}


async def test_replayed_webhook_id_gets_the_first_answer(app_client):
    first = await push(app_client, [mention("r1")], msg_id="msg_same")
    again = await push(app_client, [mention("r1"), mention("r2")], msg_id="msg_same")
    assert first.status_code == again.status_code == 202
    assert again.json() == first.json() == {"accepted": 1, "duplicates": 0}


async def test_wrong_secret_is_401(app_client):
    import base64

    other = "whsec_" + base64.b64encode(b"another-secret-of-thirty-two-byt").decode()
    r = await push(app_client, [mention("w1")], secret=other)
    assert r.status_code == 401 and "signature" in r.json()["detail"]


async def test_stale_timestamp_is_401(app_client):
    r = await push(app_client, [mention("s1")], timestamp=datetime.now(UTC) - timedelta(minutes=6))
    assert r.status_code == 401


async def test_unsigned_push_is_401(app_client):
    r = await app_client.post("/api/ingest/push", json={"mentions": [mention("u1")]})
    assert r.status_code == 401


async def test_unknown_source_is_404(app_client):
    r = await push(app_client, [mention("x1")], source="nope")
    assert r.status_code == 404


async def test_one_invalid_item_rejects_the_batch_listing_each_error(app_client, ctx):
    bad = [mention("ok1"), {"external_id": "", "posted_at": "yesterday", "author": "x", "text": "t"},
           {"external_id": "n1", "posted_at": "2026-01-01T10:00:00", "author": "x", "text": "naive time"},
           {"external_id": "n2", "posted_at": "2026-01-01T10:00:00Z", "author": "x"}]
    r = await push(app_client, bad)
    assert r.status_code == 422
    errors = r.json()["errors"]
    assert {(e["index"], e["field"]) for e in errors} >= {(1, "external_id"), (1, "posted_at"), (2, "posted_at")}
    assert any(e["index"] == 3 and "text" in e["message"] for e in errors)
    token = await add_user(ctx, "bea")
    assert (await app_client.get("/api/queue", headers=bearer(token))).json()["total"] == 0


async def test_body_over_one_mib_is_413(app_client):
    body = json.dumps({"mentions": [mention("big", text="x" * (1024 * 1024))]}).encode()
    r = await app_client.post("/api/ingest/push", content=body, headers=signed_headers(body))
    assert r.status_code == 413


async def test_more_than_500_mentions_is_413(app_client):
    r = await push(app_client, [mention(f"m{i}", text="kort") for i in range(501)])
    assert r.status_code == 413 and "500" in r.json()["detail"]


async def test_not_json_is_422(app_client):
    body = b"{not json"
    r = await app_client.post("/api/ingest/push", content=body, headers=signed_headers(body))
    assert r.status_code == 422


async def test_html_and_scripts_become_plain_text(app_client, ctx):
    r = await push(app_client, [{"external_id": "h1", "posted_at": mention("x")["posted_at"], "author": "a",
                                 "html": "<p>Hallo <b>daar</b></p><script>alert(1)</script>"
                                         "<img src=x onerror=alert(2)>",
                                 "url": "javascript:alert(3)"}])
    assert r.status_code == 202
    token = await add_user(ctx, "cor")
    item = (await app_client.get("/api/queue", headers=bearer(token))).json()["items"][0]
    assert item["text"] == "Hallo daar"
    assert item["url"] is None
