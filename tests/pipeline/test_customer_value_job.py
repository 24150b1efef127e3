"""gold.customer_value on SQLite and PostgreSQL: one row per customer equal to the service's numbers, the model
version, a same-day rerun replacing its rows, the history thinning, the skip, and the registered job."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from sqlalchemy import func, select

from pulso.config import Settings
from pulso.ml.clv.tenant import CLVFit, CLVModels, TenantCLVParams, fit_models, predict, purchase_summary
from pulso.ml.leads import registry
from pulso.pipeline.gold.customer_value import _stale_runs, build_customer_value
from pulso.pipeline.registry import get_job
from pulso.pipeline.runner import run_pipeline
from pulso.store.models import CustomerValue, ModelVersion, Tenant
from pulso.store.session import platform_session, tenant_session
from tests.metrics.helpers import TZ, seeded_tenant
from tests.ml.clv_tenant_data import CUSTOMERS, NOW, contact_log, purchases, seed_tenant


@pytest.fixture
def tenant(any_settings: Settings) -> tuple[int, dict[int, int]]:
    return seeded_tenant(seed_tenant)


def rows(tenant_id: int) -> pd.DataFrame:
    with tenant_session(tenant_id) as session:
        found = session.execute(
            select(
                CustomerValue.contact_id,
                CustomerValue.clv,
                CustomerValue.p_alive,
                CustomerValue.expected_purchases,
                CustomerValue.horizon_days,
                CustomerValue.computed_at,
                CustomerValue.model_version_id,
            )
        ).all()
    return pd.DataFrame(found, columns=["contact_id", "clv", "p_alive", "expected_purchases", "horizon_days",
                                        "computed_at", "model_version_id"])  # fmt: skip


def test_one_row_per_customer_equal_to_the_service(tenant: tuple[int, dict[int, int]]) -> None:
    tenant_id, ids = tenant
    with tenant_session(tenant_id) as session:
        assert build_customer_value(session, None, now=NOW) == CUSTOMERS
    written = rows(tenant_id).set_index("contact_id").sort_index()
    # the service on the same log, without the database
    summary = purchase_summary(contact_log(purchases(), ids), NOW, TZ)
    fitted = fit_models(summary, TenantCLVParams())
    assert isinstance(fitted, CLVFit)
    expected = predict(fitted.models, summary, TenantCLVParams()).sort_index()
    assert list(written.index) == sorted(ids.values())  # the browsing contact and the cancelled order count not
    for column in ("clv", "p_alive", "expected_purchases"):
        assert written[column].to_numpy() == pytest.approx(expected[column].to_numpy(), rel=1e-9), column
    assert set(written["horizon_days"]) == {365} and set(written["computed_at"]) == {NOW}
    with tenant_session(tenant_id) as session:
        version = registry.active_version(session, kind="clv")
        assert set(written["model_version_id"]) == {version.id}
        assert (version.version, version.training_end, version.data_hash) == ("v1", NOW, version.data_hash)
        assert version.params["bgnbd"] == pytest.approx(fitted.models.purchases.params_, rel=1e-9)
        assert set(version.params["gamma_gamma"]) == {"p", "q", "gamma"}
        assert version.params["time_unit"] == "D" and version.params["monthly_discount_rate"] == 0.01
        assert version.metrics["customers"] == CUSTOMERS
        assert version.training_start is not None  # the first order, to the millisecond the log keeps
        assert abs(version.training_start - min(purchases()["at"])) < timedelta(milliseconds=1)
        assert isinstance(registry.load_model(version), CLVModels)


def test_a_rerun_replaces_the_day_and_later_days_add_up(tenant: tuple[int, dict[int, int]]) -> None:
    tenant_id, _ = tenant
    later_that_day = NOW + timedelta(hours=8)  # 20:00 in São Paulo, still June 1st
    next_day = NOW + timedelta(days=1)
    for now in (NOW, later_that_day):
        with tenant_session(tenant_id) as session:
            build_customer_value(session, None, now=now)
    after_rerun = rows(tenant_id)
    assert len(after_rerun) == CUSTOMERS and set(after_rerun["computed_at"]) == {later_that_day}
    with tenant_session(tenant_id) as session:  # the same data and parameters: the version is reused
        assert [v.version for v in registry.list_versions(session, kind="clv")] == ["v1"]
        build_customer_value(session, None, now=next_day)
        assert [v.version for v in registry.list_versions(session, kind="clv")] == ["v1", "v2"]
    history = rows(tenant_id)
    assert history.groupby("computed_at").size().to_dict() == {later_that_day: CUSTOMERS, next_day: CUSTOMERS}


def test_the_other_tenant_is_untouched(tenant: tuple[int, dict[int, int]]) -> None:
    tenant_id, _ = tenant
    with tenant_session(tenant_id) as session:
        build_customer_value(session, None, now=NOW)
    with platform_session() as session:  # seeded_tenant's U, with the very same orders
        other = session.scalars(select(Tenant.id).where(Tenant.slug == "u")).one()
    assert rows(other).empty
    with tenant_session(other) as session:
        assert session.scalar(select(func.count()).select_from(ModelVersion)) == 0
        assert build_customer_value(session, None, now=NOW) == CUSTOMERS
    assert len(rows(tenant_id)) == CUSTOMERS and len(rows(other)) == CUSTOMERS


def test_a_tenant_without_enough_repeat_buyers_is_skipped(any_settings: Settings) -> None:
    few = purchases()
    few = few[few["customer"] < 5]  # five customers: fewer than ten repeat buyers
    tenant_id, _ = seeded_tenant(lambda t: seed_tenant(t, few))
    with tenant_session(tenant_id) as session:
        assert build_customer_value(session, None, now=NOW) == 0
        assert session.scalar(select(func.count()).select_from(ModelVersion)) == 0
    assert rows(tenant_id).empty


def test_the_registered_job_runs_in_the_pipeline(tenant: tuple[int, dict[int, int]]) -> None:
    job = get_job("gold.customer_value")
    assert job.order > get_job("silver.events").order and job.every_minutes == 24 * 60
    [result] = run_pipeline("t", job_names=["gold.customer_value"])
    assert (result.status, result.rows, result.error) == ("succeeded", CUSTOMERS, None)


def test_stale_runs() -> None:
    now = datetime(2025, 6, 1, 15, tzinfo=UTC)  # June 1st in São Paulo
    today_early = datetime(2025, 6, 1, 3, 30, tzinfo=UTC)  # 00:30 local: today, replaced
    yesterday_late = datetime(2025, 6, 1, 2, 30, tzinfo=UTC)  # 23:30 on May 31st local: kept
    recent = datetime(2025, 3, 10, 12, tzinfo=UTC)  # 83 days ago: kept
    # more than 90 days ago: only the last run of each local month is kept
    feb_first, feb_last = datetime(2025, 2, 1, 12, tzinfo=UTC), datetime(2025, 2, 27, 12, tzinfo=UTC)
    jan_late_local = datetime(2025, 2, 1, 2, tzinfo=UTC)  # 23:00 on January 31st local: January's last
    jan_mid = datetime(2025, 1, 15, 12, tzinfo=UTC)
    runs = [today_early, yesterday_late, recent, feb_first, feb_last, jan_late_local, jan_mid]
    assert _stale_runs(runs, now, TZ) == [jan_mid, feb_first, today_early]
    assert _stale_runs([], now, TZ) == []
