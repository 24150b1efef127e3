"""bronze pages compressed with lz4

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23

On PostgreSQL (built with lz4, as Debian's and the official images are), bronze payloads are compressed with lz4
instead of pglz: a sync writes one JSON page per 5,000 source rows, and pglz compression of those megabyte pages
cost more server time than validating them. Existing rows keep their compression until rewritten.
"""

from collections.abc import Sequence

from alembic import op
from sqlalchemy import text

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _has_lz4() -> bool:
    query = text("SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'")
    return bool(op.get_bind().scalar(query))


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql" and _has_lz4():
        op.execute("ALTER TABLE raw_events ALTER COLUMN payload SET COMPRESSION lz4")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE raw_events ALTER COLUMN payload SET COMPRESSION default")
