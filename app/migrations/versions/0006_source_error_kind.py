"""source_state.last_error_kind: what kind of failure the last poll had; people read plain words
derived from it, and only admins the recorded detail (app/intake/problems.py)

Revision ID: 0006_source_error_kind
Revises: 0005_privacy
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0006_source_error_kind"
down_revision: str | None = "0005_privacy"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Rows failing before this have no kind; they read "the last poll failed" until the next poll.
    op.add_column("source_state", sa.Column("last_error_kind", sqlmodel.sql.sqltypes.AutoString(), nullable=True))


def downgrade() -> None:
    op.drop_column("source_state", "last_error_kind")
