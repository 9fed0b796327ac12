"""Alembic environment: async engine; on PostgreSQL an advisory lock so that several
processes starting at once apply each migration exactly once."""
import asyncio

from alembic import context
from sqlalchemy import pool, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel

from app.core import models  # noqa: F401  (registers the tables on SQLModel.metadata)
from app.mentions import queries  # noqa: F401  (and the queue's partial indexes, beside their rule)

MIGRATION_LOCK_ID = 0x57EBCA4E  # arbitrary, constant: "webcare"
target_metadata = SQLModel.metadata


def _url() -> str:
    return context.config.attributes.get("database_url") or context.config.get_main_option("sqlalchemy.url")


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    engine = create_async_engine(_url(), poolclass=pool.NullPool)
    async with engine.connect() as connection:
        postgres = connection.dialect.name == "postgresql"
        if postgres:
            await connection.execute(text(f"SELECT pg_advisory_lock({MIGRATION_LOCK_ID})"))
            await connection.commit()
        try:
            await connection.run_sync(_run)
            await connection.commit()
        finally:
            if postgres:
                await connection.execute(text(f"SELECT pg_advisory_unlock({MIGRATION_LOCK_ID})"))
                await connection.commit()
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_async())
