"""Migration 0008 adds ``churn_scores`` (row-level security on PostgreSQL) and drops ``customer_value.churn_risk``;
downgrade restores the column and drops the table."""

from __future__ import annotations

from sqlalchemy import inspect, text

from pulso.config import Settings
from pulso.store import migrate
from pulso.store.engine import admin_engine, dispose_engines


def _shape(settings: Settings) -> tuple[bool, bool]:
    """Whether churn_scores exists, and whether customer_value still has churn_risk."""
    found = inspect(admin_engine(settings))
    columns = {c["name"] for c in found.get_columns("customer_value")}
    return found.has_table("churn_scores"), "churn_risk" in columns


def _secured(settings: Settings) -> bool:
    if admin_engine(settings).dialect.name == "sqlite":
        return True
    with admin_engine(settings).connect() as connection:
        row = connection.execute(
            text("SELECT relrowsecurity AND relforcerowsecurity FROM pg_class WHERE relname = 'churn_scores'")
        ).scalar_one()
        policies = connection.execute(text("SELECT count(*) FROM pg_policies WHERE tablename = 'churn_scores'"))
        return bool(row) and policies.scalar_one() == 2


def test_up_and_down(any_settings: Settings) -> None:
    assert _shape(any_settings) == (True, False) and _secured(any_settings)
    migrate.downgrade(any_settings, "0007")
    try:
        dispose_engines()
        assert _shape(any_settings) == (False, True)
    finally:
        dispose_engines()
        migrate.upgrade(any_settings)
        dispose_engines()
    assert _shape(any_settings) == (True, False) and _secured(any_settings)
