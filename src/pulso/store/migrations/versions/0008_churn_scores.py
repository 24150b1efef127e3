"""churn_scores: each customer's churn risk, P(alive) and reasons per scoring run; customer_value.churn_risk goes

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23

The ``gold.churn_risk`` job and ``pulso score churn`` append one row per customer per run (history), stamped with
the model version. The contact is referenced by (tenant_id, contact_id), as in 0004: the database refuses a score
that points into another tenant. ``customer_value.churn_risk`` was never written and is dropped; churn risk lives
here, CLV and P(alive) of the CLV job stay in ``customer_value``.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import pulso.store.types
from pulso.store import rls

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW_TENANT_TABLES = ("churn_scores",)


def upgrade() -> None:
    op.create_table(
        "churn_scores",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("contact_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("model_version_id", sa.Integer(), nullable=True),
        sa.Column("churn_risk", sa.Float(), nullable=False),
        sa.Column("p_alive", sa.Float(), nullable=True),
        sa.Column(
            "reasons", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("last_purchase_at", pulso.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("total_value", sa.Float(), nullable=True),
        sa.Column("scored_at", pulso.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_version_id"],
            ["model_versions.id"],
            name=op.f("fk_churn_scores_model_version_id_model_versions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "contact_id"],
            ["contacts.tenant_id", "contacts.id"],
            name=op.f("fk_churn_scores_tenant_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_churn_scores")),
    )
    with op.batch_alter_table("churn_scores", schema=None) as batch_op:
        batch_op.create_index("ix_churn_scores_contact_time", ["tenant_id", "contact_id", "scored_at"], unique=False)
        batch_op.create_index("ix_churn_scores_tenant_time", ["tenant_id", "scored_at"], unique=False)

    with op.batch_alter_table("customer_value", schema=None) as batch_op:
        batch_op.drop_column("churn_risk")

    if op.get_bind().dialect.name == "postgresql":
        for table in NEW_TENANT_TABLES:
            for statement in rls.enable_rls(table):
                op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in NEW_TENANT_TABLES:
            for statement in rls.disable_rls(table):
                op.execute(statement)
    with op.batch_alter_table("customer_value", schema=None) as batch_op:
        batch_op.add_column(sa.Column("churn_risk", sa.Float(), nullable=True))

    with op.batch_alter_table("churn_scores", schema=None) as batch_op:
        batch_op.drop_index("ix_churn_scores_tenant_time")
        batch_op.drop_index("ix_churn_scores_contact_time")

    op.drop_table("churn_scores")
