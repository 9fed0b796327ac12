"""The migrations build exactly the tables the models declare, so a column or index added to
a model without a migration (or the other way round) fails here, not on a user's upgrade."""
from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import app.core.models
import app.mentions.queries  # noqa: F401  (the queue's partial indexes, declared beside their rule)
from app.core.migrate import upgrade


def test_migrations_match_the_models(tmp_path):
    path = tmp_path / "schema.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    engine.dispose()
    assert diff == [], "models and migrations differ; add a migration:\n" + "\n".join(map(str, diff))
