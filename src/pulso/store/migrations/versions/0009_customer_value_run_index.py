"""customer_value: an index on (tenant_id, computed_at), so the latest CLV run is found without a scan

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23

``/api/v1/analytics/clv`` and the job's pruning look up a tenant's runs by ``computed_at``; the existing index leads
with the contact and could not serve them.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_customer_value_tenant_time", "customer_value", ["tenant_id", "computed_at"])


def downgrade() -> None:
    op.drop_index("ix_customer_value_tenant_time", table_name="customer_value")
