"""tenant-consistent foreign keys for messages and contact identities

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23

A message's conversation and an identity's contact are now referenced by (tenant_id, id): the database itself
refuses a row that points into another tenant (foreign-key checks bypass row-level security, so this was only the
application's promise before), and the separate foreign key to ``tenants`` goes, since the parent's proves the
tenant exists and carries its deletion. One check per row instead of two on the tables a Chatwoot sync writes
millions of rows into. The parents get a unique index on (tenant_id, id) for the keys to refer to.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# child table, its parent, the parent reference column
CHILDREN = (("messages", "conversations", "conversation_id"), ("contact_identities", "contacts", "contact_id"))


def upgrade() -> None:
    for child, parent, column in CHILDREN:
        op.create_index(f"ux_{parent}_tenant_id_id", parent, ["tenant_id", "id"], unique=True)
        with op.batch_alter_table(child, schema=None) as batch_op:
            batch_op.drop_constraint(f"fk_{child}_tenant_id_tenants", type_="foreignkey")
            batch_op.drop_constraint(f"fk_{child}_{column}_{parent}", type_="foreignkey")
            batch_op.create_foreign_key(
                f"fk_{child}_tenant_id_{parent}", parent, ["tenant_id", column], ["tenant_id", "id"], ondelete="CASCADE"
            )


def downgrade() -> None:
    for child, parent, column in CHILDREN:
        with op.batch_alter_table(child, schema=None) as batch_op:
            batch_op.drop_constraint(f"fk_{child}_tenant_id_{parent}", type_="foreignkey")
            batch_op.create_foreign_key(f"fk_{child}_{column}_{parent}", parent, [column], ["id"], ondelete="CASCADE")
            batch_op.create_foreign_key(
                f"fk_{child}_tenant_id_tenants", "tenants", ["tenant_id"], ["id"], ondelete="CASCADE"
            )
        op.drop_index(f"ux_{parent}_tenant_id_id", table_name=parent)
