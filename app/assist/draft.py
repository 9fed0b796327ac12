"""One AI draft: gather the facts, ask the model, tone-check the answer and, with findings,
ask once more with the findings; then the audit entry and the figures. The draft goes to the
composer only: nothing here sends anything.

`draft_events` yields what the composer streams: ("delta", {"text"}) for each piece of text,
("revising", {"findings"}) before the second attempt (its text replaces the first), and
("done", {"text", "findings", "revised"}). A failure raises ModelFailed or ModelTimeout
(both 503)."""
from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import asdict
from typing import Any

from app.accounts.principal import Principal
from app.assist.facts import gather
from app.assist.model import ChatModel, ModelFailed, Usage
from app.assist.prompt import PromptFileError, first_messages, load_knowledge, load_prompt, revision_messages
from app.core.context import AppContext
from app.core.errors import NotFound, Unavailable
from app.craft.tonecheck import Finding
from app.mentions.actions import audit
from app.mentions.compose import is_complaint, reply_limit, signature_for, tone_findings

ATTEMPTS = 2  # the draft and at most one revision

Event = tuple[str, dict[str, Any]]


class _Run:
    """What one draft did, for the audit trail and /metrics."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.usage = Usage()
        self.calls = 0
        self.first_rules: list[str] = []
        self.left_rules: list[str] = []

    def record(self, ctx: AppContext, outcome: str) -> None:
        ctx.assist_stats.record(outcome, seconds=time.monotonic() - self.started, calls=self.calls,
                                revised=self.calls > 1, prompt_tokens=self.usage.prompt_tokens,
                                completion_tokens=self.usage.completion_tokens)

    async def audit(self, ctx: AppContext, who: Principal, mention_id: int, outcome: str) -> None:
        self.record(ctx, outcome)
        async with ctx.db.write() as session:
            audit(session, who.username, "assist_draft", mention_id, ctx.now(), outcome=outcome,
                  model=ctx.config.assist.model, revised=self.calls > 1, findings_first=self.first_rules,
                  findings_left=self.left_rules, prompt_tokens=self.usage.prompt_tokens,
                  completion_tokens=self.usage.completion_tokens,
                  milliseconds=round((time.monotonic() - self.started) * 1000))


async def _whole(model: ChatModel, messages: list[dict[str, str]], usage: Usage) -> AsyncIterator[str]:
    yield await model.complete(messages, usage)


def _pieces(model: ChatModel, messages: list[dict[str, str]], usage: Usage, stream: bool) -> AsyncIterator[str]:
    """The answer as the server streams it (`stream: true`), or whole as one piece."""
    return model.stream(messages, usage) if stream else _whole(model, messages, usage)


def _findings(findings: list[Finding]) -> list[dict[str, Any]]:
    return [asdict(f) for f in findings]


async def draft_events(ctx: AppContext, mention_id: int, who: Principal, tone: str | None, *,
                       stream: bool) -> AsyncIterator[Event]:
    assist = ctx.config.assist
    if not assist.enabled:
        raise NotFound("AI drafts are switched off (no [assist] base_url in the config)")
    tone = tone or ctx.config.replies.default_tone
    async with ctx.db.read() as session:
        facts = await gather(session, mention_id, tone=tone, brand=ctx.config.brand.name,
                             signature=signature_for(ctx, who), limit_for=lambda channel: reply_limit(channel)[0])
    try:
        prompt = load_prompt(assist.prompt_file)
        messages = first_messages(prompt, facts, load_knowledge(assist.knowledge_file))
    except (PromptFileError, OSError) as exc:
        raise Unavailable(f"the AI draft's prompt or knowledge file cannot be used: {exc}") from None
    model = ChatModel(ctx.model_http(), assist.base_url, assist.model, ctx.secret(assist.api_key_env))
    run = _Run()
    try:
        for attempt in range(1, ATTEMPTS + 1):
            run.calls += 1
            text = ""
            async for piece in _pieces(model, messages, run.usage, stream):
                text += piece
                yield "delta", {"text": piece}
            text = text.strip()
            if not text:
                raise ModelFailed("unreadable", "the model server answered without any text")
            findings = tone_findings(text, facts.language, facts.channel, complaint=is_complaint(facts.category))
            run.left_rules = [f.rule for f in findings]
            if attempt == 1:
                run.first_rules = run.left_rules
            if not findings or attempt == ATTEMPTS:
                break
            yield "revising", {"findings": _findings(findings)}
            messages = messages + revision_messages(prompt, text, findings)
    except ModelFailed as exc:
        await run.audit(ctx, who, mention_id, exc.reason)
        raise
    except (asyncio.CancelledError, GeneratorExit):  # the composer went away mid-draft
        run.record(ctx, "abandoned")
        raise
    await run.audit(ctx, who, mention_id, "ok")
    yield "done", {"text": text, "findings": _findings(findings), "revised": run.calls > 1}


async def draft(ctx: AppContext, mention_id: int, who: Principal, tone: str | None) -> dict[str, Any]:
    """The whole draft at once (`stream: false` to the model)."""
    async for kind, data in draft_events(ctx, mention_id, who, tone, stream=False):
        if kind == "done":
            return data
    raise AssertionError("a draft ends with done or an error")  # pragma: no cover
