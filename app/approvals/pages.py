"""The approval queue in the browser (leads): the live list with each mention's SLA countdown,
edit and approve, return with a note."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse

from app.accounts.principal import Principal
from app.approvals import service
from app.approvals.queries import approval_view, waiting
from app.core.bounds import RowId
from app.core.errors import DomainError
from app.core.i18n import N_
from app.web.deps import Ctx, role
from app.web.flash import Flash, set_flash
from app.web.rendering import render

router = APIRouter()
LeadPage = Annotated[Principal, Depends(role("lead", page=True))]


async def _shown(ctx) -> dict[str, Any]:
    now = ctx.now()
    async with ctx.db.read() as session:
        rows = await waiting(session)
    return {"approvals": [approval_view(a, m, now, ctx.policy) for a, m in rows], "now": now}


@router.get("/approvals")
async def approvals_page(request: Request, ctx: Ctx, user: LeadPage):
    return render(request, "approvals.html", **await _shown(ctx))


@router.get("/partials/approvals")
async def approvals_partial(request: Request, ctx: Ctx, user: LeadPage):
    return render(request, "partials/approvals.html", **await _shown(ctx))


def _back(request: Request, flash: Flash):
    return set_flash(request, RedirectResponse("/approvals", status_code=303), flash)


@router.post("/approvals/{approval_id}/approve")
async def approve_form(request: Request, approval_id: RowId, ctx: Ctx, user: LeadPage,
                       text: Annotated[str, Form()] = ""):
    try:
        done = await service.approve(ctx, ctx.http(), approval_id, user, text if text.strip() else None)
    except DomainError as exc:
        return _back(request, Flash("error", exc.message))
    sent = (N_("Approved: the reply is posted in the channel.") if done.sent.reply.state == "posted"
            else N_("Approved: the reply is recorded."))
    return _back(request, Flash("ok", sent))


@router.post("/approvals/{approval_id}/return")
async def return_form(request: Request, approval_id: RowId, ctx: Ctx, user: LeadPage,
                      note: Annotated[str, Form()] = ""):
    try:
        approval = await service.return_reply(ctx, approval_id, user, note)
    except DomainError as exc:
        return _back(request, Flash("error", exc.message))
    return _back(request, Flash("ok", N_("Returned to %(name)s with your note."), {"name": approval.author}))
