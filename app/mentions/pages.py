"""HTML pages: the live queue, a mention, the form actions on them, and the fragments the page refreshes."""
from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.responses import RedirectResponse

from app.core.bounds import RowId, as_row_id
from app.core.errors import DomainError
from app.mentions import actions, compose
from app.mentions.dashboard import dashboard_view
from app.mentions.followups import local_moment
from app.mentions.queries import QueueFilters
from app.mentions.send import send_reply
from app.web.deps import Ctx, PageUser
from app.web.rendering import render, safe_next

router = APIRouter()


def _filters(channel: str | None = None, sla_state: str | None = None, category: str | None = None,
             language: str | None = None, q: Annotated[str | None, Query(max_length=200)] = None) -> QueueFilters:
    """The dashboard's filters from the query string (empty form fields mean "any")."""
    return QueueFilters(channel=channel or None, sla_state=sla_state or None, category=category or None,
                        language=language or None, q=(q or "").strip() or None)


PageFilters = Annotated[QueueFilters, Depends(_filters)]


@router.get("/")
async def dashboard(request: Request, ctx: Ctx, user: PageUser, filters: PageFilters):
    return render(request, "dashboard.html", **await dashboard_view(ctx, filters))


@router.get("/partials/queue")
async def queue_partial(request: Request, ctx: Ctx, user: PageUser, filters: PageFilters):
    return render(request, "partials/queue.html", **await dashboard_view(ctx, filters))


@router.get("/mentions/{mention_id}")
async def mention_page(request: Request, mention_id: RowId, ctx: Ctx, user: PageUser, error: str | None = None,
                       tone: str | None = None):
    return render(request, "mention.html", error=error, **await compose.mention_page(ctx, mention_id, user, tone))


def _back_with(mention_id: int, exc: DomainError) -> Response:
    """A refused form action: back to the mention, which shows why."""
    return RedirectResponse(f"/mentions/{mention_id}?error={quote(exc.message)}", status_code=303)


async def _form_action(ctx, mention_id: int, action, *args, back: str, **kwargs) -> Response:
    try:
        async with ctx.db.write() as session:
            await action(session, mention_id, *args, **kwargs)
    except DomainError as exc:
        return _back_with(mention_id, exc)
    return RedirectResponse(back, status_code=303)


@router.post("/mentions/{mention_id}/claim")
async def claim_form(mention_id: RowId, ctx: Ctx, user: PageUser):
    return await _form_action(ctx, mention_id, actions.claim, user, ctx.now(),
                              ctx.config.replies.claim_idle_minutes, back=f"/mentions/{mention_id}")


@router.post("/mentions/{mention_id}/release")
async def release_form(mention_id: RowId, ctx: Ctx, user: PageUser):
    return await _form_action(ctx, mention_id, actions.release, user, ctx.now(), back="/")


@router.post("/mentions/{mention_id}/dismiss")
async def dismiss_form(mention_id: RowId, ctx: Ctx, user: PageUser, reason: Annotated[str, Form()]):
    return await _form_action(ctx, mention_id, actions.dismiss, user, ctx.now(), reason, back="/")


@router.post("/mentions/{mention_id}/reply")
async def reply_form(mention_id: RowId, ctx: Ctx, user: PageUser, text: Annotated[str, Form()],
                     elsewhere_url: Annotated[str, Form()] = "", post: Annotated[str, Form()] = ""):
    try:
        await send_reply(ctx, ctx.http(), mention_id, user, text, post=post == "1",
                         elsewhere_url=elsewhere_url or None)
    except DomainError as exc:
        return _back_with(mention_id, exc)
    return RedirectResponse("/", status_code=303)


@router.post("/mentions/{mention_id}/note")
async def note_form(mention_id: RowId, ctx: Ctx, user: PageUser, text: Annotated[str, Form()]):
    return await _form_action(ctx, mention_id, actions.add_note, user, ctx.now(), text,
                              back=f"/mentions/{mention_id}")


@router.post("/mentions/{mention_id}/assign")
async def assign_form(mention_id: RowId, ctx: Ctx, user: PageUser, username: Annotated[str, Form()]):
    return await _form_action(ctx, mention_id, actions.assign, user, ctx.now(),
                              ctx.config.replies.claim_idle_minutes, username, back=f"/mentions/{mention_id}")


@router.post("/mentions/{mention_id}/follow-up")
async def follow_up_form(mention_id: RowId, ctx: Ctx, user: PageUser, due_at: Annotated[str, Form()],
                         note: Annotated[str, Form()] = ""):
    try:
        due = local_moment(due_at, ctx.config.sla.timezone)
    except DomainError as exc:
        return _back_with(mention_id, exc)
    return await _form_action(ctx, mention_id, actions.promise_follow_up, user, ctx.now(), due, note or None,
                              back=f"/mentions/{mention_id}")


@router.post("/follow-ups/{follow_up_id}/done")
async def follow_up_done_form(follow_up_id: RowId, ctx: Ctx, user: PageUser, back: Annotated[str, Form()] = "/"):
    try:
        async with ctx.db.write() as session:
            await actions.complete_follow_up(session, follow_up_id, user, ctx.now())
    except DomainError:
        pass  # already done by someone else: the page shows the current state
    return RedirectResponse(safe_next(back), status_code=303)


@router.post("/dismiss")
async def bulk_dismiss_form(request: Request, ctx: Ctx, user: PageUser, reason: Annotated[str, Form()]):
    ids = [i for raw in (await request.form()).getlist("ids") if (i := as_row_id(str(raw))) is not None]
    # Refusals (held by someone else, already handled) need no page: the live queue shows them.
    await actions.dismiss_each(ctx.db, ids, user, ctx.now(), reason)
    return RedirectResponse("/", status_code=303)
