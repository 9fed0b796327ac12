"""HTML pages: the live queue, a mention, the form actions on them, and the fragments the page refreshes."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.responses import RedirectResponse

from app.accounts.principal import Principal
from app.approvals.service import needs_approval, request_approval
from app.core.bounds import RowId, as_row_id
from app.core.errors import DomainError
from app.core.i18n import N_
from app.mentions import actions, compose, drafts, identities
from app.mentions.dashboard import ROWS_PER_UPDATE, URGENT, dashboard_view, queue_update
from app.mentions.followups import local_moment
from app.mentions.queries import QueueFilters
from app.mentions.send import send_reply
from app.web.deps import Ctx, PageUser, role
from app.web.flash import Flash, set_flash
from app.web.rendering import render, safe_next

router = APIRouter()
LeadPage = Annotated[Principal, Depends(role("lead", page=True))]


async def _filters(channel: str | None = None, sla_state: str | None = None, category: str | None = None,
             language: str | None = None, source: str | None = None, person: str | None = None,
             q: Annotated[str | None, Query(max_length=200)] = None) -> QueueFilters:
    """The dashboard's filters from the query string (empty form fields mean "any"). async: no
    trip to a worker thread, as FastAPI makes for a plain `def` dependency."""
    return QueueFilters(channel=channel or None, sla_state=sla_state or None, category=category or None,
                        language=language or None, source=source or None, person=person or None,
                        q=(q or "").strip() or None)


PageFilters = Annotated[QueueFilters, Depends(_filters)]


@router.get("/")
async def dashboard(request: Request, ctx: Ctx, user: PageUser, filters: PageFilters, view: str | None = None,
                    m: int | None = None, tone: str | None = None, order: str | None = None):
    """The queue; with `m`, the split view: that mention and its composer beside the list."""
    shown = await dashboard_view(ctx, filters, view, user, urgent_first=order == URGENT)
    pane = await compose.mention_page(ctx, m, user, tone) if m is not None else {}
    return render(request, "dashboard.html", **{**shown, **pane}, selected=m)


@router.get("/partials/queue")
async def queue_partial(request: Request, ctx: Ctx, user: PageUser, filters: PageFilters, view: str | None = None,
                        m: int | None = None, order: str | None = None):
    shown = await dashboard_view(ctx, filters, view, user, urgent_first=order == URGENT)
    return render(request, "partials/queue.html", **shown, selected=m)


@router.get("/partials/queue/rows")
async def queue_rows_partial(request: Request, ctx: Ctx, user: PageUser, filters: PageFilters,
                             ids: Annotated[list[RowId], Query(max_length=ROWS_PER_UPDATE)],
                             view: str | None = None, m: int | None = None, order: str | None = None):
    """The live queue after the mentions `ids` changed: their rows (those on the first page),
    the page's order and the counts, so the page redraws only what changed (static/app.js)."""
    shown = await queue_update(ctx, filters, view, user, ids, urgent_first=order == URGENT)
    return render(request, "partials/queue_rows.html", **shown, selected=m)


@router.get("/mentions/{mention_id}")
async def mention_page(request: Request, mention_id: RowId, ctx: Ctx, user: PageUser, tone: str | None = None):
    return render(request, "mention.html", **await compose.mention_page(ctx, mention_id, user, tone))


def _redirect(request: Request, target: str, flash: Flash) -> Response:
    return set_flash(request, RedirectResponse(target, status_code=303), flash)


async def _next_page(request: Request, mention_id: int, *, stay: bool) -> str:
    """Where a form on a mention leads: the mention again (`stay`), or the queue. A form in the
    queue's split view names its list (`return_to`, the queue with its view and filters): then
    the mention stays selected there, or the list is shown alone."""
    return_to = str((await request.form()).get("return_to") or "")
    if return_to == "/" or return_to.startswith("/?"):
        base = safe_next(return_to)
        return f"{base}{'&' if '?' in base else '?'}m={mention_id}" if stay else base
    return f"/mentions/{mention_id}" if stay else "/"


async def _refused(request: Request, mention_id: int, exc: DomainError) -> Response:
    """A refused form action: back to the mention, which says why (the draft is kept there)."""
    return _redirect(request, await _next_page(request, mention_id, stay=True), Flash("error", exc.message))


async def _form_action(request: Request, ctx, mention_id: int, action, *args, stay: bool, done: Flash,
                       **kwargs) -> Response:
    try:
        async with ctx.db.write() as session:
            await action(session, mention_id, *args, **kwargs)
    except DomainError as exc:
        return await _refused(request, mention_id, exc)
    return _redirect(request, await _next_page(request, mention_id, stay=stay), done)


def _undoable(ctx, message: str, params: dict, dismissed: list[int]) -> Flash:
    """The confirmation of a dismissal, offering undo for as long as the server allows it."""
    until = ctx.now().timestamp() + actions.UNDO_DISMISS_SECONDS
    return Flash("ok", message, params, undo=dismissed, undo_until=until)


@router.post("/mentions/{mention_id}/claim")
async def claim_form(request: Request, mention_id: RowId, ctx: Ctx, user: PageUser):
    return await _form_action(request, ctx, mention_id, actions.claim, user, ctx.now(),
                              ctx.config.replies.claim_idle_minutes, stay=True,
                              done=Flash("ok", N_("You are handling this mention now.")))


@router.post("/mentions/{mention_id}/release")
async def release_form(request: Request, mention_id: RowId, ctx: Ctx, user: PageUser):
    return await _form_action(request, ctx, mention_id, actions.release, user, ctx.now(), stay=False,
                              done=Flash("ok", N_("Released: the mention is back in the queue.")))


@router.post("/mentions/{mention_id}/dismiss")
async def dismiss_form(request: Request, mention_id: RowId, ctx: Ctx, user: PageUser,
                       reason: Annotated[str, Form()] = ""):
    return await _form_action(request, ctx, mention_id, actions.dismiss, user, ctx.now(), reason, stay=False,
                              done=_undoable(ctx, N_("Dismissed as “%(reason)s”."), {"reason": reason}, [mention_id]))


@router.post("/mentions/{mention_id}/reply")
async def reply_form(request: Request, mention_id: RowId, ctx: Ctx, user: PageUser, text: Annotated[str, Form()] = "",
                     elsewhere_url: Annotated[str, Form()] = "", post: Annotated[str, Form()] = ""):
    try:
        if needs_approval(user):
            await request_approval(ctx, mention_id, user, text, post=post == "1", elsewhere_url=elsewhere_url or None)
            return _redirect(request, await _next_page(request, mention_id, stay=True),
                             Flash("ok", N_("Your reply waits for a lead's approval.")))
        result = await send_reply(ctx, ctx.http(), mention_id, user, text, post=post == "1",
                                  elsewhere_url=elsewhere_url or None)
    except DomainError as exc:
        await _keep_draft(ctx, mention_id, user, text)
        return await _refused(request, mention_id, exc)
    sent = {"posted": N_("Reply posted in the channel."),
            "unknown": N_("Reply sent; check the channel whether it arrived.")}
    return _redirect(request, await _next_page(request, mention_id, stay=False),
                     Flash("ok", sent.get(result.reply.state, N_("Reply recorded."))))


async def _keep_draft(ctx, mention_id: int, user, text: str) -> None:
    """A refused send keeps what was sent as the draft, even when no autosave got there first."""
    try:
        async with ctx.db.write() as session:
            await drafts.save_draft(session, mention_id, user, ctx.now(), text[:drafts.MAX_DRAFT], None)
    except DomainError:
        pass  # the mention is gone: nothing to keep it for


@router.post("/mentions/{mention_id}/note")
async def note_form(request: Request, mention_id: RowId, ctx: Ctx, user: PageUser, text: Annotated[str, Form()] = ""):
    return await _form_action(request, ctx, mention_id, actions.add_note, user, ctx.now(), text,
                              stay=True, done=Flash("ok", N_("Note added.")))


@router.post("/mentions/{mention_id}/assign")
async def assign_form(request: Request, mention_id: RowId, ctx: Ctx, user: PageUser,
                      username: Annotated[str, Form()] = ""):
    return await _form_action(request, ctx, mention_id, actions.assign, user, ctx.now(),
                              ctx.config.replies.claim_idle_minutes, username, stay=True,
                              done=Flash("ok", N_("Assigned to %(name)s."), {"name": username}))


@router.post("/mentions/{mention_id}/follow-up")
async def follow_up_form(request: Request, mention_id: RowId, ctx: Ctx, user: PageUser,
                         due_at: Annotated[str, Form()] = "", note: Annotated[str, Form()] = ""):
    try:
        due = local_moment(due_at, ctx.config.sla.timezone)
    except DomainError as exc:
        return await _refused(request, mention_id, exc)
    return await _form_action(request, ctx, mention_id, actions.promise_follow_up, user, ctx.now(), due,
                              note or None, stay=True,
                              done=Flash("ok", N_("Follow-up promise added.")))


@router.post("/mentions/{mention_id}/identities")
async def link_identity_form(request: Request, mention_id: RowId, ctx: Ctx, user: LeadPage,
                             channel: Annotated[str, Form()] = "", handle: Annotated[str, Form()] = ""):
    return await _form_action(request, ctx, mention_id, identities.link, user, ctx.now(), channel, handle, stay=True,
                              done=Flash("ok", N_("Linked: their mentions there show in the panel now.")))


@router.post("/mentions/{mention_id}/identities/{link_id}/unlink")
async def unlink_identity_form(request: Request, mention_id: RowId, link_id: RowId, ctx: Ctx, user: LeadPage):
    async def unlink(session, mention_id: int, who, now) -> None:
        await identities.unlink(session, link_id, who, now, mention_id)
    return await _form_action(request, ctx, mention_id, unlink, user, ctx.now(), stay=True,
                              done=Flash("ok", N_("Unlinked.")))


@router.post("/follow-ups/{follow_up_id}/done")
async def follow_up_done_form(request: Request, follow_up_id: RowId, ctx: Ctx, user: PageUser,
                              back: Annotated[str, Form()] = "/"):
    try:
        async with ctx.db.write() as session:
            await actions.complete_follow_up(session, follow_up_id, user, ctx.now())
    except DomainError as exc:  # already done by someone else: the page shows the current state
        return _redirect(request, safe_next(back), Flash("error", exc.message))
    return _redirect(request, safe_next(back), Flash("ok", N_("Follow-up marked done.")))


async def _picked_ids(request: Request) -> list[int]:
    return [i for raw in (await request.form()).getlist("ids") if (i := as_row_id(str(raw))) is not None]


@router.post("/dismiss")
async def bulk_dismiss_form(request: Request, ctx: Ctx, user: PageUser, reason: Annotated[str, Form()] = ""):
    ids = await _picked_ids(request)
    if not ids:
        return _redirect(request, "/", Flash("error", N_("Select at least one mention first.")))
    try:
        outcome = await actions.dismiss_each(ctx.db, ids, user, ctx.now(), reason)
    except DomainError as exc:
        return _redirect(request, "/", Flash("error", exc.message))
    # Refusals (held by someone else, already handled) stay in the live queue as they are.
    message = (N_("Dismissed: %(done)s. Left as they were (someone else holds them or they were handled): "
                  "%(refused)s.") if outcome.refused else N_("Dismissed: %(done)s."))
    return _redirect(request, "/", _undoable(ctx, message, {"done": len(outcome.dismissed),
                                                            "refused": len(outcome.refused)}, outcome.dismissed))


@router.post("/undo-dismiss")
async def undo_dismiss_form(request: Request, ctx: Ctx, user: PageUser, back: Annotated[str, Form()] = "/"):
    outcome = await actions.undo_each(ctx.db, await _picked_ids(request), user, ctx.now())
    if not outcome.undone:
        return _redirect(request, safe_next(back), Flash("error", N_("This dismissal can no longer be undone.")))
    return _redirect(request, safe_next(back), Flash("ok", N_("Undone: %(n)s back in the queue."),
                                                     {"n": len(outcome.undone)}))
