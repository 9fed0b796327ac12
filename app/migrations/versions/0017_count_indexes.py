"""indexes for the dashboard's counts: the waiting index also holds claimed_by and team (the
"Mine", "Unassigned" and team tabs), a partial index on answered inbound mentions by answered_at
("Answered today"), and one on the languages of inbound mentions (the filter's choices), so
none of them reads the mentions already handled

Revision ID: 0017_count_indexes
Revises: 0016_identities
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_count_indexes"
down_revision: str | None = "0016_identities"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As app/mentions/queries.py's conditions render on each database (the planner matches a
# query's condition against this text); WAITING as in 0010.
FALSE = {"sqlite": "0", "postgresql": "false"}
WAITING = "status IN ('open', 'claimed') AND direction = 'inbound' AND removed IS {false}"
ANSWERED = "status = 'answered' AND direction = 'inbound'"
INBOUND = "direction = 'inbound'"
QUEUE = ["due_minute", sa.text("urgency DESC"), "due_at", "id", "warning_at", "backfill", "status", "direction",
         "removed"]


def _where(dialect: str, condition: str) -> dict:
    return {f"{dialect}_where": sa.text(condition.format(false=FALSE[dialect]))}


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.drop_index("ix_mentions_waiting_queue", table_name="mentions")
    op.create_index("ix_mentions_waiting_queue", "mentions", [*QUEUE, "claimed_by", "team"],
                    **_where(dialect, WAITING))
    op.create_index("ix_mentions_answered", "mentions", ["answered_at", "status", "direction", "answered_by", "team"],
                    **_where(dialect, ANSWERED))
    op.create_index("ix_mentions_inbound_language", "mentions", ["language"], **_where(dialect, INBOUND))


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.drop_index("ix_mentions_inbound_language", table_name="mentions")
    op.drop_index("ix_mentions_answered", table_name="mentions")
    op.drop_index("ix_mentions_waiting_queue", table_name="mentions")
    op.create_index("ix_mentions_waiting_queue", "mentions", QUEUE, **_where(dialect, WAITING))
