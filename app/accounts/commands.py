"""`webcare user …` and `webcare token …`: running accounts from the shell (app/accounts/admin.py
does the work, as for the users page)."""
from __future__ import annotations

import asyncio
import getpass
import sys

from app.core.config import ConfigError
from app.core.models import ROLES
from app.core.terminal import cli_actor, command_context


def _read_password(args) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Repeat password: "):
        raise ConfigError("the passwords differ")
    return first


def cmd_user_add(args) -> int:
    from app.accounts import users
    ctx = command_context()
    password = _read_password(args)

    async def run() -> None:
        async with ctx.db.write() as session:
            await users.create_user(session, args.username, password, args.role, display_name=args.name)
        await ctx.db.dispose()

    asyncio.run(run())
    print(f"user {args.username!r} added with role {args.role}")
    return 0


async def _with_user(ctx, username: str, action, audit_as: str | None = None, **detail):
    """`action(session, user)` in one write transaction; `audit_as`: the audit line it leaves."""
    from app.accounts import admin
    try:
        return await admin.act_on_user(ctx, cli_actor(), username, action, audit_as, **detail)
    finally:
        await ctx.db.dispose()


def _admin(ctx, operation, *args):
    """One of app/accounts/admin.py's operations, as the person at the shell."""
    async def run():
        try:
            return await operation(ctx, cli_actor(), *args)
        finally:
            await ctx.db.dispose()
    return asyncio.run(run())


def cmd_user_disable(args) -> int:
    from app.accounts import admin
    _admin(command_context(), admin.disable, args.username)
    print(f"user {args.username!r} deactivated: their sessions, API tokens and open event streams have ended")
    return 0


def cmd_user_enable(args) -> int:
    from app.accounts import admin
    _admin(command_context(), admin.enable, args.username)
    print(f"user {args.username!r} reactivated: they sign in afresh (old sessions and tokens stay revoked)")
    return 0


def cmd_user_set_role(args) -> int:
    from app.accounts import admin
    _admin(command_context(), admin.set_role, args.username, args.role)
    print(f"user {args.username!r} now has the role {args.role}")
    return 0


def cmd_user_set_approval(args) -> int:
    from app.accounts import admin
    _admin(command_context(), admin.set_approval, args.username, args.state == "on")
    print(f"replies by {args.username!r} " + ("wait for a lead's approval" if args.state == "on" else "go out at once"))
    return 0


def cmd_user_reset_2fa(args) -> int:
    from app.accounts import admin
    _admin(command_context(), admin.reset_two_factor, args.username)
    print(f"two-factor sign-in of {args.username!r} is reset: they sign in with their password and set it up again")
    return 0


def cmd_user_reset_link(args) -> int:
    from app.accounts import admin, links
    url = _admin(command_context(), admin.reset_link, args.username)
    hours = int(links.LIFETIME[links.RESET].total_seconds() // 3600)
    print(f"One-time link for {args.username!r} to set a new password (works once, for {hours} hours):",
          file=sys.stderr)
    print(url)
    return 0


def cmd_user_invite(args) -> int:
    from app.accounts import admin, links
    url = _admin(command_context(), admin.invite, args.username, args.role, args.name)
    days = links.LIFETIME[links.INVITE].days
    print(f"user {args.username!r} invited with role {args.role}; send them this one-time link to choose "
          f"a password (works once, for {days} days):", file=sys.stderr)
    print(url)
    return 0


def cmd_token_create(args) -> int:
    from app.accounts import tokens
    token = asyncio.run(_with_user(command_context(), args.username, lambda session, user: tokens.create_token(
        session, user, args.name, args.days)))
    print("New API token (shown once; send it as 'Authorization: Bearer <token>'):", file=sys.stderr)
    print(token)
    return 0


def cmd_token_revoke(args) -> int:
    from app.accounts import tokens
    count = asyncio.run(_with_user(command_context(), args.username,
                                   lambda session, user: tokens.revoke_tokens(session, user, args.prefix)))
    print(f"revoked {count} token(s) of {args.username!r}")
    return 0


def add_parsers(sub) -> None:
    user = sub.add_parser("user", help="manage users").add_subparsers(dest="user_command", required=True)
    add = user.add_parser("add", help="add a user")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--name", help="display name (initials sign replies)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.set_defaults(func=cmd_user_add)
    disable = user.add_parser("disable", help="deactivate a user: ends their sessions, tokens and open streams")
    disable.add_argument("username")
    disable.set_defaults(func=cmd_user_disable)
    enable = user.add_parser("enable", help="reactivate a user (old sessions and tokens stay revoked)")
    enable.add_argument("username")
    enable.set_defaults(func=cmd_user_enable)
    set_role = user.add_parser("set-role", help="change a user's role")
    set_role.add_argument("username")
    set_role.add_argument("role", choices=ROLES)
    set_role.set_defaults(func=cmd_user_set_role)
    set_approval = user.add_parser("set-approval", help="on: the user's replies wait for a lead's approval")
    set_approval.add_argument("username")
    set_approval.add_argument("state", choices=("on", "off"))
    set_approval.set_defaults(func=cmd_user_set_approval)
    reset = user.add_parser("reset-link", help="print a one-time link for a user to set a new password")
    reset.add_argument("username")
    reset.set_defaults(func=cmd_user_reset_link)
    reset_2fa = user.add_parser("reset-2fa", help="turn off a user's two-factor sign-in (a lost phone and codes)")
    reset_2fa.add_argument("username")
    reset_2fa.set_defaults(func=cmd_user_reset_2fa)
    invite = user.add_parser("invite", help="add a user who chooses their own password through a one-time link")
    invite.add_argument("username")
    invite.add_argument("--role", required=True, choices=ROLES)
    invite.add_argument("--name", help="display name (initials sign replies)")
    invite.set_defaults(func=cmd_user_invite)

    token = sub.add_parser("token", help="API tokens").add_subparsers(dest="token_command", required=True)
    create = token.add_parser("create", help="print a new API token for a user")
    create.add_argument("username")
    create.add_argument("--name", help="what the token is for")
    create.add_argument("--days", type=int, help="expires after this many days (default: until revoked)")
    create.set_defaults(func=cmd_token_create)
    revoke = token.add_parser("revoke", help="revoke a user's tokens")
    revoke.add_argument("username")
    revoke.add_argument("--prefix", help="only the token starting with this (see `token create` output)")
    revoke.set_defaults(func=cmd_token_revoke)
