"""The schema: migrations match the models on both databases, and every tenant table is indexed for its filter."""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from pulso.config import Settings
from pulso.store import migrate, platform_session
from pulso.store.models import Base, Tenant, tenant_tables
from pulso.store.types import UTCDateTime


@pytest.mark.parametrize("table", tenant_tables(), ids=lambda t: t.name)
def test_tenant_id_leads_an_index(table: sa.Table) -> None:
    leading = [next(iter(index.columns)).name for index in table.indexes]
    leading += [next(iter(c.columns)).name for c in table.constraints if isinstance(c, sa.UniqueConstraint)]
    assert "tenant_id" in leading, f"{table.name}: add an index or unique constraint that starts with tenant_id"


def test_migrations_match_models(any_settings: Settings) -> None:
    migrate.check(any_settings)  # raises when an autogenerate would find a difference


def test_sqlite_does_not_reuse_deleted_tenant_ids(sqlite_settings: Settings) -> None:
    with platform_session() as session:
        first = Tenant(slug="first", name="First")
        session.add(first)
        session.flush()
        first_id = first.id
        session.delete(first)
    with platform_session() as session:
        second = Tenant(slug="second", name="Second")
        session.add(second)
        session.flush()
        assert second.id > first_id


def test_timestamps_must_be_timezone_aware() -> None:
    column_type = UTCDateTime()
    with pytest.raises(ValueError, match="naive datetime"):
        column_type.process_bind_param(datetime(2026, 1, 1), sqlite.dialect())


def test_metadata_lists_every_layer() -> None:
    names = set(Base.metadata.tables)
    expected = {
        "tenants",
        "users",
        "api_keys",
        "sources",
        "contacts",
        "contact_identities",
        "events",
        "inboxes",
        "agents",
        "conversations",
        "messages",
        "campaigns",
        "campaign_spend",
        "orders",
        "feedback",
        "conversation_insights",
        "lead_scores",
        "customer_value",
        "model_versions",
        "job_runs",
        "audit_log",
        "watermarks",
        "raw_events",
        "quarantine",
        "daily_metrics",
    }
    assert expected <= names
