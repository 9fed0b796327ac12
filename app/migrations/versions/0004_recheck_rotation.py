"""source_state: the re-check rotation lives in the database, shared by all workers

Revision ID: 0004_recheck_rotation
Revises: 0003_drop_reports_index
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.core.models

revision: str = "0004_recheck_rotation"
down_revision: str | None = "0003_drop_reports_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Kept per process before, so N workers taking turns at a source's lease re-checked N
    # times per interval and each restarted the rotation at the first post.
    op.add_column("source_state", sa.Column("recheck_next_at", app.core.models.UTCDateTime(timezone=True),
                                            nullable=True))
    op.add_column("source_state", sa.Column("recheck_after_id", sa.Integer(), nullable=False,
                                            server_default="0"))


def downgrade() -> None:
    op.drop_column("source_state", "recheck_after_id")
    op.drop_column("source_state", "recheck_next_at")
