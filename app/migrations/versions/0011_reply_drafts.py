"""reply_drafts: what each responder is writing to a mention, autosaved

Revision ID: 0011_reply_drafts
Revises: 0010_open_indexes
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.core.models

revision: str = "0011_reply_drafts"
down_revision: str | None = "0010_open_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reply_drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("mention_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("tone", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("updated_at", app.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["mention_id"], ["mentions.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "mention_id", name="uq_reply_drafts_user_mention"),
    )
    op.create_index("ix_reply_drafts_mention_id", "reply_drafts", ["mention_id"], unique=False)
    op.create_index("ix_reply_drafts_user_id", "reply_drafts", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_reply_drafts_user_id", table_name="reply_drafts")
    op.drop_index("ix_reply_drafts_mention_id", table_name="reply_drafts")
    op.drop_table("reply_drafts")
