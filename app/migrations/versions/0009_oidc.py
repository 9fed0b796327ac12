"""single sign-on: users.oidc_subject (the provider's name for the person) and oidc_teams;
oidc_logins holds each sign-in under way (state, nonce, PKCE verifier) until its callback

Revision ID: 0009_oidc
Revises: 0008_account_admin
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.core.models

revision: str = "0009_oidc"
down_revision: str | None = "0008_account_admin"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("users", sa.Column("oidc_subject", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    op.add_column("users", sa.Column("oidc_teams", sa.JSON(), nullable=True))
    op.create_index("ix_users_oidc_subject", "users", ["oidc_subject"], unique=True)
    op.create_table(
        "oidc_logins",
        sa.Column("state_hash", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("nonce", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("code_verifier", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("next_url", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("expires_at", app.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("state_hash"),
    )
    op.create_index("ix_oidc_logins_expires_at", "oidc_logins", ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_oidc_logins_expires_at", table_name="oidc_logins")
    op.drop_table("oidc_logins")
    op.drop_index("ix_users_oidc_subject", table_name="users")
    op.drop_column("users", "oidc_teams")
    op.drop_column("users", "oidc_subject")
