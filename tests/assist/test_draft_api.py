"""AI drafts over HTTP against a fake OpenAI-compatible server: what the prompt holds (and
what it must not), streamed and whole answers, the one revision after the tone check, and every
way the model server can fail."""
from __future__ import annotations

import json
import os

import pytest
import pytest_asyncio
from sqlalchemy import select

from app.core.models import AuditEntry
from app.craft.tonecheck import check_reply
from tests.support.app import add_user, bearer
from tests.support.assist import BAD, GOOD, KNOWLEDGE
from tests.support.fake_openai import Outage
from tests.support.push import mention, push

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def seeded(app_client, ctx):
    """Sanne's two posts in one thread, a stranger's post in that thread, and another customer."""
    await push(app_client, [
        mention("sanne-1", 30, author="sanne", author_name="Sanne Visser",
                text="Mijn pakket is al een week onderweg, waar blijft het?"),
        mention("piet-1", 25, author="piet", author_name="Piet Geheim",
                text="Ik heb hetzelfde probleem, PIET-GEHEIM-7781", in_reply_to="sanne-1"),
        mention("sanne-2", 20, author="sanne", author_name="Sanne Visser", in_reply_to="sanne-1",
                text="Nog steeds niks. Track en trace zegt al dagen 'onderweg'."),
        mention("kees-1", 10, author="kees", author_name="Kees Anders",
                text="Mijn factuur klopt niet, KEES-REKENING-4412"),
    ])
    token = bearer(await add_user(ctx, "anna", role="lead"))
    items = {i["external_id"]: i for i in (await app_client.get("/api/queue", headers=token)).json()["items"]}
    saved = await app_client.post("/api/openers", headers=token, json={
        "kind": "saved_reply", "language": "nl", "tone": "formal", "category": None,
        "title": "Pakket", "text": "Wat vervelend dat uw pakket vertraagd is. Ik kijk het vandaag voor u na."})
    assert saved.status_code == 201, saved.text
    return token, items


def sse_events(body: str) -> list[tuple[str, dict]]:
    events = []
    for block in body.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((fields["event"], json.loads(fields["data"])))
    return events


async def test_streamed_draft_is_built_from_the_post_and_thread_only(app_client, ctx, fake_model, seeded):
    token, items = seeded
    ours = "Wat vervelend! Ik kijk het voor u na en laat het u vóór 17:00 weten. ^A"
    answered = await app_client.post(f"/api/mentions/{items['sanne-1']['id']}/reply", headers=token,
                                     json={"text": ours})
    assert answered.status_code == 200, answered.text
    fake_model.answers = [GOOD]
    r = await app_client.post(f"/api/mentions/{items['sanne-2']['id']}/draft/stream", headers=token, json={})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    events = sse_events(r.text)
    deltas = [data["text"] for kind, data in events if kind == "delta"]
    assert len(deltas) > 5 and "".join(deltas) == GOOD          # piece by piece, as the model wrote it
    assert events[-1] == ("done", {"text": GOOD, "findings": [], "revised": False})

    sent = fake_model.requests[0]
    assert sent["stream"] is True and sent["stream_options"] == {"include_usage": True}
    assert sent["model"] == "test-model"
    prompt = fake_model.prompt_text()
    assert "Track en trace zegt al dagen 'onderweg'." in prompt            # the post
    thread = prompt.index("[customer] Mijn pakket is al een week onderweg")  # its thread, oldest first
    assert thread < prompt.index(f"[us] {ours}") < prompt.index("Track en trace")
    assert KNOWLEDGE in prompt and "Ik kijk het vandaag voor u na." in prompt   # facts, saved reply
    assert "Dutch" in prompt and '"u"' in prompt and "Sanne" in prompt and "^A" in prompt
    for other in ("PIET-GEHEIM-7781", "Piet", "piet", "KEES-REKENING-4412", "Kees", "kees"):
        assert other not in prompt                                          # no other customer's data


async def test_whole_draft_is_audited_and_counted(app_client, ctx, fake_model, seeded):
    token, items = seeded
    fake_model.answers = [GOOD]
    r = await app_client.post(f"/api/mentions/{items['sanne-2']['id']}/draft", headers=token,
                              json={"tone": "informal"})
    assert r.status_code == 200, r.text
    assert r.json() == {"text": GOOD, "findings": [], "revised": False}
    assert fake_model.requests[0]["stream"] is False
    assert '"je"' in fake_model.prompt_text()

    async with ctx.db.read() as session:
        entry = (await session.exec(select(AuditEntry).where(AuditEntry.action == "assist_draft"))).scalars().one()
    assert (entry.actor, entry.mention_id) == ("anna", items["sanne-2"]["id"])
    assert entry.detail["outcome"] == "ok" and entry.detail["prompt_tokens"] > 50
    assert GOOD not in json.dumps(entry.detail)          # the trail says what happened, not the text
    metrics = (await app_client.get("/metrics", headers=token)).text
    assert 'webcare_assist_drafts_total{outcome="ok"} 1' in metrics
    assert f'webcare_assist_tokens_total{{kind="completion"}} {len(GOOD.split())}' in metrics
    assert "webcare_assist_draft_seconds_count 1" in metrics


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
async def test_a_draft_with_an_anti_pattern_is_revised_with_the_findings(app_client, ctx, fake_model, seeded, stream):
    token, items = seeded
    assert {"first_to_complain", "vague_promise", "no_empathy"} <= {f.rule for f in check_reply(BAD, "nl")}
    fake_model.answers = [BAD, GOOD]
    path = f"/api/mentions/{items['sanne-2']['id']}/draft" + ("/stream" if stream else "")
    r = await app_client.post(path, headers=token, json={})
    assert r.status_code == 200, r.text
    result = sse_events(r.text)[-1][1] if stream else r.json()
    assert result == {"text": GOOD, "findings": [], "revised": True}
    if stream:
        kinds = [kind for kind, _ in sse_events(r.text)]
        assert kinds.index("revising") < len(kinds) - 1 and kinds.count("revising") == 1

    assert len(fake_model.requests) == 2
    second = fake_model.requests[1]["messages"]
    assert second[-2] == {"role": "assistant", "content": BAD}
    asked = second[-1]["content"]
    assert '"U bent de eerste die hierover klaagt."' in asked             # the finding's words, quoted
    first = next(f for f in check_reply(BAD, "nl") if f.rule == "first_to_complain")
    assert first.message in asked and first.suggestion in asked


async def test_what_is_left_after_one_revision_is_shown_with_its_findings(app_client, fake_model, seeded):
    token, items = seeded
    fake_model.answers = [BAD, BAD, GOOD]
    r = await app_client.post(f"/api/mentions/{items['sanne-2']['id']}/draft", headers=token, json={})
    body = r.json()
    assert body["text"] == BAD and body["revised"] is True
    assert {"first_to_complain", "vague_promise"} <= {f["rule"] for f in body["findings"]}
    assert len(fake_model.requests) == 2                       # one revision, never a third try


@pytest.mark.parametrize(("outage", "status", "reason"), [
    (Outage(delay=3), 503, "timeout"),
    (Outage(status=429), 503, "rate_limited"),
    (Outage(status=500), 503, "server_error"),
], ids=["timeout", "429", "500"])
@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
async def test_a_failing_model_server_is_a_clear_json_error(app_client, ctx, fake_model, seeded, outage, status,
                                                           reason, stream):
    token, items = seeded
    ctx.config = ctx.config.model_copy(update={"assist": ctx.config.assist.model_copy(
        update={"timeout_seconds": 0.5})})
    fake_model.answers = [outage]
    path = f"/api/mentions/{items['sanne-2']['id']}/draft" + ("/stream" if stream else "")
    r = await app_client.post(path, headers=token, json={})
    assert r.status_code == status and r.headers["content-type"] == "application/json"
    assert r.json()["reason"] == reason and "model server" in r.json()["detail"]
    async with ctx.db.read() as session:
        entry = (await session.exec(select(AuditEntry).where(AuditEntry.action == "assist_draft"))).scalars().one()
    assert entry.detail["outcome"] == reason
    metrics = (await app_client.get("/metrics", headers=token)).text
    assert f'webcare_assist_drafts_total{{outcome="{reason}"}} 1' in metrics
    # the openers do not depend on the model server
    assert (await app_client.get(f"/api/mentions/{items['sanne-2']['id']}/openers", headers=token)).status_code == 200


async def test_a_model_server_that_is_not_there_is_503(app_client, ctx, seeded):
    token, items = seeded
    from tests.support.app import free_port

    ctx.config = ctx.config.model_copy(update={"assist": ctx.config.assist.model_copy(
        update={"base_url": f"http://127.0.0.1:{free_port()}/v1"})})
    r = await app_client.post(f"/api/mentions/{items['sanne-2']['id']}/draft", headers=token, json={})
    assert r.status_code == 503 and r.json()["reason"] == "unreachable"


async def test_drafts_need_login_csrf_a_real_mention_and_assist_switched_on(app_client, ctx, fake_model, seeded):
    token, items = seeded
    path = f"/api/mentions/{items['sanne-2']['id']}/draft"
    assert (await app_client.post(path, json={})).status_code == 401
    assert (await app_client.post("/api/mentions/999/draft", headers=token, json={})).status_code == 404
    assert (await app_client.post(path, headers=token, json={"tone": "rude"})).status_code == 422
    ctx.config = ctx.config.model_copy(update={"assist": ctx.config.assist.model_copy(update={"base_url": None})})
    r = await app_client.post(path, headers=token, json={})
    assert r.status_code == 404 and "switched off" in r.json()["detail"]
    assert fake_model.requests == []


async def test_a_leads_prompt_file_and_the_api_key_are_used(app_client, ctx, fake_model, seeded, tmp_path,
                                                            monkeypatch):
    token, items = seeded
    prompt = tmp_path / "our-prompt.toml"
    prompt.write_text('system = "Schrijf als {{ brand }}, in het {{ language_name }}."\n'
                      'user = "Bericht: {{ post }}"\nrevise = "Verbeter: {{ findings | length }}"\n', encoding="utf-8")
    monkeypatch.setenv("WEBCARE_TEST_ASSIST_KEY", "sk-test-assist-0123456789")
    ctx.config = ctx.config.model_copy(update={"assist": ctx.config.assist.model_copy(
        update={"prompt_file": prompt, "api_key_env": "WEBCARE_TEST_ASSIST_KEY"})})
    fake_model.answers = [GOOD, GOOD]
    path = f"/api/mentions/{items['sanne-2']['id']}/draft"
    assert (await app_client.post(path, headers=token, json={})).status_code == 200
    assert fake_model.requests[0]["messages"][0]["content"] == "Schrijf als Acme, in het Dutch."
    assert fake_model.requests[0]["messages"][1]["content"].startswith("Bericht: Nog steeds niks.")
    assert fake_model.headers[0]["authorization"] == "Bearer sk-test-assist-0123456789"

    # a lead's edit counts from the next draft on, without a restart
    prompt.write_text('system = "Kort en vriendelijk."\nuser = "{{ post }}"\nrevise = "Opnieuw."\n', encoding="utf-8")
    stat = prompt.stat()
    os.utime(prompt, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert (await app_client.post(path, headers=token, json={})).status_code == 200
    assert fake_model.requests[1]["messages"][0]["content"] == "Kort en vriendelijk."


async def test_a_failure_after_the_stream_began_is_an_error_event(app_client, ctx, fake_model, seeded):
    token, items = seeded
    fake_model.answers = [BAD, Outage(status=429)]       # the revision is refused
    r = await app_client.post(f"/api/mentions/{items['sanne-2']['id']}/draft/stream", headers=token, json={})
    assert r.status_code == 200
    events = sse_events(r.text)
    assert [kind for kind, _ in events][-2:] == ["revising", "error"]
    assert events[-1][1]["reason"] == "rate_limited" and events[-1][1]["status"] == 503
    async with ctx.db.read() as session:
        entry = (await session.exec(select(AuditEntry).where(AuditEntry.action == "assist_draft"))).scalars().one()
    assert entry.detail["outcome"] == "rate_limited" and "first_to_complain" in entry.detail["findings_first"]


async def test_a_server_that_ignores_stream_still_drafts(app_client, fake_model, seeded):
    token, items = seeded
    fake_model.ignores_stream, fake_model.answers = True, [GOOD]
    r = await app_client.post(f"/api/mentions/{items['sanne-2']['id']}/draft/stream", headers=token, json={})
    assert sse_events(r.text) == [("delta", {"text": GOOD}), ("done", {"text": GOOD, "findings": [], "revised": False})]
