"""drop ix_mentions_status_posted: reports now scan a period by posted_at in one pass

Revision ID: 0003_drop_reports_index
Revises: 0002_reports
"""
from collections.abc import Sequence

from alembic import op

revision: str = "0003_drop_reports_index"
down_revision: str | None = "0002_reports"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # No query reads it any more, and every ingested mention paid for keeping it up to date.
    op.drop_index("ix_mentions_status_posted", table_name="mentions")


def downgrade() -> None:
    op.create_index("ix_mentions_status_posted", "mentions", ["status", "posted_at"], unique=False)
