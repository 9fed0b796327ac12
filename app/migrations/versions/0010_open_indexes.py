"""partial indexes on waiting mentions: the queue's order (covering its counts) and the oldest
waiting post, so reading the queue does not grow with the mentions already handled

Revision ID: 0010_open_indexes
Revises: 0009_oidc
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_open_indexes"
down_revision: str | None = "0009_oidc"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As app/mentions/queries.py's waiting_inbound() renders it on each database (the planner
# matches a query's condition against this text).
WAITING = {"sqlite": "status IN ('open', 'claimed') AND direction = 'inbound' AND removed IS 0",
           "postgresql": "status IN ('open', 'claimed') AND direction = 'inbound' AND removed IS false"}
NOT_BACKFILL = {"sqlite": "backfill IS 0", "postgresql": "backfill IS false"}


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    where = {f"{dialect}_where": sa.text(WAITING[dialect])}
    op.create_index("ix_mentions_waiting_queue", "mentions",
                    ["due_minute", sa.text("urgency DESC"), "due_at", "id", "warning_at", "backfill",
                     "status", "direction", "removed"], **where)
    op.create_index("ix_mentions_waiting_posted", "mentions", ["posted_at"],
                    **{f"{dialect}_where": sa.text(f"{WAITING[dialect]} AND {NOT_BACKFILL[dialect]}")})


def downgrade() -> None:
    op.drop_index("ix_mentions_waiting_posted", table_name="mentions")
    op.drop_index("ix_mentions_waiting_queue", table_name="mentions")
