"""conversation facts carry the conversation's assignee, inbox, team and status

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23

Support timing filters and groups facts by the conversation's assignee, inbox, team and status. Joining
``conversations`` for them cost one primary-key lookup per conversation, more than the rest of the query on
SQLite; the facts job now copies them whenever it computes a row (a conversation re-synced with a new assignee
is recomputed). Existing rows are filled from their conversation here; ``inbox_id`` and ``status`` are NOT NULL
as in ``conversations``.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# column, referenced table, on delete
REFERENCES = (
    ("assignee_agent_id", "agents", "SET NULL"),
    ("inbox_id", "inboxes", "CASCADE"),
    ("team_id", "teams", "SET NULL"),
)
STATUS_CHECK = "status IN ('open', 'resolved', 'pending', 'snoozed')"
BACKFILL = """
UPDATE conversation_facts AS f
SET assignee_agent_id = c.assignee_agent_id, inbox_id = c.inbox_id, team_id = c.team_id, status = c.status
FROM conversations AS c
WHERE c.id = f.conversation_id
"""


def upgrade() -> None:
    with op.batch_alter_table("conversation_facts", schema=None) as batch_op:
        for column, _, _ in REFERENCES:
            batch_op.add_column(sa.Column(column, sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("status", sa.String(length=16), nullable=True))
    if op.get_bind().dialect.name == "postgresql":  # row-level security is forced, on the owner too
        op.execute("SELECT set_config('app.platform', 'on', true)")
    op.execute(BACKFILL)  # UPDATE ... FROM: PostgreSQL, and SQLite since 3.33
    with op.batch_alter_table("conversation_facts", schema=None) as batch_op:
        batch_op.alter_column("inbox_id", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("status", existing_type=sa.String(length=16), nullable=False)
        batch_op.create_check_constraint(op.f("ck_conversation_facts_status"), sa.text(STATUS_CHECK))
        for column, table, on_delete in REFERENCES:
            batch_op.create_foreign_key(
                op.f(f"fk_conversation_facts_{column}_{table}"), table, [column], ["id"], ondelete=on_delete
            )


def downgrade() -> None:
    with op.batch_alter_table("conversation_facts", schema=None) as batch_op:
        for column, table, _ in REFERENCES:
            batch_op.drop_constraint(op.f(f"fk_conversation_facts_{column}_{table}"), type_="foreignkey")
        batch_op.drop_constraint(op.f("ck_conversation_facts_status"), type_="check")
        for column, _, _ in REFERENCES:
            batch_op.drop_column(column)
        batch_op.drop_column("status")
