"""What an admin does to someone's account, from the browser or the `webcare user` command:
invite, change role, have replies approved, deactivate, reactivate, send a password reset link, reset two-factor
sign-in (a lost phone and lost recovery codes). Each leaves an audit line; nobody can do the
last three of those to themselves (no locking yourself out, no skipping your own code)."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts import links, passwords, twofactor, users
from app.accounts.principal import AuthError
from app.core.context import AppContext
from app.core.i18n import N_
from app.core.models import User
from app.mentions.actions import audit

T = TypeVar("T")
NOT_ON_YOURSELF = {"user.disable", "user.set_role", "user.reset_2fa"}


async def act_on_user(ctx: AppContext, actor: str, username: str, action: Callable[[AsyncSession, User], Awaitable[T]],
                      audit_as: str | None = None, **detail) -> T:
    """`action(session, user)` in one write transaction, with its audit line."""
    async with ctx.db.write() as session:
        user = await users.user_by_name(session, username)
        if user is None:
            raise AuthError(f"no user named {username!r}")
        if audit_as in NOT_ON_YOURSELF and user.username == actor:
            raise AuthError(N_("You cannot do this to your own account. Ask another admin."))
        result = await action(session, user)
        if audit_as:
            audit(session, actor, audit_as, None, ctx.now(), user=user.username, **detail)
        return result


async def disable(ctx: AppContext, actor: str, username: str) -> None:
    await act_on_user(ctx, actor, username, lambda session, user: users.disable_user(session, user, ctx.now()),
                      "user.disable")


async def enable(ctx: AppContext, actor: str, username: str) -> None:
    async def run(_session, user) -> None:
        users.enable_user(user)
    await act_on_user(ctx, actor, username, run, "user.enable")


async def set_role(ctx: AppContext, actor: str, username: str, role: str) -> None:
    async def run(_session, user) -> None:
        users.set_role(user, role)
    await act_on_user(ctx, actor, username, run, "user.set_role", role=role)


async def set_approval(ctx: AppContext, actor: str, username: str, needed: bool) -> None:
    """Whether their replies wait for a lead (app/approvals/). Replies already waiting stay waiting."""
    async def run(_session, user) -> None:
        user.replies_need_approval = needed
    await act_on_user(ctx, actor, username, run, "user.set_approval", needed=needed)


async def reset_link(ctx: AppContext, actor: str, username: str) -> str:
    """A one-time link for the user to set a new password (their earlier links stop working)."""
    async def run(session, user) -> str:
        if user.disabled:
            raise AuthError(f"{username!r} is deactivated; reactivate them first")
        return await links.issue(session, user, links.RESET, actor, ctx.now())
    token = await act_on_user(ctx, actor, username, run, "user.reset_link")
    return links.link_url(ctx.config.app.public_url, token)


async def invite(ctx: AppContext, actor: str, username: str, role: str, display_name: str | None = None) -> str:
    """A new user and the one-time link with which they choose their password."""
    unusable = await passwords.hash_password_off_loop(passwords.random_password())
    now = ctx.now()
    async with ctx.db.write() as session:
        user = await users.add_user_row(session, username, unusable, role, display_name)
        token = await links.issue(session, user, links.INVITE, actor, now)
        audit(session, actor, "user.invite", None, now, user=user.username, role=role)
    return links.link_url(ctx.config.app.public_url, token)


async def reset_two_factor(ctx: AppContext, actor: str, username: str) -> None:
    """Their authenticator and recovery codes stop counting; they sign in with the password
    and set it up again (at once, if their role requires it)."""
    await act_on_user(ctx, actor, username, lambda session, user: twofactor.turn_off(session, user),
                      "user.reset_2fa")
