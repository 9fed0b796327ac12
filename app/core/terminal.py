"""What every `webcare` command starts from: its context (settings, config, database) and who
is at the shell (the actor the audit trail names)."""
from __future__ import annotations

import getpass
import os

from app.core import logs
from app.core.config import ConfigError, Settings, SourceConfig, address_problems, load_config
from app.core.lean import limit_arenas
from app.core.secrets import configured_secrets, missing_environment
from app.core.sources import DEMO
from app.craft import language


def cli_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no name for this uid (a container)
        return "cli"


def command_context(*, demo: bool = False, running: bool = False):
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
    pool = config.database
    db = Database(settings.resolved_database_url(), pool_size=pool.pool_size, max_overflow=pool.max_overflow,
                  pool_timeout=pool.pool_timeout_seconds)
    ctx = AppContext(settings=settings, config=config, db=db,
                     secret_key=settings.resolved_secret_key(), demo=demo)
    if demo and not any(s.kind == DEMO for s in config.sources):
        ctx.extra_sources.append(SourceConfig(name="demo", kind=DEMO))
    logs.redactor.add(configured_secrets(config, ctx.secret_key, ctx.db.url))
    return ctx
