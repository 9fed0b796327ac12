"""HTML pages: login, the live queue, a mention, and the fragments the page refreshes."""
from __future__ import annotations

import secrets
from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request, Response
from fastapi.responses import RedirectResponse

from app import actions, auth, i18n
from app.auth import active_usernames
from app.deps import Ctx, PageUser
from app.health import source_health
from app.queue import QueueFilters, list_queue, mention_detail, oldest_open
from app.models import Mention
from app.replying import capabilities_for, send_reply
from app.routes.compose import signature_for
from app.saved_texts import openers_for_mention
from app.web import render

router = APIRouter()
LOGIN_CSRF_COOKIE = "webcare_login_csrf"
PAGE_SIZE = 100


def _safe_next(target: str | None) -> str:
    # Only same-site paths: never let the login form redirect to another host.
    return target if target and target.startswith("/") and not target.startswith("//") else "/"


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.get("/login")
async def login_page(request: Request, next: str | None = None, error: str | None = None):
    i18n.set_language(i18n.choose_language(None, request.headers.get("accept-language")))
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)
    response = render(request, "login.html", next=_safe_next(next), error=error, login_csrf=token)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")
    return response


@router.post("/login")
async def login(request: Request, ctx: Ctx, username: Annotated[str, Form()], password: Annotated[str, Form()],
                csrf_token: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "/"):
    i18n.set_language(i18n.choose_language(None, request.headers.get("accept-language")))
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE)
    if not cookie or not secrets.compare_digest(cookie, csrf_token):
        return render(request, "login.html", status_code=403, next=_safe_next(next), login_csrf=cookie or "",
                      error=i18n.gettext("Your login form expired. Please try again."))
    now = ctx.now()
    key = auth.throttle_key(username, _client(request))
    async with ctx.db.write() as session:
        wait = await auth.retry_after_seconds(session, key, now)
        if wait:
            response = render(request, "login.html", status_code=429, next=_safe_next(next), login_csrf=cookie,
                              error=i18n.gettext("Too many failed attempts. Try again in a few minutes."))
            response.headers["Retry-After"] = str(wait)
            return response
        user = await auth.user_by_name(session, username.strip())
        ok = auth.verify_password(password, user.password_hash if user and not user.disabled else None)
        await auth.record_attempt(session, key, ok, now)
        if ok:
            token, _ = await auth.start_session(session, user, now)
            actions.audit(session, user.username, "login", None, now, client=_client(request))
    if not ok:
        return render(request, "login.html", status_code=401, next=_safe_next(next), login_csrf=cookie,
                      error=i18n.gettext("Unknown username or wrong password."))
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(auth.SESSION_COOKIE, token, httponly=True, samesite="lax",
                        secure=request.url.scheme == "https", max_age=int(auth.SESSION_MAX_AGE.total_seconds()))
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
async def logout(ctx: Ctx, user: PageUser):
    if user.session_hash:  # a bearer token has no session to end
        async with ctx.db.write() as session:
            await auth.end_session(session, user.session_hash, ctx.now())
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(auth.SESSION_COOKIE)
    return response


async def _queue_context(ctx, filters: QueueFilters) -> dict:
    now = ctx.now()
    async with ctx.db.read() as session:
        queue = await list_queue(session, filters, now, ctx.policy, limit=PAGE_SIZE)
        oldest = await oldest_open(session)
        sources = await source_health(session, ctx.sources(), now)
    return {"queue": queue, "now": now, "sources": sources, "filters": filters,
            "oldest_seconds": (now - oldest.posted_at).total_seconds() if oldest else None}


def _filters(channel: str | None = None, sla_state: str | None = None, category: str | None = None,
             language: str | None = None, q: Annotated[str | None, Query(max_length=200)] = None) -> QueueFilters:
    """The dashboard's filters from the query string (empty form fields mean "any")."""
    return QueueFilters(channel=channel or None, sla_state=sla_state or None, category=category or None,
                        language=language or None, q=(q or "").strip() or None)


PageFilters = Annotated[QueueFilters, Depends(_filters)]


@router.get("/")
async def dashboard(request: Request, ctx: Ctx, user: PageUser, filters: PageFilters):
    return render(request, "dashboard.html", **await _queue_context(ctx, filters))


@router.get("/partials/queue")
async def queue_partial(request: Request, ctx: Ctx, user: PageUser, filters: PageFilters):
    return render(request, "partials/queue.html", **await _queue_context(ctx, filters))


@router.get("/mentions/{mention_id}")
async def mention_page(request: Request, mention_id: int, ctx: Ctx, user: PageUser, error: str | None = None,
                       tone: str | None = None):
    tone = tone if tone in ("formal", "informal") else ctx.config.replies.default_tone
    async with ctx.db.read() as session:
        view = await mention_detail(session, mention_id, ctx.now(), ctx.policy)
        if view is None:
            raise HTTPException(404, "no such mention")
        mention = await session.get(Mention, mention_id)
        openers = await openers_for_mention(session, mention, tone, signature=signature_for(ctx, user))
        users = await active_usernames(session) if user.has_role("lead") else []
    capabilities = capabilities_for(ctx, mention)
    return render(request, "mention.html", m=view, now=ctx.now(), error=error, openers=openers["openers"],
                  tone=tone, can_post=capabilities is not None, text_limit=capabilities and capabilities.text_limit,
                  private=mention.visibility in ("direct", "private"), users=users, is_lead=user.has_role("lead"))


async def _form_action(ctx, mention_id: int, action, *args, back: str, **kwargs) -> Response:
    try:
        async with ctx.db.write() as session:
            await action(session, mention_id, *args, **kwargs)
    except actions.ActionError as exc:
        return RedirectResponse(f"/mentions/{mention_id}?error={quote(exc.message)}", status_code=303)
    return RedirectResponse(back, status_code=303)


@router.post("/mentions/{mention_id}/claim")
async def claim_form(mention_id: int, ctx: Ctx, user: PageUser):
    return await _form_action(ctx, mention_id, actions.claim, user, ctx.now(),
                              ctx.config.replies.claim_idle_minutes, back=f"/mentions/{mention_id}")


@router.post("/mentions/{mention_id}/release")
async def release_form(mention_id: int, ctx: Ctx, user: PageUser):
    return await _form_action(ctx, mention_id, actions.release, user, ctx.now(), back="/")


@router.post("/mentions/{mention_id}/dismiss")
async def dismiss_form(mention_id: int, ctx: Ctx, user: PageUser, reason: Annotated[str, Form()]):
    return await _form_action(ctx, mention_id, actions.dismiss, user, ctx.now(), reason, back="/")


@router.post("/mentions/{mention_id}/reply")
async def reply_form(mention_id: int, ctx: Ctx, user: PageUser, text: Annotated[str, Form()],
                     elsewhere_url: Annotated[str, Form()] = "", post: Annotated[str, Form()] = ""):
    try:
        await send_reply(ctx, ctx.http(), mention_id, user, text, post=post == "1",
                         elsewhere_url=elsewhere_url or None)
    except actions.ActionError as exc:
        return RedirectResponse(f"/mentions/{mention_id}?error={quote(exc.message)}", status_code=303)
    return RedirectResponse("/", status_code=303)


@router.post("/mentions/{mention_id}/note")
async def note_form(mention_id: int, ctx: Ctx, user: PageUser, text: Annotated[str, Form()]):
    return await _form_action(ctx, mention_id, actions.add_note, user, ctx.now(), text,
                              back=f"/mentions/{mention_id}")


@router.post("/mentions/{mention_id}/assign")
async def assign_form(mention_id: int, ctx: Ctx, user: PageUser, username: Annotated[str, Form()]):
    return await _form_action(ctx, mention_id, actions.assign, user, ctx.now(),
                              ctx.config.replies.claim_idle_minutes, username, back=f"/mentions/{mention_id}")


@router.post("/mentions/{mention_id}/follow-up")
async def follow_up_form(mention_id: int, ctx: Ctx, user: PageUser, due_at: Annotated[str, Form()],
                         note: Annotated[str, Form()] = ""):
    try:
        # A datetime-local field has no zone: it is the team's local time.
        due = datetime.fromisoformat(due_at)
        due = due.replace(tzinfo=ZoneInfo(ctx.config.sla.timezone)) if due.tzinfo is None else due
    except ValueError:
        return RedirectResponse(f"/mentions/{mention_id}?error={quote('not a date and time')}", status_code=303)
    return await _form_action(ctx, mention_id, actions.promise_follow_up, user, ctx.now(), due, note or None,
                              back=f"/mentions/{mention_id}")


@router.post("/follow-ups/{follow_up_id}/done")
async def follow_up_done_form(follow_up_id: int, ctx: Ctx, user: PageUser, back: Annotated[str, Form()] = "/"):
    try:
        async with ctx.db.write() as session:
            await actions.complete_follow_up(session, follow_up_id, user, ctx.now())
    except actions.ActionError:
        pass  # already done by someone else: the page shows the current state
    return RedirectResponse(_safe_next(back), status_code=303)


@router.post("/dismiss")
async def bulk_dismiss_form(request: Request, ctx: Ctx, user: PageUser, reason: Annotated[str, Form()]):
    form = await request.form()
    for raw_id in form.getlist("ids"):
        if str(raw_id).isdigit():
            try:
                async with ctx.db.write() as session:
                    await actions.dismiss(session, int(raw_id), user, ctx.now(), reason)
            except actions.ActionError:
                continue  # held by someone else or already handled: the live queue shows it
    return RedirectResponse("/", status_code=303)


@router.post("/settings/language")
async def set_language(ctx: Ctx, user: PageUser, language: Annotated[str, Form()], next: Annotated[str, Form()] = "/"):
    from app.models import User

    async with ctx.db.write() as session:
        db_user = await session.get(User, user.user.id)
        db_user.language = language if language in i18n.UI_LANGUAGES else None
    return RedirectResponse(_safe_next(next), status_code=303)


@router.get("/sources")
async def sources_page(request: Request, ctx: Ctx, user: PageUser):
    async with ctx.db.read() as session:
        sources = await source_health(session, ctx.sources(), ctx.now())
    return render(request, "sources.html", sources=sources)
