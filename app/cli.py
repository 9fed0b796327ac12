"""The `webcare` command: serve, worker, migrate, user add/invite/disable/enable/set-role/reset-link/reset-2fa, token
create/revoke, erase and export (README, "Running it for real" and "Privacy and security")."""
from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import logging
import os
import secrets
import signal
import sys

from app.core import logs
from app.core.config import (
    ConfigError,
    Settings,
    SourceConfig,
    address_problems,
    load_config,
)
from app.core.lean import limit_arenas, migrate_in_child
from app.core.models import ROLES
from app.core.secrets import configured_secrets, missing_environment
from app.core.sources import DEMO
from app.craft import language

log = logging.getLogger("webcare")
DEMO_USER = "demo"


def _context(*, demo: bool = False, running: bool = False):
    """The process's context. `running`: a server or worker, which also needs every secret
    the configuration names to be in the environment."""
    from app.core.context import AppContext
    from app.core.db import Database

    settings = Settings()
    config = load_config(settings.config_path())
    try:
        _ = config.sla_policy  # opening hours and holidays are checked now, not at the first mention
    except ValueError as exc:
        raise ConfigError(f"{settings.config_path()}: [sla]: {exc}") from None
    if running and (missing := missing_environment(config)):
        raise ConfigError(f"{settings.config_path()}: the environment lacks what the configuration names\n"
                          + "\n".join(f"  {line}" for line in missing))
    if running and (refused := address_problems(config, os.environ)):
        raise ConfigError(f"{settings.config_path()}: a chat hook's address is not allowed\n"
                          + "\n".join(f"  {line}" for line in refused))
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if running:
        limit_arenas()
        # The language model's big tables are read from files there, not held in memory.
        language.use_model_cache(settings.data_dir / "cache")
    ctx = AppContext(settings=settings, config=config, db=Database(settings.resolved_database_url()),
                     secret_key=settings.resolved_secret_key(), demo=demo)
    if demo and not any(s.kind == DEMO for s in config.sources):
        ctx.extra_sources.append(SourceConfig(name="demo", kind=DEMO))
    logs.redactor.add(configured_secrets(config, ctx.secret_key, ctx.db.url))
    return ctx


def _migrate(ctx) -> None:
    from app.core.migrate import upgrade

    upgrade(ctx.db.url)


async def _ensure_demo_login(ctx) -> str:
    """A `demo` admin with a fresh password each start, printed for the person trying it out."""
    from app.accounts import passwords, users
    password = secrets.token_urlsafe(12)
    async with ctx.db.write() as session:
        user = await users.user_by_name(session, DEMO_USER)
        if user is None:
            await users.create_user(session, DEMO_USER, password, "admin", display_name="Demo User")
        else:
            user.password_hash = passwords.hash_password(password)
    await ctx.db.dispose()
    return password


def cmd_serve(args) -> int:
    import uvicorn

    from app.main import create_app

    ctx = _context(demo=args.demo, running=True)
    if not args.no_migrate:
        migrate_in_child()
    if args.demo:
        password = asyncio.run(_ensure_demo_login(ctx))
        url = f"http://{'127.0.0.1' if args.host in ('0.0.0.0', '::') else args.host}:{args.port}/"
        print(f"\n  Webcare Monitor demo: open {url}\n  Log in as '{DEMO_USER}' with password '{password}'\n",
              flush=True)
    app = create_app(ctx, run_worker=not args.no_worker)
    # Open event streams never end on their own: give them a few seconds on shutdown.
    uvicorn.run(app, host=args.host, port=args.port, log_config=None, timeout_graceful_shutdown=5,
                **proxy_options(ctx.config))
    return 0


def proxy_options(config) -> dict:
    """uvicorn believes X-Forwarded-For and -Proto only from `[app] trusted_proxies`; its own
    default would trust 127.0.0.1, where any local client could then choose its address."""
    trusted = list(config.app.trusted_proxies)
    return {"proxy_headers": bool(trusted), "forwarded_allow_ips": trusted}


def cmd_worker(args) -> int:
    from app.intake.worker import Worker

    ctx = _context(running=True)
    if not args.no_migrate:
        migrate_in_child()

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await Worker(ctx).run_forever(stop)
        finally:
            await ctx.close()

    log.info("worker started")
    asyncio.run(run())
    return 0


def cmd_migrate(args) -> int:
    _migrate(_context())
    print("database is up to date")
    return 0


def _read_password(args) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Repeat password: "):
        raise ConfigError("the passwords differ")
    return first


def cmd_user_add(args) -> int:
    from app.accounts import users
    ctx = _context()
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
        return await admin.act_on_user(ctx, _cli_actor(), username, action, audit_as, **detail)
    finally:
        await ctx.db.dispose()


def _admin(ctx, operation, *args):
    """One of app/accounts/admin.py's operations, as the person at the shell."""
    async def run():
        try:
            return await operation(ctx, _cli_actor(), *args)
        finally:
            await ctx.db.dispose()
    return asyncio.run(run())


def cmd_user_disable(args) -> int:
    from app.accounts import admin
    _admin(_context(), admin.disable, args.username)
    print(f"user {args.username!r} deactivated: their sessions, API tokens and open event streams have ended")
    return 0


def cmd_user_enable(args) -> int:
    from app.accounts import admin
    _admin(_context(), admin.enable, args.username)
    print(f"user {args.username!r} reactivated: they sign in afresh (old sessions and tokens stay revoked)")
    return 0


def cmd_user_set_role(args) -> int:
    from app.accounts import admin
    _admin(_context(), admin.set_role, args.username, args.role)
    print(f"user {args.username!r} now has the role {args.role}")
    return 0


def cmd_user_reset_2fa(args) -> int:
    from app.accounts import admin
    _admin(_context(), admin.reset_two_factor, args.username)
    print(f"two-factor sign-in of {args.username!r} is reset: they sign in with their password and set it up again")
    return 0


def cmd_user_reset_link(args) -> int:
    from app.accounts import admin, links
    url = _admin(_context(), admin.reset_link, args.username)
    hours = int(links.LIFETIME[links.RESET].total_seconds() // 3600)
    print(f"One-time link for {args.username!r} to set a new password (works once, for {hours} hours):",
          file=sys.stderr)
    print(url)
    return 0


def cmd_user_invite(args) -> int:
    from app.accounts import admin, links
    url = _admin(_context(), admin.invite, args.username, args.role, args.name)
    days = links.LIFETIME[links.INVITE].days
    print(f"user {args.username!r} invited with role {args.role}; send them this one-time link to choose "
          f"a password (works once, for {days} days):", file=sys.stderr)
    print(url)
    return 0


def cmd_token_create(args) -> int:
    from app.accounts import tokens
    token = asyncio.run(_with_user(_context(), args.username, lambda session, user: tokens.create_token(
        session, user, args.name, args.days)))
    print("New API token (shown once; send it as 'Authorization: Bearer <token>'):", file=sys.stderr)
    print(token)
    return 0


def cmd_token_revoke(args) -> int:
    from app.accounts import tokens
    count = asyncio.run(_with_user(_context(), args.username,
                                   lambda session, user: tokens.revoke_tokens(session, user, args.prefix)))
    print(f"revoked {count} token(s) of {args.username!r}")
    return 0


def _cli_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no name for this uid (a container)
        return "cli"


def _describe_counts(counts) -> str:
    names = {"follow_ups": "follow-ups", "audit": "audit entries"}
    return ", ".join(f"{n} {names.get(name, name)}" for name, n in counts.as_dict().items())


def cmd_erase(args) -> int:
    from app.privacy import erasure, service

    ctx = _context()
    person = erasure.Person(args.author, args.channel)

    async def run() -> int:
        try:
            found = await erasure.preview(ctx.db, person)
            scope = f" in {person.channel}" if person.channel else ""
            print(f"Held about {args.author!r}{scope}: {_describe_counts(found)}")
            if not found.mentions:
                return 0
            if not args.yes:
                answer = await asyncio.to_thread(input, "Erase all of it? This cannot be undone. [y/N] ")
                if answer.strip().lower() not in ("y", "yes"):
                    print("nothing erased")
                    return 1
            counts = await service.erase_person(ctx, person, _cli_actor())
            print(f"erased {counts.items} items: {_describe_counts(counts)}")
            return 0
        finally:
            await ctx.close()

    try:
        return asyncio.run(run())
    except EOFError:  # no terminal to ask, and no --yes
        print("webcare: not confirmed (use --yes to erase without asking)", file=sys.stderr)
        return 1


def cmd_export(args) -> int:
    from app.privacy import erasure, service

    ctx = _context()

    async def run() -> dict:
        try:
            return await service.export_for(ctx, erasure.Person(args.author, args.channel), _cli_actor())
        finally:
            await ctx.close()

    json.dump(asyncio.run(run()), sys.stdout, ensure_ascii=False, indent=2)
    print()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="webcare", description="Webcare Monitor")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="web app with the in-process worker")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--demo", action="store_true", help="add a labelled demo source and print a login")
    serve.add_argument("--no-worker", action="store_true", help="web only; run `webcare worker` elsewhere")
    serve.add_argument("--no-migrate", action="store_true")
    serve.set_defaults(func=cmd_serve)

    worker = sub.add_parser("worker", help="connectors, alerts and timers only")
    worker.add_argument("--no-migrate", action="store_true")
    worker.set_defaults(func=cmd_worker)

    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)

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

    erase = sub.add_parser("erase", help="erase everything held about one person (GDPR erasure)")
    erase.add_argument("--author", required=True, help="their handle, as shown on a mention")
    erase.add_argument("--channel", help="only in this channel (default: every channel)")
    erase.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    erase.set_defaults(func=cmd_erase)
    export = sub.add_parser("export", help="everything held about one person, as JSON (GDPR access request)")
    export.add_argument("--author", required=True, help="their handle, as shown on a mention")
    export.add_argument("--channel", help="only in this channel (default: every channel)")
    export.set_defaults(func=cmd_export)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = Settings()
    logs.setup_logging(settings.log_level, settings.log_format)
    try:
        return args.func(args)
    except ConfigError as exc:
        print(f"webcare: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        from app.accounts.principal import AuthError
        from app.privacy.erasure import ErasureError

        if isinstance(exc, AuthError | ErasureError):
            print(f"webcare: {exc}", file=sys.stderr)
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main())
