"""model_versions: an active flag, so a kind of model has one version in use and can be rolled back

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23

`pulso train leads` saves every trained version and activates it; `pulso train activate --version V` moves the
flag back to an earlier version (rollback). Existing rows start inactive.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("model_versions") as batch:
        batch.add_column(sa.Column("is_active", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("model_versions") as batch:
        batch.drop_column("is_active")
