"""The team's users in the browser (`/admin/users`): admins invite, change roles, deactivate,
reactivate, have someone's replies approved and send password reset links; leads see their
teams' members (or everyone, when they belong to no team).
And the page behind a one-time link, where an invited user (or one who forgot theirs) chooses a password."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse

from app.accounts import admin, links, passwords, users
from app.accounts.principal import AuthError, Principal
from app.core import i18n
from app.core.bounds import RowId
from app.core.models import ROLES, User
from app.mentions.actions import audit
from app.teams import directory
from app.web.deps import Ctx, role
from app.web.rendering import render

router = APIRouter()
AdminPage = Annotated[Principal, Depends(role("admin", page=True))]
LeadPage = Annotated[Principal, Depends(role("lead", page=True))]
DONE_MESSAGES = {
    "role": i18n.N_("The role is changed."),
    "disabled": i18n.N_("Deactivated: their sessions, API tokens and open screens have ended."),
    "enabled": i18n.N_("Reactivated: they sign in afresh; old sessions and tokens stay ended."),
    "approval-on": i18n.N_("Their replies now wait for a lead's approval."),
    "approval-off": i18n.N_("Their replies are sent without approval."),
    "2fa-reset": i18n.N_("Two-factor sign-in is reset: they sign in with their password and set it up again."),
}


async def users_page(request: Request, ctx, principal: Principal, status_code: int = 200, **shown):
    async with ctx.db.read() as session:
        everyone = await users.all_users(session)
        invited = await links.pending_invites(session, ctx.now())
        teams_of = await directory.teams_by_member(session, ctx.config)
    may_edit = principal.has_role("admin")
    # A lead of some teams sees their people; admins, and a lead of the whole floor, everyone.
    own_teams = [] if may_edit else teams_of.get(principal.username, [])
    people = [p for p in everyone if not own_teams or p.username == principal.username
              or set(teams_of.get(p.username, ())) & set(own_teams)]
    done = DONE_MESSAGES.get(request.query_params.get("done", ""))
    return render(request, "users.html", status_code=status_code, people=people, invited=invited, roles=ROLES,
                  teams_of=teams_of, own_teams=own_teams, may_edit=may_edit,
                  done=i18n.gettext(done) if done else None, **shown)


@router.get("/admin/users")
async def list_users(request: Request, ctx: Ctx, user: LeadPage):
    return await users_page(request, ctx, user)


@router.post("/admin/users/invite")
async def invite(request: Request, ctx: Ctx, user: AdminPage, username: Annotated[str, Form()],
                 user_role: Annotated[str, Form(alias="role")], display_name: Annotated[str, Form()] = ""):
    try:
        url = await admin.invite(ctx, user.username, username, user_role, display_name)
    except AuthError as exc:
        return await users_page(request, ctx, user, status_code=422, error=i18n.gettext(str(exc)))
    return await users_page(request, ctx, user, link=url, link_for=username.strip(), link_kind=links.INVITE)


async def _username(ctx, user_id: int) -> str:
    async with ctx.db.read() as session:
        found = await session.get(User, user_id)
    if found is None:
        raise AuthError("no such user")
    return found.username


async def _act(request: Request, ctx, user: Principal, user_id: int, operation, *args, done: str):
    try:
        await operation(ctx, user.username, await _username(ctx, user_id), *args)
    except AuthError as exc:
        return await users_page(request, ctx, user, status_code=422, error=i18n.gettext(str(exc)))
    return RedirectResponse(f"/admin/users?done={done}", status_code=303)


@router.post("/admin/users/{user_id}/role")
async def change_role(request: Request, ctx: Ctx, user: AdminPage, user_id: RowId,
                      new_role: Annotated[str, Form(alias="role")]):
    return await _act(request, ctx, user, user_id, admin.set_role, new_role, done="role")


@router.post("/admin/users/{user_id}/approval")
async def set_approval(request: Request, ctx: Ctx, user: AdminPage, user_id: RowId,
                       needed: Annotated[str, Form()] = ""):
    on = needed == "on"
    return await _act(request, ctx, user, user_id, admin.set_approval, on, done="approval-on" if on else "approval-off")


@router.post("/admin/users/{user_id}/disable")
async def disable(request: Request, ctx: Ctx, user: AdminPage, user_id: RowId):
    return await _act(request, ctx, user, user_id, admin.disable, done="disabled")


@router.post("/admin/users/{user_id}/enable")
async def enable(request: Request, ctx: Ctx, user: AdminPage, user_id: RowId):
    return await _act(request, ctx, user, user_id, admin.enable, done="enabled")


@router.post("/admin/users/{user_id}/reset-2fa")
async def reset_two_factor(request: Request, ctx: Ctx, user: AdminPage, user_id: RowId):
    return await _act(request, ctx, user, user_id, admin.reset_two_factor, done="2fa-reset")


@router.post("/admin/users/{user_id}/reset-link")
async def reset_link(request: Request, ctx: Ctx, user: AdminPage, user_id: RowId):
    try:
        username = await _username(ctx, user_id)
        url = await admin.reset_link(ctx, user.username, username)
    except AuthError as exc:
        return await users_page(request, ctx, user, status_code=422, error=i18n.gettext(str(exc)))
    return await users_page(request, ctx, user, link=url, link_for=username, link_kind=links.RESET)


def _link_page(request: Request, token: str, link_user: User, purpose: str, status_code: int = 200, **shown):
    return render(request, "set_password.html", status_code=status_code, token=token, who=link_user,
                  purpose=purpose, min_length=passwords.MIN_PASSWORD_LENGTH, **shown)


@router.get("/set-password/{token}")
async def link_page(request: Request, ctx: Ctx, token: str):
    i18n.set_language(i18n.choose_language(None, request.headers.get("accept-language")))
    async with ctx.db.read() as session:
        link, link_user = await links.open_link(session, token, ctx.now())
    return _link_page(request, token, link_user, link.purpose)


@router.post("/set-password/{token}")
async def set_password(request: Request, ctx: Ctx, token: str, new_password: Annotated[str, Form()],
                       repeat_password: Annotated[str, Form()]):
    """The link itself is the proof (a random secret only its recipient has), so no CSRF
    token: a forged form would have to know the link already."""
    i18n.set_language(i18n.choose_language(None, request.headers.get("accept-language")))
    async with ctx.db.read() as session:
        link, link_user = await links.open_link(session, token, ctx.now())
    error = None
    if new_password != repeat_password:
        error = i18n.gettext("The new passwords differ.")
    elif len(new_password) < passwords.MIN_PASSWORD_LENGTH:
        error = i18n.gettext("Use at least %(n)s characters.") % {"n": passwords.MIN_PASSWORD_LENGTH}
    if error:
        return _link_page(request, token, link_user, link.purpose, status_code=422, error=error)
    new_hash = await passwords.hash_password_off_loop(new_password)
    async with ctx.db.write() as session:
        changed = await links.use_link(session, token, new_hash, ctx.now())
        audit(session, changed.username, "password.set_by_link", None, ctx.now(), purpose=link.purpose)
    return RedirectResponse("/login?done=password", status_code=303)
