"""JSON API for the queue and the actions on a mention: parse, authorise, call one service."""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from app.approvals.schemas import AwaitingApproval
from app.approvals.service import needs_approval, request_approval
from app.core.bounds import Count, RowId
from app.mentions import actions, identities
from app.mentions.detail import mention_detail
from app.mentions.followups import follow_up_view, list_follow_ups
from app.mentions.queries import QueueFilters, list_queue
from app.mentions.schemas import (
    AssignIn,
    BulkDismissIn,
    BulkDismissOut,
    BulkUndoIn,
    BulkUndoOut,
    DismissIn,
    FollowUpIn,
    FollowUpOut,
    FollowUpsOut,
    IdentitiesOut,
    IdentityIn,
    MentionOut,
    MentionState,
    NoteIn,
    NoteOut,
    QueueOut,
    ReplyIn,
    ReplyOut,
)
from app.mentions.send import send_reply
from app.web.deps import ApiUser, Ctx, Lead
from app.web.schemas import errors, json_once

router = APIRouter(prefix="/api", tags=["mentions"])
CHANGE_ERRORS = errors(404, 409, 422)


@router.get("/queue", response_model=QueueOut, responses=errors())
async def queue(ctx: Ctx, user: ApiUser,
                limit: Annotated[int, Query(ge=1, le=500)] = 50,
                offset: Count = 0,
                channel: str | None = None, source: str | None = None,
                sla_state: Literal["ok", "warning", "breached"] | None = None,
                language: str | None = None, category: str | None = None, claimed: bool | None = None,
                q: Annotated[str | None, Query(max_length=200)] = None,
                team: Annotated[str | None, Query(max_length=63)] = None):
    """The waiting mentions, most urgent first (`team`: routed to that team)."""
    filters = QueueFilters(channel=channel, sla_state=sla_state, language=language, category=category,
                           claimed=claimed, source=source, q=q, team=team)
    async with ctx.db.quick_read() as session:
        queue_page = await list_queue(session, filters, ctx.now(), ctx.policy, limit=limit, offset=offset)
    return json_once(QueueOut, queue_page)


@router.get("/mentions/{mention_id}", response_model=MentionOut, responses=errors(404))
async def get_mention(mention_id: RowId, ctx: Ctx, user: ApiUser):
    """One mention with its conversation, replies, notes and follow-up promises."""
    async with ctx.db.read() as session:
        return await mention_detail(session, mention_id, ctx.now(), ctx.policy)


async def _run(ctx, action, *args, **kwargs):
    async with ctx.db.write() as session:
        return await action(session, *args, **kwargs)


def _state(m) -> dict:
    return {"id": m.id, "status": m.status, "claimed_by": m.claimed_by,
            "claim_expires_at": m.claim_expires_at and m.claim_expires_at.isoformat()}


@router.post("/mentions/{mention_id}/claim", response_model=MentionState, responses=CHANGE_ERRORS)
async def claim(mention_id: RowId, ctx: Ctx, user: ApiUser):
    """Take a mention (409 when someone else holds it)."""
    m = await _run(ctx, actions.claim, mention_id, user, ctx.now(), ctx.config.replies.claim_idle_minutes)
    return _state(m)


@router.post("/mentions/{mention_id}/release", response_model=MentionState, responses=CHANGE_ERRORS)
async def release(mention_id: RowId, ctx: Ctx, user: ApiUser):
    """Give a claimed mention back to the queue (a lead may release anyone's)."""
    return _state(await _run(ctx, actions.release, mention_id, user, ctx.now()))


@router.post("/mentions/{mention_id}/dismiss", response_model=MentionState, responses=CHANGE_ERRORS)
async def dismiss(mention_id: RowId, body: DismissIn, ctx: Ctx, user: ApiUser):
    """Close a mention without a reply, with a reason."""
    return _state(await _run(ctx, actions.dismiss, mention_id, user, ctx.now(), body.reason))


@router.post("/mentions/dismiss", response_model=BulkDismissOut, responses=errors(422))
async def dismiss_many(body: BulkDismissIn, ctx: Ctx, user: ApiUser):
    """Bulk dismiss: each mention on its own (one refusal does not undo the others)."""
    return await actions.dismiss_each(ctx.db, body.ids, user, ctx.now(), body.reason)


@router.post("/mentions/{mention_id}/undo-dismiss", response_model=MentionState, responses=CHANGE_ERRORS)
async def undo_dismiss(mention_id: RowId, ctx: Ctx, user: ApiUser):
    """Take back your own dismissal within 30 seconds: the mention is open again (409 after that)."""
    return _state(await _run(ctx, actions.undo_dismiss, mention_id, user, ctx.now()))


@router.post("/mentions/undo-dismiss", response_model=BulkUndoOut, responses=errors(422))
async def undo_dismiss_many(body: BulkUndoIn, ctx: Ctx, user: ApiUser):
    """Take back a bulk dismiss: each mention on its own, within 30 seconds."""
    return await actions.undo_each(ctx.db, body.ids, user, ctx.now())


@router.post("/mentions/{mention_id}/reply", response_model=ReplyOut,
             responses={202: {"model": AwaitingApproval, "description": "the reply waits for a lead's approval"},
                        **errors(404, 409, 422, 502)})
async def reply(mention_id: RowId, body: ReplyIn, ctx: Ctx, user: ApiUser):
    """Answer: post into the channel (`post`: true, where it can) or record a reply made elsewhere.
    When the user's replies need approval, it waits for a lead instead (202)."""
    if needs_approval(user):
        approval = await request_approval(ctx, mention_id, user, body.text, post=body.post,
                                          elsewhere_url=body.elsewhere_url)
        return JSONResponse(AwaitingApproval(status="awaiting_approval", approval_id=approval.id).model_dump(),
                            status_code=202)
    result = await send_reply(ctx, ctx.http(), mention_id, user, body.text, post=body.post,
                              elsewhere_url=body.elsewhere_url)
    r = result.reply
    posted = {"id": r.remote_id, "url": r.remote_url} if r.remote_id else None
    return {"status": result.status, "first_response_seconds": result.first_response_seconds,
            "within_target": result.within_target, "posted": posted, "reply_id": r.id, "reply_state": r.state}


@router.post("/mentions/{mention_id}/assign", response_model=MentionState, responses=CHANGE_ERRORS)
async def assign(mention_id: RowId, body: AssignIn, ctx: Ctx, user: Lead):
    """Hand a mention to a person (leads)."""
    return _state(await _run(ctx, actions.assign, mention_id, user, ctx.now(),
                             ctx.config.replies.claim_idle_minutes, body.username))


@router.post("/mentions/{mention_id}/note", status_code=201, response_model=NoteOut, responses=errors(404, 422))
async def note(mention_id: RowId, body: NoteIn, ctx: Ctx, user: ApiUser):
    """An internal note on a mention."""
    created = await _run(ctx, actions.add_note, mention_id, user, ctx.now(), body.text)
    return {"id": created.id, "mention_id": mention_id, "author": created.author, "text": created.text,
            "created_at": created.created_at.isoformat()}


@router.post("/mentions/{mention_id}/follow-up", status_code=201, response_model=FollowUpOut,
             responses=errors(404, 422))
async def follow_up(mention_id: RowId, body: FollowUpIn, ctx: Ctx, user: ApiUser):
    """Promise the customer a moment; `follow_up_due` fires 10 minutes before it."""
    created = await _run(ctx, actions.promise_follow_up, mention_id, user, ctx.now(), body.due_at, body.note)
    return follow_up_view(created, ctx.now())


@router.get("/follow-ups", response_model=FollowUpsOut, responses=errors())
async def follow_ups(ctx: Ctx, user: ApiUser, state: Literal["pending", "kept", "missed"] = "pending",
                     limit: Annotated[int, Query(ge=1, le=500)] = 100):
    """Follow-up promises in one state, soonest first."""
    async with ctx.db.read() as session:
        items = await list_follow_ups(session, state, limit)
    return {"items": [follow_up_view(f, ctx.now()) for f in items]}


@router.post("/follow-ups/{follow_up_id}/done", response_model=FollowUpOut, responses=errors(404, 409))
async def follow_up_done(follow_up_id: RowId, ctx: Ctx, user: ApiUser):
    """Mark a promise done: kept before its moment, missed after it."""
    return follow_up_view(await _run(ctx, actions.complete_follow_up, follow_up_id, user, ctx.now()), ctx.now())


@router.post("/mentions/{mention_id}/identities", response_model=IdentitiesOut, responses=CHANGE_ERRORS)
async def link_identity(mention_id: RowId, body: IdentityIn, ctx: Ctx, user: Lead):
    """Leads: the mention's author is the same person as `author` on `channel` (their earlier
    mentions there then show in the customer panel). Audited; erasure removes it."""
    async with ctx.db.write() as session:
        rows = await identities.link(session, mention_id, user, ctx.now(), body.channel, body.author)
        return {"identities": [identities.view(r) for r in rows]}


@router.delete("/identities/{link_id}", response_model=IdentitiesOut, responses=errors(404))
async def unlink_identity(link_id: RowId, ctx: Ctx, user: Lead):
    """Leads: this handle is not the same person as the others linked to it."""
    async with ctx.db.write() as session:
        await identities.unlink(session, link_id, user, ctx.now(), None)
        return {"identities": []}
