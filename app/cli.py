"""The `webcare` command: serve, worker, migrate, user, token, erase, export (see the README)."""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import secrets
import signal
import sys

from app.accounts import commands as account_commands
from app.core import logs
from app.core.config import (
    ConfigError,
    Settings,
)
from app.core.lean import migrate_in_child
from app.core.terminal import cli_actor, command_context

log = logging.getLogger("webcare")
DEMO_USER = "demo"


def _migrate(ctx) -> None:
    from app.core.migrate import upgrade

    upgrade(ctx.db.url)


async def _ensure_demo_login(ctx) -> str:
    """A `demo` admin with a fresh password each start, printed for the person trying it out."""
    from app.accounts import passwords, users
    from app.intake.demo_team import make_colleagues
    password = secrets.token_urlsafe(12)
    async with ctx.db.write() as session:
        user = await users.user_by_name(session, DEMO_USER)
        if user is None:
            await users.create_user(session, DEMO_USER, password, "admin", display_name="Demo User")
        else:
            user.password_hash = passwords.hash_password(password)
    await make_colleagues(ctx)  # the simulated team the demo shows at work
    await ctx.db.dispose()
    return password


def cmd_serve(args) -> int:
    import uvicorn

    from app.main import create_app

    ctx = command_context(demo=args.demo, running=True)
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

    ctx = command_context(running=True)
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
    _migrate(command_context())
    print("database is up to date")
    return 0


def _describe_counts(counts) -> str:
    names = {"follow_ups": "follow-ups", "audit": "audit entries"}
    return ", ".join(f"{n} {names.get(name, name)}" for name, n in counts.as_dict().items())


def cmd_erase(args) -> int:
    from app.privacy import erasure, service

    ctx = command_context()
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
            counts = await service.erase_person(ctx, person, cli_actor())
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

    ctx = command_context()

    async def run() -> dict:
        try:
            return await service.export_for(ctx, erasure.Person(args.author, args.channel), cli_actor())
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

    account_commands.add_parsers(sub)

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
