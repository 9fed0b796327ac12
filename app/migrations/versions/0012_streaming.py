"""Streaming sources (app/intake/streamer.py): a lease so one worker holds a source's stream,
when it was last known alive, and why it last broke; and an index for intake latency per
source (posted → stored over the last hour, app/intake/latency.py).

Revision ID: 0012_streaming
Revises: 0011_reply_drafts
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from app.core.models import UTCDateTime

revision: str = "0012_streaming"
down_revision: str | None = "0011_reply_drafts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("source_state") as batch:
        batch.add_column(sa.Column("stream_owner", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch.add_column(sa.Column("stream_until", UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("stream_seen_at", UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("stream_error", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    op.create_index("ix_mentions_source_fetched", "mentions", ["source", "fetched_at"])


def downgrade() -> None:
    op.drop_index("ix_mentions_source_fetched", table_name="mentions")
    with op.batch_alter_table("source_state") as batch:
        for column in ("stream_error", "stream_seen_at", "stream_until", "stream_owner"):
            batch.drop_column(column)
