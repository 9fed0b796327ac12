"""teams: a mention's team and assignee (routing at ingest), users' availability, and the
teams, members and routing rules made in the admin UI

Revision ID: 0013_teams
Revises: 0012_streaming
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from app.core.models import UTCDateTime

revision: str = "0013_teams"
down_revision: str | None = "0012_streaming"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

String = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    with op.batch_alter_table("mentions") as batch:
        batch.add_column(sa.Column("team", String(), nullable=True))
        batch.add_column(sa.Column("assigned_to", String(), nullable=True))
    op.create_index("ix_mentions_team", "mentions", ["team"], unique=False)
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("availability", String(), nullable=False, server_default="available"))
        batch.add_column(sa.Column("last_active_at", UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("last_assigned_at", UTCDateTime(timezone=True), nullable=True))
    op.create_table(
        "teams",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", String(), nullable=False),
        sa.Column("created_by", String(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_teams_name", "teams", ["name"], unique=True)
    op.create_table(
        "team_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team", String(), nullable=False),
        sa.Column("username", String(), nullable=False),
        sa.Column("created_by", String(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("team", "username", name="uq_team_members_team_username"),
    )
    op.create_index("ix_team_members_team", "team_members", ["team"], unique=False)
    op.create_index("ix_team_members_username", "team_members", ["username"], unique=False)
    op.create_table(
        "routing_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("rule", sa.JSON(), nullable=False),
        sa.Column("created_by", String(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_routing_rules_position", "routing_rules", ["position"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_routing_rules_position", table_name="routing_rules")
    op.drop_table("routing_rules")
    op.drop_index("ix_team_members_username", table_name="team_members")
    op.drop_index("ix_team_members_team", table_name="team_members")
    op.drop_table("team_members")
    op.drop_index("ix_teams_name", table_name="teams")
    op.drop_table("teams")
    with op.batch_alter_table("users") as batch:
        for column in ("last_assigned_at", "last_active_at", "availability"):
            batch.drop_column(column)
    op.drop_index("ix_mentions_team", table_name="mentions")
    with op.batch_alter_table("mentions") as batch:
        batch.drop_column("assigned_to")
        batch.drop_column("team")
