"""Signing in and out, and the user's own settings (UI language)."""
from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse

from app.accounts import login, second_step, sessions, users
from app.core import i18n
from app.core.errors import Unauthenticated
from app.teams.availability import mark_away
from app.web.deps import Ctx, PageUser
from app.web.login_gate import client_address
from app.web.rendering import render, safe_next

router = APIRouter()
LOGIN_CSRF_COOKIE = "webcare_login_csrf"


def _login_options(ctx) -> dict:
    """What the login page offers: the single sign-on button, the password form, or both."""
    oidc = ctx.config.auth.oidc
    return {"sso_name": oidc.provider_name if oidc else None,
            "password_login": oidc is None or oidc.allow_password_login}


def login_page_response(request: Request, *, status_code: int = 200, next: str | None = None,
                        error: str | None = None, notice: str | None = None):
    """The login page in the browser's language, with its form's CSRF cookie."""
    i18n.set_language(i18n.choose_language(None, request.headers.get("accept-language")))
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)
    response = render(request, "login.html", status_code=status_code, next=safe_next(next), error=error,
                      login_csrf=token, notice=notice, **_login_options(request.app.state.ctx))
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")
    return response


@router.get("/login")
async def login_page(request: Request, next: str | None = None, done: str = ""):
    # No text from the query string: a link must not make the sign-in page say anything (a
    # refusal shown after a redirect travels as a flash, app/web/flash.py); `done` only picks
    # one of our own messages.
    notice = i18n.gettext("Your password is set. Sign in with it.") if done == "password" else None
    return login_page_response(request, next=next, notice=notice)


@router.post("/login")
async def login_form(request: Request, ctx: Ctx, username: Annotated[str, Form()], password: Annotated[str, Form()],
                     csrf_token: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "/"):
    i18n.set_language(i18n.choose_language(None, request.headers.get("accept-language")))
    options = _login_options(ctx)
    if not options["password_login"]:
        return login_page_response(request, status_code=403, next=next, error=i18n.gettext(
            "Signing in with a password is turned off here. Use single sign-on."))
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE)
    if not cookie or not secrets.compare_digest(cookie, csrf_token):
        return render(request, "login.html", status_code=403, next=safe_next(next), login_csrf=cookie or "",
                      error=i18n.gettext("Your login form expired. Please try again."), **options)
    try:
        token, pending = await login.sign_in(ctx, username, password, client_address(request.scope),
                                             previous_token=request.cookies.get(sessions.SESSION_COOKIE),
                                             user_agent=request.headers.get("user-agent"))
    except login.Throttled as exc:
        response = render(request, "login.html", status_code=429, next=safe_next(next), login_csrf=cookie,
                          error=i18n.gettext("Too many failed attempts. Try again in a few minutes."), **options)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except Unauthenticated:
        return render(request, "login.html", status_code=401, next=safe_next(next), login_csrf=cookie,
                      error=i18n.gettext("Unknown username or wrong password."), **options)
    return signed_in_response(request, token, next, pending=pending)


def signed_in_response(request: Request, token: str, next: str, *, pending: str | None = None) -> RedirectResponse:
    """On to where they were going, with the new session's cookie (password or single sign-on).
    `pending`: a second step still due; the cookie then names a session that opens only that step."""
    target = second_step.step_url(pending, safe_next(next)) if pending else safe_next(next)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(sessions.SESSION_COOKIE, token, httponly=True, samesite="lax",
                        secure=request.url.scheme == "https", max_age=int(sessions.SESSION_MAX_AGE.total_seconds()))
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
async def logout(ctx: Ctx, user: PageUser):
    if user.session_hash:  # a bearer token has no session to end
        async with ctx.db.write() as session:
            await sessions.end_session(session, user.session_hash, ctx.now())
            await mark_away(session, user.user.id)  # signed out: nothing more is handed to them
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(sessions.SESSION_COOKIE)
    return response


@router.post("/settings/language")
async def set_language(ctx: Ctx, user: PageUser, language: Annotated[str, Form()], next: Annotated[str, Form()] = "/"):
    async with ctx.db.write() as session:
        await users.set_language(session, user.user.id, language if language in i18n.UI_LANGUAGES else None)
    return RedirectResponse(safe_next(next), status_code=303)
