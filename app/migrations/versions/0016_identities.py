"""presence (who has a mention open, who is typing) and identity_links (one person's handles
across channels)

Revision ID: 0016_identities
Revises: 0015_work_sharing
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.core.models

revision: str = "0016_identities"
down_revision: str | None = "0015_work_sharing"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "presence",
        sa.Column("mention_id", sa.Integer(), nullable=False),
        sa.Column("username", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("seen_at", app.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("typing_until", app.core.models.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("mention_id", "username"),
    )
    op.create_index("ix_presence_seen_at", "presence", ["seen_at"], unique=False)
    op.create_table(
        "identity_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("author", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_at", app.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("channel", "author", name="uq_identity_links_channel_author"),
    )
    op.create_index("ix_identity_links_person_id", "identity_links", ["person_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_identity_links_person_id", table_name="identity_links")
    op.drop_table("identity_links")
    op.drop_index("ix_presence_seen_at", table_name="presence")
    op.drop_table("presence")
