"""Everyone's own account (`/account`): password, two-factor sign-in, signed-in sessions and
API tokens. Secrets (a new token, recovery codes) appear once, in the answer to the form
that made them, never in an address."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse

from app.accounts import login, passwords, sessions, tokens, twofactor
from app.accounts.principal import AuthError, Principal
from app.core import i18n
from app.core.bounds import RowId
from app.core.errors import Unauthenticated
from app.core.models import User
from app.mentions.actions import audit
from app.web.deps import Ctx, PageUser
from app.web.login_gate import client_address
from app.web.rendering import render

router = APIRouter()
DONE_MESSAGES = {
    "password": i18n.N_("Your password is changed. Your other sessions have ended."),
    "session": i18n.N_("The session has ended."),
    "revoked": i18n.N_("The token is revoked."),
    "2fa-off": i18n.N_("Two-factor sign-in is off."),
}


async def account_page(request: Request, ctx, principal: Principal, status_code: int = 200, **shown):
    now = ctx.now()
    async with ctx.db.read() as session:
        user = await session.get(User, principal.user.id)
        live = await sessions.live_sessions(session, user.id, now)
        own_tokens = await tokens.live_tokens(session, user.id, now)
        codes_left = await twofactor.codes_left(session, user.id) if user.two_factor else 0
    enrolling = None
    if user.totp_secret and not user.two_factor:
        enrolling = twofactor.qr_svg(twofactor.provisioning_uri(user, ctx.config.brand.name, ctx.sealer()),
                                     i18n.gettext("QR code for your authenticator app"))
    done = DONE_MESSAGES.get(request.query_params.get("done", ""))
    return render(request, "account.html", status_code=status_code, me=user, sessions=live,
                  current_session=principal.session_hash, tokens=own_tokens, codes_left=codes_left,
                  enrolling=enrolling, secret=twofactor.seed(user, ctx.sealer()) if enrolling else None,
                  required=user.role in ctx.config.auth.require_2fa, describe_device=sessions.describe_device,
                  done=i18n.gettext(done) if done else None, max_token_days=tokens.MAX_DAYS, **shown)


@router.get("/account")
async def account(request: Request, ctx: Ctx, user: PageUser):
    return await account_page(request, ctx, user)


@router.post("/account/password")
async def change_password(request: Request, ctx: Ctx, user: PageUser, current_password: Annotated[str, Form()],
                          new_password: Annotated[str, Form()], repeat_password: Annotated[str, Form()]):
    error, status = None, 422
    if new_password != repeat_password:
        error = i18n.gettext("The new passwords differ.")
    elif len(new_password) < passwords.MIN_PASSWORD_LENGTH:
        error = i18n.gettext("Use at least %(n)s characters.") % {"n": passwords.MIN_PASSWORD_LENGTH}
    else:
        try:
            await login.confirm_password(ctx, user.username, current_password, client_address(request.scope))
        except login.Throttled:
            error, status = i18n.gettext("Too many failed attempts. Try again in a few minutes."), 429
        except Unauthenticated:
            error = i18n.gettext("Your current password is not right.")
    if error:
        return await account_page(request, ctx, user, status_code=status, password_error=error)
    new_hash = await passwords.hash_password_off_loop(new_password)
    now = ctx.now()
    async with ctx.db.write() as session:
        me = await session.get(User, user.user.id)
        me.password_hash = new_hash
        await sessions.end_user_sessions(session, me.id, now, keep=user.session_hash)
        audit(session, me.username, "password.change", None, now)
    return RedirectResponse("/account?done=password", status_code=303)


@router.post("/account/sessions/end")
async def end_session(ctx: Ctx, user: PageUser, session_id: Annotated[str, Form()]):
    async with ctx.db.write() as session:
        ended = await sessions.end_own_session(session, user.user.id, session_id, ctx.now())
    if ended and session_id == user.session_hash:
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(sessions.SESSION_COOKIE)
        return response
    return RedirectResponse("/account?done=session" if ended else "/account", status_code=303)


@router.post("/account/tokens")
async def create_token(request: Request, ctx: Ctx, user: PageUser, name: Annotated[str, Form()] = "",
                       days: Annotated[str, Form()] = ""):
    try:
        lifetime = int(days) if days.strip() else None
    except ValueError:
        lifetime = 0  # refused below, with the same message as an out-of-range number
    try:
        async with ctx.db.write() as session:
            me = await session.get(User, user.user.id)
            token = await tokens.create_token(session, me, name, lifetime, ctx.now())
            audit(session, me.username, "token.create", None, ctx.now(), name=name.strip() or None)
    except AuthError:
        return await account_page(request, ctx, user, status_code=422, token_error=i18n.gettext(
            "Give a name of at most %(name)s characters and a number of days from 1 to %(days)s.")
            % {"name": tokens.MAX_NAME, "days": tokens.MAX_DAYS})
    return await account_page(request, ctx, user, new_token=token)


@router.post("/account/tokens/{token_id}/revoke")
async def revoke_token(ctx: Ctx, user: PageUser, token_id: RowId):
    async with ctx.db.write() as session:
        me = await session.get(User, user.user.id)
        if await tokens.revoke_tokens(session, me, token_id=token_id):
            audit(session, me.username, "token.revoke", None, ctx.now(), token_id=token_id)
    return RedirectResponse("/account?done=revoked#tokens", status_code=303)


@router.post("/account/2fa/start")
async def start_two_factor(request: Request, ctx: Ctx, user: PageUser):
    async with ctx.db.write() as session:
        me = await session.get(User, user.user.id)
        if not me.two_factor:
            twofactor.begin(me, ctx.sealer())
    return RedirectResponse("/account#two-factor", status_code=303)


async def _with_code(request: Request, ctx, user: Principal, code: str, then, done):
    """`then` once the code checks out, and `done(result)` answers; else the account page
    says why (wrong code, or too many of them)."""
    try:
        result = await twofactor.with_code(ctx, user.user.id, code, client_address(request.scope), then)
    except login.Throttled as exc:
        response = await account_page(request, ctx, user, status_code=429, code_error=i18n.gettext(
            "Too many wrong codes. Try again in a few minutes."))
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except Unauthenticated:
        return await account_page(request, ctx, user, status_code=422,
                                  code_error=i18n.gettext("That code is not right. Try the newest one."))
    return await done(result)


@router.post("/account/2fa/confirm")
async def confirm_two_factor(request: Request, ctx: Ctx, user: PageUser, code: Annotated[str, Form()]):
    async def confirm(session, me, kind):
        audit(session, me.username, "2fa.on", None, ctx.now())
        return await twofactor.confirm(session, me, kind, ctx.now())

    async def show(codes):
        return await account_page(request, ctx, user, recovery_codes=codes)
    return await _with_code(request, ctx, user, code, confirm, show)


@router.post("/account/2fa/recovery-codes")
async def new_recovery_codes(request: Request, ctx: Ctx, user: PageUser, code: Annotated[str, Form()]):
    async def renew(session, me, _kind):
        audit(session, me.username, "2fa.recovery_codes", None, ctx.now())
        return await twofactor.new_recovery_codes(session, me)

    async def show(codes):
        return await account_page(request, ctx, user, recovery_codes=codes)
    return await _with_code(request, ctx, user, code, renew, show)


@router.post("/account/2fa/off")
async def turn_off_two_factor(request: Request, ctx: Ctx, user: PageUser, code: Annotated[str, Form()]):
    if user.user.role in ctx.config.auth.require_2fa:
        return await account_page(request, ctx, user, status_code=422, code_error=i18n.gettext(
            "Your role requires two-factor sign-in: it stays on."))

    async def off(session, me, _kind):
        audit(session, me.username, "2fa.off", None, ctx.now())
        await twofactor.turn_off(session, me)

    async def back(_):
        return RedirectResponse("/account?done=2fa-off", status_code=303)
    return await _with_code(request, ctx, user, code, off, back)
