"""FastAPI dependencies: the app context, the signed-in principal, roles and CSRF."""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from app.accounts import sessions, tokens
from app.accounts.principal import Principal
from app.core import i18n
from app.core.context import AppContext

CSRF_HEADER = "x-csrf-token"
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class LoginRequired(Exception):
    """Raised for pages; answered with a 303 to /login."""


async def get_ctx(request: Request) -> AppContext:
    # async: FastAPI runs a plain `def` dependency in a worker thread, a hand-off per request.
    return request.app.state.ctx


Ctx = Annotated[AppContext, Depends(get_ctx)]


async def _principal(request: Request, ctx: AppContext) -> Principal | None:
    if "principal" in request.state._state:
        return request.state.principal
    now = ctx.now()
    principal = None
    header = request.headers.get("authorization", "")
    async with ctx.db.quick_read() as session:
        if header.lower().startswith("bearer "):
            principal, stale = await tokens.lookup(session, header[7:].strip(), now)
            if principal and stale and principal.token_id is not None:
                async with ctx.db.write() as wsession:
                    await tokens.touch_token(wsession, principal.token_id, now)
        elif cookie := request.cookies.get(sessions.SESSION_COOKIE):
            principal, stale = await sessions.principal_from_session(session, cookie, now)
            if principal and stale and principal.session_hash:
                async with ctx.db.write() as wsession:
                    await sessions.touch_session(wsession, principal.session_hash, now)
    request.state.principal = principal
    if principal:
        i18n.set_language(i18n.choose_language(principal.user.language, request.headers.get("accept-language")))
    return principal


async def _check_csrf(request: Request, principal: Principal) -> None:
    if request.method not in UNSAFE_METHODS:
        return
    submitted = request.headers.get(CSRF_HEADER)
    if submitted is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        field = (await request.form()).get("csrf_token")
        submitted = field if isinstance(field, str) else None  # a file upload is no token
    if not sessions.csrf_ok(principal, submitted):
        raise HTTPException(403, "CSRF token missing or wrong: reload the page and try again")


def credentials_required() -> HTTPException:
    return HTTPException(401, "login or API token required", headers={"WWW-Authenticate": "Bearer"})


async def api_user(request: Request, ctx: Ctx) -> Principal:
    principal = await _principal(request, ctx)
    if principal is None:
        raise credentials_required()
    await _check_csrf(request, principal)
    return principal


async def page_user(request: Request, ctx: Ctx) -> Principal:
    principal = await _principal(request, ctx)
    if principal is None:
        raise LoginRequired()
    await _check_csrf(request, principal)
    return principal


def role(minimum: str, *, page: bool = False):
    base = page_user if page else api_user

    # A default, not Annotated: with postponed annotations FastAPI could not see the closure's `base`.
    async def dependency(principal: Principal = Depends(base)) -> Principal:
        if not principal.has_role(minimum):
            raise HTTPException(403, f"this needs the {minimum} role")
        return principal

    return dependency


ApiUser = Annotated[Principal, Depends(api_user)]
PageUser = Annotated[Principal, Depends(page_user)]
Lead = Annotated[Principal, Depends(role("lead"))]
