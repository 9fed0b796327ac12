"""The sign-in step after a right password, while the session is still `pending`: a code
from the authenticator app (or a recovery code), or, for a role that requires two-factor
sign-in, setting it up there and then. The step's form carries the pending session's CSRF
token; codes are limited like passwords (app/accounts/twofactor.py)."""
from __future__ import annotations

import hmac
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse

from app.accounts import login, sessions, twofactor
from app.core import i18n
from app.core.errors import Unauthenticated
from app.core.models import AuthSession, User
from app.mentions.actions import audit
from app.web.login_gate import client_address
from app.web.rendering import render, safe_next

router = APIRouter()
STEP_PAGES = {"totp": "/login/2fa", "enrol": "/login/enrol"}


def step_url(pending: str, next_path: str) -> str:
    return f"{STEP_PAGES[pending]}?{urlencode({'next': next_path})}" if next_path != "/" else STEP_PAGES[pending]


async def _pending(request: Request, step: str) -> tuple[AuthSession, User] | None:
    ctx = request.app.state.ctx
    i18n.set_language(i18n.choose_language(None, request.headers.get("accept-language")))
    token = request.cookies.get(sessions.SESSION_COOKIE)
    if not token:
        return None
    async with ctx.db.read() as session:
        found = await sessions.pending_session(session, token, ctx.now())
    if found is None or found[0].pending != step:
        return None
    i18n.set_language(i18n.choose_language(found[1].language, request.headers.get("accept-language")))
    return found


def _csrf_ok(auth: AuthSession, submitted: str) -> bool:
    return bool(submitted) and hmac.compare_digest(submitted, auth.csrf_token)


def _back_to_login() -> RedirectResponse:
    return RedirectResponse("/login", status_code=303)


async def _complete(ctx, session, auth: AuthSession, user: User, kind: str, client: str) -> None:
    """The second step is done: the session opens everything, and the sign-in is audited."""
    row = await session.get(AuthSession, auth.token_hash)
    sessions.complete_session(row, await session.get(User, user.id), ctx.now())
    audit(session, user.username, "login", None, ctx.now(), client=client, second_factor=kind)


@router.get("/login/2fa")
async def code_page(request: Request, next: str | None = None):
    if not (found := await _pending(request, "totp")):
        return _back_to_login()
    return render(request, "login_code.html", next=safe_next(next), step_csrf=found[0].csrf_token)


@router.post("/login/2fa")
async def code_form(request: Request, code: Annotated[str, Form()], csrf_token: Annotated[str, Form()] = "",
                    next: Annotated[str, Form()] = "/"):
    ctx = request.app.state.ctx
    if not (found := await _pending(request, "totp")) or not _csrf_ok(found[0], csrf_token):
        return _back_to_login()
    auth, user = found
    client = client_address(request.scope)
    try:
        await twofactor.with_code(ctx, user.id, code, client,
                                  lambda session, me, kind: _complete(ctx, session, auth, me, kind, client))
    except login.Throttled as exc:
        response = render(request, "login_code.html", status_code=429, next=safe_next(next),
                          step_csrf=auth.csrf_token,
                          error=i18n.gettext("Too many wrong codes. Try again in a few minutes."))
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except Unauthenticated:
        return render(request, "login_code.html", status_code=401, next=safe_next(next), step_csrf=auth.csrf_token,
                      error=i18n.gettext("That code is not right. Try the newest one."))
    return RedirectResponse(safe_next(next), status_code=303)


async def _enrol_page(request: Request, auth: AuthSession, user: User, next_path: str, status_code: int = 200,
                      **shown):
    ctx = request.app.state.ctx
    svg = twofactor.qr_svg(twofactor.provisioning_uri(user, ctx.config.brand.name, ctx.sealer()),
                           i18n.gettext("QR code for your authenticator app"))
    return render(request, "login_enrol.html", status_code=status_code, next=next_path, csrf_token=auth.csrf_token,
                  enrolling=svg, secret=twofactor.seed(user, ctx.sealer()), **shown)


@router.get("/login/enrol")
async def enrol_page(request: Request, next: str | None = None):
    ctx = request.app.state.ctx
    if not (found := await _pending(request, "enrol")):
        return _back_to_login()
    auth, user = found
    if user.totp_secret is None:
        async with ctx.db.write() as session:
            user = await session.get(User, user.id)
            twofactor.begin(user, ctx.sealer())
    return await _enrol_page(request, auth, user, safe_next(next))


@router.post("/login/enrol")
async def enrol_form(request: Request, code: Annotated[str, Form()], csrf_token: Annotated[str, Form()] = "",
                     next: Annotated[str, Form()] = "/"):
    ctx = request.app.state.ctx
    if not (found := await _pending(request, "enrol")) or not _csrf_ok(found[0], csrf_token):
        return _back_to_login()
    auth, user = found
    client = client_address(request.scope)

    async def confirm(session, me, kind):
        codes = await twofactor.confirm(session, me, kind, ctx.now())
        await _complete(ctx, session, auth, me, "enrolled", client)
        return codes
    try:
        codes = await twofactor.with_code(ctx, user.id, code, client, confirm)
    except login.Throttled as exc:
        response = await _enrol_page(request, auth, user, safe_next(next), status_code=429,
                                     error=i18n.gettext("Too many wrong codes. Try again in a few minutes."))
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except Unauthenticated:
        return await _enrol_page(request, auth, user, safe_next(next), status_code=401,
                                 error=i18n.gettext("That code is not right. Try the newest one."))
    return render(request, "login_enrolled.html", recovery_codes=codes, next=safe_next(next))
