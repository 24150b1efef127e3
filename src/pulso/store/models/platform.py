"""Platform tables: tenants, logins, keys, sources, job runs, watermarks and the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pulso.store.models.base import Base, CreatedAt, TenantScoped
from pulso.store.types import BigIntPK, JSONType, UTCDateTime, utcnow

USER_ROLES = ("platform_admin", "admin", "manager", "marketing", "sales", "support", "analyst", "viewer")
API_KEY_KINDS = ("write", "read", "admin")
JOB_STATUSES = ("running", "succeeded", "failed")
SOURCE_KINDS = ("tracker", "http", "chatwoot", "import", "demo")


class Tenant(CreatedAt, Base):
    """A client company. Not tenant-scoped itself: the platform session manages it."""

    __tablename__ = "tenants"
    __table_args__ = {"sqlite_autoincrement": True}  # never hand a deleted tenant's id to a new one

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="America/Sao_Paulo")
    currency: Mapped[str] = mapped_column(String(3), default="BRL")
    locale: Mapped[str] = mapped_column(String(10), default="pt-BR")
    is_active: Mapped[bool] = mapped_column(default=True)
    # tenant-level configuration, e.g. {"lifecycle_events": {"subscription_started": "customer"}}
    settings: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict, server_default="{}")


class User(TenantScoped, CreatedAt, Base):
    """A dashboard login. ``tenant_id`` is NULL only for platform administrators."""

    __tablename__ = "users"
    __tenant_nullable__ = True
    __table_args__ = (
        CheckConstraint(f"role IN {USER_ROLES!r}", name="role"),
        CheckConstraint("(role = 'platform_admin') = (tenant_id IS NULL)", name="platform_admin_has_no_tenant"),
        Index("ix_users_tenant_role", "tenant_id", "role"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(default=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ApiKey(TenantScoped, CreatedAt, Base):
    """A key for collection (write) or the API (read/admin). Only its hash is stored."""

    __tablename__ = "api_keys"
    __table_args__ = (
        CheckConstraint(f"kind IN {API_KEY_KINDS!r}", name="kind"),
        Index("ix_api_keys_tenant_kind", "tenant_id", "kind"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200), default="")
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(128), unique=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Source(TenantScoped, CreatedAt, Base):
    """Where a tenant's data comes from: the tracker, a Chatwoot database, file imports."""

    __tablename__ = "sources"
    __table_args__ = (
        UniqueConstraint("tenant_id", "name"),
        CheckConstraint(f"kind IN {SOURCE_KINDS!r}", name="kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    config: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    is_active: Mapped[bool] = mapped_column(default=True)
    # a connection string or credential, encrypted with the installation's key (pulso.security.secrets)
    secret: Mapped[str | None] = mapped_column(Text)
    # SHA-256 of the token in the source's webhook URL; the token itself is shown once and never stored
    webhook_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    last_synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)


class Watermark(TenantScoped, Base):
    """How far an incremental stage has read, per tenant and stream."""

    __tablename__ = "watermarks"
    __table_args__ = (UniqueConstraint("tenant_id", "stream"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    stream: Mapped[str] = mapped_column(String(200))
    value: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class JobRun(TenantScoped, Base):
    """One execution of a pipeline job. ``tenant_id`` NULL for platform-wide jobs."""

    __tablename__ = "job_runs"
    __tenant_nullable__ = True
    __table_args__ = (
        CheckConstraint(f"status IN {JOB_STATUSES!r}", name="status"),
        Index("ix_job_runs_job_started", "job", "started_at"),
        Index("ix_job_runs_tenant_started", "tenant_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    job: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16), default="running")
    params: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    rows: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)


class AuditLog(TenantScoped, Base):
    """Who did what, when. ``tenant_id`` NULL for platform actions."""

    __tablename__ = "audit_log"
    __tenant_nullable__ = True
    __table_args__ = (Index("ix_audit_log_at", "at"), Index("ix_audit_log_tenant_at", "tenant_id", "at"))

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(254), default="")
    action: Mapped[str] = mapped_column(String(100))
    target: Mapped[str] = mapped_column(String(200), default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    ip: Mapped[str | None] = mapped_column(String(45))
