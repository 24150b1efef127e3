"""Declarative base, naming convention and the tenant mixin every tenant table uses."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, MetaData, Table
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

from pulso.store.types import UTCDateTime, utcnow

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class TenantScoped:
    """A row that belongs to one tenant. Every such table gets row-level security on PostgreSQL and
    automatic ``tenant_id`` filtering in :func:`pulso.store.session.tenant_session`.

    ``tenant_id`` is not indexed on its own: each table leads one of its composite indexes or unique
    constraints with it (a test checks), which serves the tenant filter and avoids a redundant index."""

    __tenant_nullable__ = False  # platform rows (tenant_id NULL) allowed, e.g. super-admin users
    # False for a child table whose composite foreign key (tenant_id, parent_id) -> parent (tenant_id, id) already
    # proves the tenant exists, cascades its deletion, and keeps the parent in the same tenant: one check per row
    # instead of two, on the tables a sync writes millions of rows into
    __tenant_fk__ = True

    @declared_attr
    def tenant_id(cls) -> Mapped[int]:  # noqa: N805
        nullable = getattr(cls, "__tenant_nullable__", False)
        if not getattr(cls, "__tenant_fk__", True):
            return mapped_column(Integer, nullable=nullable)
        return mapped_column(Integer, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=nullable)


class CreatedAt:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)


def tenant_tables(metadata: MetaData | None = None) -> list[Table]:
    """Every table with a ``tenant_id`` column: the set row-level security must cover."""
    md = metadata or Base.metadata
    return [t for t in md.sorted_tables if "tenant_id" in t.c]
