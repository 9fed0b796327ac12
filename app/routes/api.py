"""JSON API for the queue and the actions on a mention."""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field

from app import actions
from app.deps import ApiUser, Ctx
from app.queue import QueueFilters, list_queue, mention_detail

router = APIRouter(prefix="/api")


class ReplyIn(BaseModel):
    text: str = Field(min_length=1, max_length=20_000)
    post: bool = False
    elsewhere_url: str | None = Field(None, max_length=2048)


class DismissIn(BaseModel):
    reason: Literal["spam", "not_relevant", "duplicate", "no_reply_needed", "covered"]


@router.get("/queue")
async def queue(ctx: Ctx, user: ApiUser,
                limit: Annotated[int, Query(ge=1, le=500)] = 50,
                offset: Annotated[int, Query(ge=0)] = 0,
                channel: str | None = None, source: str | None = None,
                sla_state: Literal["ok", "warning", "breached"] | None = None,
                language: str | None = None, category: str | None = None, claimed: bool | None = None):
    filters = QueueFilters(channel=channel, sla_state=sla_state, language=language, category=category,
                           claimed=claimed, source=source)
    async with ctx.db.read() as session:
        return await list_queue(session, filters, ctx.now(), ctx.policy, limit=limit, offset=offset)


@router.get("/mentions/{mention_id}")
async def get_mention(mention_id: int, ctx: Ctx, user: ApiUser):
    async with ctx.db.read() as session:
        view = await mention_detail(session, mention_id, ctx.now(), ctx.policy)
    if view is None:
        raise HTTPException(404, "no such mention")
    return view


async def _run(ctx, action, *args, **kwargs):
    try:
        async with ctx.db.write() as session:
            return await action(session, *args, **kwargs)
    except actions.ActionError as exc:
        raise HTTPException(exc.status, exc.message) from None


def _state(m) -> dict:
    return {"id": m.id, "status": m.status, "claimed_by": m.claimed_by,
            "claim_expires_at": m.claim_expires_at and m.claim_expires_at.isoformat()}


@router.post("/mentions/{mention_id}/claim")
async def claim(mention_id: int, ctx: Ctx, user: ApiUser):
    m = await _run(ctx, actions.claim, mention_id, user, ctx.now(), ctx.config.replies.claim_idle_minutes)
    return _state(m)


@router.post("/mentions/{mention_id}/release")
async def release(mention_id: int, ctx: Ctx, user: ApiUser):
    return _state(await _run(ctx, actions.release, mention_id, user, ctx.now()))


@router.post("/mentions/{mention_id}/dismiss")
async def dismiss(mention_id: int, body: DismissIn, ctx: Ctx, user: ApiUser):
    return _state(await _run(ctx, actions.dismiss, mention_id, user, ctx.now(), body.reason))


@router.post("/mentions/{mention_id}/reply")
async def reply(mention_id: int, body: ReplyIn, ctx: Ctx, user: ApiUser):
    outcome = await _run(ctx, actions.reply, mention_id, user, ctx.now(), ctx.policy, body.text,
                         post=body.post, elsewhere_url=body.elsewhere_url)
    posted = None
    if outcome.reply.remote_id:
        posted = {"id": outcome.reply.remote_id, "url": outcome.reply.remote_url}
    return {"status": outcome.mention.status, "first_response_seconds": outcome.first_response_seconds,
            "within_target": outcome.within_target, "posted": posted, "reply_id": outcome.reply.id,
            "reply_state": outcome.reply.state}
