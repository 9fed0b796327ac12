"""privacy: mentions.purged_at marks rows whose texts and author data are gone; `erasures`
records that an erasure or a retention purge happened (when, by whom, how many items)

Revision ID: 0005_privacy
Revises: 0004_recheck_rotation
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.core.models

revision: str = "0005_privacy"
down_revision: str | None = "0004_recheck_rotation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # No index: the daily purge reads by posted_at, and an index here would cost every insert.
    op.add_column("mentions", sa.Column("purged_at", app.core.models.UTCDateTime(timezone=True), nullable=True))
    op.create_table(
        "erasures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", app.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_erasures_at", "erasures", ["at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_erasures_at", table_name="erasures")
    op.drop_table("erasures")
    op.drop_column("mentions", "purged_at")
