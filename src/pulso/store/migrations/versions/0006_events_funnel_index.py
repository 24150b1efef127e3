"""events: the (tenant, name, time) index also carries type, contact and anonymous id

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23

A funnel reads the step events of a tenant by name and time, and of each needs the type, the person (contact or
anonymous id), the time and the id. With those columns in the index the read never touches the table's rows:
on the large SQLite demo, reading 67,839 step events took 330 ms through the old index and 30 ms through this one.
The new index replaces the old one (it serves every query the old one did), so writes keep the same number of
indexes.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = ["tenant_id", "name", "occurred_at"]
NEW = ["tenant_id", "name", "occurred_at", "type", "contact_id", "anonymous_id"]


def upgrade() -> None:
    op.create_index("ix_events_tenant_name_time_person", "events", NEW)
    op.drop_index("ix_events_tenant_name_time", table_name="events")


def downgrade() -> None:
    op.create_index("ix_events_tenant_name_time", "events", OLD)
    op.drop_index("ix_events_tenant_name_time_person", table_name="events")
