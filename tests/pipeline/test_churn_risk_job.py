"""gold.churn_risk through the pipeline runner, on SQLite and PostgreSQL: the first run trains and scores, the next
scores with the same model and appends a second snapshot; a tenant without enough customers is skipped (a
succeeded run with no rows, the reason logged). When a model is old enough to retrain: tests/ml/test_churn.py."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from pulso.config import Settings
from pulso.pipeline.registry import get_job, registered_jobs
from pulso.pipeline.runner import recent_runs, run_pipeline
from pulso.store.models import ChurnScore, ModelVersion
from pulso.store.session import platform_session, tenant_session
from pulso.store.types import utcnow
from pulso.tenancy.service import create_tenant
from tests.ml.churn_world import seed_churn_world


def counts(tenant: int) -> tuple[int, int, int]:
    """Model versions, churn_scores rows and distinct scoring runs of one tenant."""
    with tenant_session(tenant) as session:
        versions = session.scalar(select(func.count()).select_from(ModelVersion)) or 0
        rows = session.scalar(select(func.count()).select_from(ChurnScore)) or 0
        runs = session.scalar(select(func.count(func.distinct(ChurnScore.scored_at)))) or 0
    return versions, rows, runs


def test_trains_once_scores_every_run_and_skips_small_tenants(
    any_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    job = get_job("gold.churn_risk")
    assert job.every_minutes == 24 * 60
    names = [j.name for j in registered_jobs()]
    assert names.index("gold.daily_metrics") < names.index("gold.churn_risk")
    with platform_session() as session:
        shop = create_tenant(session, slug="shop", name="Shop").id
        small = create_tenant(session, slug="small", name="Small").id
    seed_churn_world(shop, utcnow().replace(microsecond=0) - timedelta(hours=1))
    seed_churn_world(small, utcnow().replace(microsecond=0) - timedelta(hours=1), customers=12)

    with caplog.at_level(logging.INFO, logger="pulso.pipeline.gold.churn_risk"):
        first = run_pipeline(job_names=["gold.churn_risk"])
    assert {(r.tenant_slug, r.status, r.rows) for r in first} == {("shop", "succeeded", 160), ("small", "succeeded", 0)}
    assert "gold.churn_risk skipped for tenant" in caplog.text and "customers: 12 with a purchase" in caplog.text
    assert counts(shop) == (1, 160, 1) and counts(small) == (0, 0, 0)

    [again] = run_pipeline(tenant_slug="shop", job_names=["gold.churn_risk"])
    assert (again.status, again.rows) == ("succeeded", 160)
    assert counts(shop) == (1, 320, 2)  # same model, a second snapshot

    assert [r.status for r in recent_runs(3)] == ["succeeded"] * 3
