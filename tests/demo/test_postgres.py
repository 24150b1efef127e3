"""The demo on PostgreSQL, written and read as the RLS-bound application role.

Counting with raw SQL and no tenant filter proves row-level security scopes every table, and the effects
measured on PostgreSQL equal those measured on SQLite for the same seed: the same rows on both databases.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from pulso.config import Settings
from pulso.demo import seed_demo
from pulso.demo.verify import EffectReport, measure_effects, tenant_ids
from pulso.store.engine import app_engine, role_problems
from pulso.store.models import tenant_tables
from pulso.store.session import tenant_session
from tests.demo.helpers import END_DATE, SEED

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def test_seed_small_on_postgresql_under_row_level_security(pg_settings: Settings, effects: EffectReport) -> None:
    engine = app_engine(pg_settings)
    assert role_problems(engine) == []
    summary = seed_demo("small", SEED, end_date=END_DATE, progress=False)
    assert summary.tenants["sorriso"]["conversations"] > 2_500
    assert summary.tenants["insightos"]["events"] > 30_000
    for slug, tenant_id in tenant_ids(engine).items():
        with tenant_session(tenant_id, engine=engine) as session:
            for table in tenant_tables():
                count = session.execute(text(f"SELECT count(*) FROM {table.name}")).scalar_one()
                assert count == summary.tenants[slug].get(table.name, 0), (slug, table.name)

    on_postgres = measure_effects(pg_settings)
    assert on_postgres.ltv_customers == effects.ltv_customers
    assert on_postgres.ltv_ratio == pytest.approx(effects.ltv_ratio)
    assert on_postgres.funnel_step_conversion == pytest.approx(effects.funnel_step_conversion)
    assert on_postgres.first_response_p95_seconds == pytest.approx(effects.first_response_p95_seconds)
    assert on_postgres.sorriso_weekday == pytest.approx(effects.sorriso_weekday)
    assert on_postgres.insightos_weekday == pytest.approx(effects.insightos_weekday)
    assert on_postgres.sorriso_anomaly == effects.sorriso_anomaly
    assert on_postgres.insightos_anomaly == effects.insightos_anomaly
    assert on_postgres.lead_conversion.coefficients == pytest.approx(effects.lead_conversion.coefficients)
