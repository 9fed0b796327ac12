"""JSON API for the queue and the actions on a mention."""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query
from pydantic import AwareDatetime, BaseModel, Field

from app.mentions import actions
from app.mentions.followups import follow_up_view, list_follow_ups
from app.mentions.queries import QueueFilters, list_queue, mention_detail
from app.mentions.send import send_reply
from app.web.deps import ApiUser, Ctx, Lead

router = APIRouter(prefix="/api")


class ReplyIn(BaseModel):
    text: str = Field(min_length=1, max_length=20_000)
    post: bool = False
    elsewhere_url: str | None = Field(None, max_length=2048)


DismissReason = Literal["spam", "not_relevant", "duplicate", "no_reply_needed", "covered"]


class DismissIn(BaseModel):
    reason: DismissReason


class BulkDismissIn(BaseModel):
    ids: list[int] = Field(min_length=1, max_length=500)
    reason: DismissReason


class AssignIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)


class NoteIn(BaseModel):
    text: str = Field(min_length=1, max_length=5000)


class FollowUpIn(BaseModel):
    due_at: AwareDatetime
    note: str | None = Field(None, max_length=2000)


@router.get("/queue")
async def queue(ctx: Ctx, user: ApiUser,
                limit: Annotated[int, Query(ge=1, le=500)] = 50,
                offset: Annotated[int, Query(ge=0)] = 0,
                channel: str | None = None, source: str | None = None,
                sla_state: Literal["ok", "warning", "breached"] | None = None,
                language: str | None = None, category: str | None = None, claimed: bool | None = None,
                q: Annotated[str | None, Query(max_length=200)] = None):
    filters = QueueFilters(channel=channel, sla_state=sla_state, language=language, category=category,
                           claimed=claimed, source=source, q=q)
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


@router.post("/mentions/dismiss")
async def dismiss_many(body: BulkDismissIn, ctx: Ctx, user: ApiUser):
    """Bulk dismiss: each mention on its own (one refusal does not undo the others)."""
    dismissed, refused = [], []
    for mention_id in body.ids:
        try:
            async with ctx.db.write() as session:
                await actions.dismiss(session, mention_id, user, ctx.now(), body.reason)
            dismissed.append(mention_id)
        except actions.ActionError as exc:
            refused.append({"id": mention_id, "status": exc.status, "detail": exc.message})
    return {"dismissed": dismissed, "refused": refused}


@router.post("/mentions/{mention_id}/reply")
async def reply(mention_id: int, body: ReplyIn, ctx: Ctx, user: ApiUser):
    try:
        result = await send_reply(ctx, ctx.http(), mention_id, user, body.text, post=body.post,
                                  elsewhere_url=body.elsewhere_url)
    except actions.ActionError as exc:
        raise HTTPException(exc.status, exc.message) from None
    r = result.reply
    posted = {"id": r.remote_id, "url": r.remote_url} if r.remote_id else None
    return {"status": result.status, "first_response_seconds": result.first_response_seconds,
            "within_target": result.within_target, "posted": posted, "reply_id": r.id, "reply_state": r.state}


@router.post("/mentions/{mention_id}/assign")
async def assign(mention_id: int, body: AssignIn, ctx: Ctx, user: Lead):
    return _state(await _run(ctx, actions.assign, mention_id, user, ctx.now(),
                             ctx.config.replies.claim_idle_minutes, body.username))


@router.post("/mentions/{mention_id}/note", status_code=201)
async def note(mention_id: int, body: NoteIn, ctx: Ctx, user: ApiUser):
    created = await _run(ctx, actions.add_note, mention_id, user, ctx.now(), body.text)
    return {"id": created.id, "mention_id": mention_id, "author": created.author, "text": created.text,
            "created_at": created.created_at.isoformat()}


@router.post("/mentions/{mention_id}/follow-up", status_code=201)
async def follow_up(mention_id: int, body: FollowUpIn, ctx: Ctx, user: ApiUser):
    created = await _run(ctx, actions.promise_follow_up, mention_id, user, ctx.now(), body.due_at, body.note)
    return follow_up_view(created, ctx.now())


@router.get("/follow-ups")
async def follow_ups(ctx: Ctx, user: ApiUser, state: Literal["pending", "kept", "missed"] = "pending",
                     limit: Annotated[int, Query(ge=1, le=500)] = 100):
    async with ctx.db.read() as session:
        items = await list_follow_ups(session, state, limit)
    return {"items": [follow_up_view(f, ctx.now()) for f in items]}


@router.post("/follow-ups/{follow_up_id}/done")
async def follow_up_done(follow_up_id: int, ctx: Ctx, user: ApiUser):
    return follow_up_view(await _run(ctx, actions.complete_follow_up, follow_up_id, user, ctx.now()), ctx.now())
