"""Reply approval: a user flag "replies need approval" and the queue of replies waiting for a
lead (app/approvals/).

Revision ID: 0014_approval
Revises: 0013_teams
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from app.core.models import UTCDateTime

revision: str = "0014_approval"
down_revision: str | None = "0013_teams"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("replies_need_approval", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    op.create_table(
        "reply_approvals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mention_id", sa.Integer(), nullable=False),
        sa.Column("author", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("post", sa.Boolean(), nullable=False),
        sa.Column("elsewhere_url", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("decided_by", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("decided_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("sent_text", sa.Text(), nullable=True),
        sa.Column("reply_id", sa.Integer(), nullable=True),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.ForeignKeyConstraint(["mention_id"], ["mentions.id"]),
        sa.ForeignKeyConstraint(["reply_id"], ["replies.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_reply_approvals_mention_id", "reply_approvals", ["mention_id"], unique=False)
    op.create_index("ix_reply_approvals_state", "reply_approvals", ["state", "created_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_reply_approvals_state", table_name="reply_approvals")
    op.drop_index("ix_reply_approvals_mention_id", table_name="reply_approvals")
    op.drop_table("reply_approvals")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("replies_need_approval")
