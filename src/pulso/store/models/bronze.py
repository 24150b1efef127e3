"""Bronze: every accepted payload exactly as received, and the quarantine for the rejected ones."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pulso.store.models.base import Base, TenantScoped
from pulso.store.types import BigIntPK, UTCDateTime, utcnow


class RawEvent(TenantScoped, Base):
    """An accepted payload, append-only. ``message_id`` makes redelivery idempotent."""

    __tablename__ = "raw_events"
    __table_args__ = (
        UniqueConstraint("tenant_id", "source", "message_id"),
        Index("ix_raw_events_unprocessed", "tenant_id", "processed_at", "id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    source: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32))
    message_id: Mapped[str | None] = mapped_column(String(200))
    batch_id: Mapped[str | None] = mapped_column(String(64))
    # `json`, not `jsonb`, on PostgreSQL: bronze is written far more than it is queried, and storing validated
    # text costs a fraction of building jsonb (pages of a Chatwoot sync are megabytes)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Quarantine(TenantScoped, Base):
    """A payload that failed validation, kept verbatim with the reason and where it went wrong."""

    __tablename__ = "quarantine"
    __table_args__ = (Index("ix_quarantine_tenant_received", "tenant_id", "received_at"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    source: Mapped[str] = mapped_column(String(32))
    batch_id: Mapped[str | None] = mapped_column(String(64))
    location: Mapped[str] = mapped_column(String(200), default="")
    reason: Mapped[str] = mapped_column(Text)
    raw: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
