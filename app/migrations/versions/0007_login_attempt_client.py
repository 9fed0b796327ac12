"""login_attempts.client: the client address alone, so failures are limited per address
whatever the username

Revision ID: 0007_login_attempt_client
Revises: 0006_source_error_kind
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0007_login_attempt_client"
down_revision: str | None = "0006_source_error_kind"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("login_attempts", sa.Column("client", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    op.create_index("ix_login_attempts_client", "login_attempts", ["client"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_login_attempts_client", table_name="login_attempts")
    op.drop_column("login_attempts", "client")
