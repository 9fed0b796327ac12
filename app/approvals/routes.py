"""JSON API of the approval queue (leads): list, approve (as is or edited), return with a note."""
from __future__ import annotations

from fastapi import APIRouter

from app.approvals import service
from app.approvals.queries import approval_view, waiting
from app.approvals.records import brief
from app.approvals.schemas import ApprovalBrief, ApprovalsOut, ApprovedOut, ApproveIn, ReturnIn
from app.core.bounds import RowId
from app.web.deps import Ctx, Lead
from app.web.schemas import errors, json_once

router = APIRouter(prefix="/api", tags=["approvals"])


@router.get("/approvals", response_model=ApprovalsOut, responses=errors())
async def approvals(ctx: Ctx, user: Lead):
    """Replies waiting for a lead, the mention with the least SLA time left first."""
    now = ctx.now()
    async with ctx.db.read() as session:
        rows = await waiting(session)
    return json_once(ApprovalsOut, {"items": [approval_view(a, m, now, ctx.policy) for a, m in rows]})


@router.post("/approvals/{approval_id}/approve", response_model=ApprovedOut,
             responses=errors(404, 409, 422, 502))
async def approve(approval_id: RowId, body: ApproveIn, ctx: Ctx, user: Lead):
    """Send the reply in its author's name, as proposed or with `text` as edited (409 when
    another lead decided first; not by its own author)."""
    done = await service.approve(ctx, ctx.http(), approval_id, user, body.text)
    r = done.sent.reply
    return {"status": "answered", "approval_id": approval_id,
            "first_response_seconds": done.sent.first_response_seconds, "within_target": done.sent.within_target,
            "posted": {"id": r.remote_id, "url": r.remote_url} if r.remote_id else None,
            "reply_id": r.id, "reply_state": r.state}


@router.post("/approvals/{approval_id}/return", response_model=ApprovalBrief, responses=errors(404, 409, 422))
async def return_reply(approval_id: RowId, body: ReturnIn, ctx: Ctx, user: Lead):
    """Send the reply back to its author with a note; their draft holds the text again."""
    return brief(await service.return_reply(ctx, approval_id, user, body.note))
