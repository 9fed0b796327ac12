"""Reply drafts on the server: one per responder and mention, kept through a refused send,
shown again on the mention page, cleared when the reply is sent."""
from __future__ import annotations

import pytest

from tests.support.app import add_user, bearer
from tests.support.push import mention, push

pytestmark = pytest.mark.asyncio


async def _only_mention(app_client, h) -> int:
    [item] = (await app_client.get("/api/queue", headers=h)).json()["items"]
    return item["id"]


async def test_a_draft_is_per_responder_and_goes_when_emptied(app_client, ctx):
    await push(app_client, [mention("d1", 10)])
    anna, bob = bearer(await add_user(ctx, "anna")), bearer(await add_user(ctx, "bob"))
    mid = await _only_mention(app_client, anna)
    empty = await app_client.get(f"/api/mentions/{mid}/reply-draft", headers=anna)
    assert empty.json() == {"text": "", "tone": None, "updated_at": None}
    saved = await app_client.put(f"/api/mentions/{mid}/reply-draft", headers=anna,
                                 json={"text": "Hallo, wat vervelend <b>echt</b>", "tone": "informal"})
    assert saved.status_code == 200 and saved.json()["text"] == "Hallo, wat vervelend <b>echt</b>"
    assert saved.json()["tone"] == "informal" and saved.json()["updated_at"]
    again = await app_client.put(f"/api/mentions/{mid}/reply-draft", headers=anna, json={"text": "Hallo!"})
    assert again.json()["tone"] == "informal"  # a save without a tone keeps the draft's
    assert (await app_client.get(f"/api/mentions/{mid}/reply-draft", headers=bob)).json()["text"] == ""
    page = await app_client.get(f"/mentions/{mid}", headers=anna)
    assert ">Hallo!</textarea>" in page.text and 'data-tone="informal"' in page.text
    assert ">Hallo!</textarea>" not in (await app_client.get(f"/mentions/{mid}", headers=bob)).text
    await app_client.put(f"/api/mentions/{mid}/reply-draft", headers=anna, json={"text": "  "})
    assert (await app_client.get(f"/api/mentions/{mid}/reply-draft", headers=anna)).json()["text"] == ""
    bad = await app_client.put(f"/api/mentions/{mid}/reply-draft", headers=anna, json={"text": "x", "tone": "rude"})
    assert bad.status_code == 422
    assert (await app_client.put("/api/mentions/999999/reply-draft", headers=anna,
                                 json={"text": "x"})).status_code == 404


async def test_a_refused_send_keeps_the_text_and_a_sent_reply_clears_it(app_client, ctx):
    await push(app_client, [mention("d2", 10)])
    anna, bob = bearer(await add_user(ctx, "anna")), bearer(await add_user(ctx, "bob"))
    mid = await _only_mention(app_client, anna)
    await app_client.post(f"/api/mentions/{mid}/claim", headers=anna)
    text = "Wat vervelend, sorry! Ik zoek het voor je uit."
    refused = await app_client.post(f"/mentions/{mid}/reply", headers=bob, data={"text": text},
                                    follow_redirects=False)
    assert refused.status_code == 303
    assert (await app_client.get(f"/api/mentions/{mid}/reply-draft", headers=bob)).json()["text"] == text
    page = await app_client.get(f"/mentions/{mid}", headers=bob)
    assert f">{text}</textarea>" in page.text and "anna is handling this mention" in page.text
    await app_client.post(f"/api/mentions/{mid}/release", headers=anna)
    await app_client.put(f"/api/mentions/{mid}/reply-draft", headers=anna, json={"text": "anna's own"})
    sent = await app_client.post(f"/mentions/{mid}/reply", headers=bob, data={"text": text}, follow_redirects=False)
    assert sent.status_code == 303 and sent.headers["location"] == "/"
    assert (await app_client.get(f"/api/mentions/{mid}/reply-draft", headers=bob)).json()["text"] == ""
    # Only the sender's draft has done its job.
    assert (await app_client.get(f"/api/mentions/{mid}/reply-draft", headers=anna)).json()["text"] == "anna's own"
