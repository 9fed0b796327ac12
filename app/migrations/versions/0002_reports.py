"""reports: find open and dismissed mentions of a period without reading the answered ones

Revision ID: 0002_reports
Revises: 0001
"""
from collections.abc import Sequence

from alembic import op

revision: str = "0002_reports"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The SLA report reads open/claimed/dismissed rows of a period (a small share) by status,
    # then posted_at; the existing (status, due_at) index cannot narrow by posting time.
    op.create_index("ix_mentions_status_posted", "mentions", ["status", "posted_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_mentions_status_posted", table_name="mentions")
