"""Work sharing: a chat hook's rate limit kept in its sink_state row, so every worker takes
from one token bucket (app/alerts/ratelimit.py).

Revision ID: 0015_work_sharing
Revises: 0014_approval
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.core.models import UTCDateTime

revision: str = "0015_work_sharing"
down_revision: str | None = "0014_approval"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sink_state") as batch:
        batch.add_column(sa.Column("rate_tokens", sa.Float(), nullable=True))
        batch.add_column(sa.Column("rate_updated_at", UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sink_state") as batch:
        batch.drop_column("rate_updated_at")
        batch.drop_column("rate_tokens")
