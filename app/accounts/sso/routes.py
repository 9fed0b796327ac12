"""GET /login/oidc starts a single sign-on; GET /login/oidc/callback is where the provider
sends the browser back. Both answer 404 when `[auth.oidc]` is not configured. A refusal is
the login page with a plain reason (the details go to the log, never to the page)."""
from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from app.accounts import sessions
from app.accounts.pages import login_page_response, signed_in_response
from app.accounts.sso import accounts, flow
from app.accounts.sso.errors import SsoRefused
from app.core import i18n
from app.core.errors import NotFound
from app.web.deps import Ctx
from app.web.login_gate import client_address
from app.web.rendering import safe_next

router = APIRouter()
log = logging.getLogger(__name__)
STATE_COOKIE = "webcare_oidc_state"


def _configured(ctx) -> None:
    if ctx.config.auth.oidc is None:
        raise NotFound("single sign-on is not configured")


@router.get("/login/oidc")
async def start(request: Request, ctx: Ctx, next: str | None = None):
    _configured(ctx)
    try:
        started = await flow.begin(ctx, safe_next(next))
    except SsoRefused as exc:
        return refused(request, exc)
    response = RedirectResponse(started.redirect_to, status_code=303)
    # Lax: the provider's redirect back is a top-level navigation from another site.
    response.set_cookie(STATE_COOKIE, started.state, max_age=int(flow.STATE_LIFETIME.total_seconds()),
                        path=flow.CALLBACK_PATH, httponly=True, samesite="lax", secure=request.url.scheme == "https")
    return response


@router.get(flow.CALLBACK_PATH)
async def callback(request: Request, ctx: Ctx, state: str = "", code: str = "", error: str | None = None):
    _configured(ctx)
    cookie_state = request.cookies.get(STATE_COOKIE)
    try:
        if error:  # the person cancelled, or may not use this client
            error = f"{error}: {request.query_params.get('error_description', '')}"
        identity, next_url = await flow.finish(ctx, state=state, code=code, cookie_state=cookie_state, error=error)
        token = await accounts.sign_in(ctx, identity, client_address(request.scope),
                                       previous_token=request.cookies.get(sessions.SESSION_COOKIE),
                                       user_agent=request.headers.get("user-agent"))
    except SsoRefused as exc:
        response = refused(request, exc)
    else:
        response = signed_in_response(request, token, next_url)
    response.delete_cookie(STATE_COOKIE, path=flow.CALLBACK_PATH)
    return response


def reason_text(reason: str) -> str:
    texts = {
        "no_role": i18n.gettext("Your account at the identity provider gives you no role in Webcare Monitor. "
                                "Ask an administrator to add you to the right group."),
        "disabled": i18n.gettext("Your Webcare Monitor account is deactivated."),
        "username_taken": i18n.gettext("Your username is already used by another Webcare Monitor account. "
                                       "Ask an administrator."),
        "unreachable": i18n.gettext("The identity provider could not be reached. Try again later."),
        "provider": i18n.gettext("The identity provider did not sign you in."),
        "busy": i18n.gettext("Too many sign-ins are under way. Try again in a few minutes."),
    }
    return texts.get(reason, i18n.gettext("Single sign-on failed. Please try again."))


def refused(request: Request, exc: SsoRefused):
    log.warning("single sign-on refused (%s): %s", exc.reason, exc.message)
    i18n.set_language(i18n.choose_language(None, request.headers.get("accept-language")))  # for reason_text
    return login_page_response(request, status_code=exc.status, error=reason_text(exc.reason))
