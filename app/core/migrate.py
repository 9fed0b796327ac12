"""Apply Alembic migrations programmatically (used by `webcare migrate`, `serve` and tests)."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig

from app.core.db import create_private_sqlite_file

MIGRATIONS = Path(__file__).parent.parent / "migrations"


def alembic_config(database_url: str) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["database_url"] = database_url
    return cfg


def upgrade(database_url: str, revision: str = "head") -> None:
    """Blocking: call it before the event loop starts, or through asyncio.to_thread."""
    create_private_sqlite_file(database_url)
    command.upgrade(alembic_config(database_url), revision)
