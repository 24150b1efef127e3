"""Migration 0007 adds ``model_versions.is_active``: rows saved before it start inactive; downgrade removes it."""

from __future__ import annotations

from sqlalchemy import inspect, text

from pulso.config import Settings
from pulso.store import migrate
from pulso.store.engine import admin_engine, dispose_engines
from pulso.store.session import platform_session
from pulso.tenancy.service import create_tenant


def _columns(settings: Settings) -> set[str]:
    return {c["name"] for c in inspect(admin_engine(settings)).get_columns("model_versions")}


def test_existing_versions_start_inactive(any_settings: Settings) -> None:
    with platform_session() as session:
        tenant = create_tenant(session, slug="a", name="A").id
    migrate.downgrade(any_settings, "0006")
    try:
        dispose_engines()
        assert "is_active" not in _columns(any_settings)
        with admin_engine(any_settings).begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO model_versions (tenant_id, kind, version, params, features, metrics, code_version,"
                    " data_hash, created_at) VALUES (:t, 'lead_score', 'v1', '{}', '[]', '{}', '0.1.0', 'h',"
                    " '2026-11-23 00:00:00')"
                ),
                {"t": tenant},
            )
    finally:
        dispose_engines()
        migrate.upgrade(any_settings)
        dispose_engines()
    assert "is_active" in _columns(any_settings)
    with admin_engine(any_settings).begin() as connection:
        assert connection.execute(text("SELECT version, is_active FROM model_versions")).all() == [("v1", False)]
