"""Gold job ``gold.customer_value``: every customer's lifetime value, P(alive) and expected purchases, daily.

Each run fits BG/NBD and Gamma-Gamma on the tenant's whole purchase log up to now (:mod:`pulso.ml.clv.tenant`;
``since`` is ignored: the models need every customer's history), keeps the fit as a ``clv`` model version and
writes one ``customer_value`` row per customer, all with the run's ``computed_at``. A tenant too small for the
models is skipped (logged, nothing written, earlier runs kept).

History stays bounded: a rerun on the same local day replaces that day's rows (and reuses the model version when
the data has not changed); runs older than :data:`DAILY_HISTORY_DAYS` days are thinned to the last run of each
local month. A tenant with N customers keeps at most about N x (90 + months of history) rows.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, insert, select

from pulso.errors import NotFoundError
from pulso.metrics.calendar import local_midnight
from pulso.ml.clv.tenant import (
    CLVFit,
    CLVModels,
    Skipped,
    TenantCLVParams,
    fit_models,
    predict,
    purchase_summary,
    summary_hash,
)
from pulso.ml.leads import registry
from pulso.ml.purchases import purchase_log
from pulso.pipeline.registry import Job, register
from pulso.store.models import CustomerValue, ModelVersion, Tenant
from pulso.store.session import PulsoSession
from pulso.store.types import utcnow

log = logging.getLogger(__name__)

CLV_KIND = "clv"
DAILY_HISTORY_DAYS = 90
FEATURES = ["frequency", "recency", "T", "monetary_value", "first_value"]


def build_customer_value(
    session: PulsoSession,
    since: date | None = None,
    *,
    now: datetime | None = None,
    params: TenantCLVParams | None = None,
) -> int:
    """Fit, predict and write this tenant's ``customer_value`` rows as of ``now``; returns the rows written."""
    del since  # the models read the whole history on every run
    now = now or utcnow()
    params = params or TenantCLVParams()
    zone = session.get_one(Tenant, session.tenant_id).timezone
    purchases = purchase_log(session, until=now)
    summary = purchase_summary(purchases, now, zone)
    data_hash = summary_hash(summary, params)
    version, models = _reused(session, data_hash)
    if models is None:
        fitted = fit_models(summary, params)
        if isinstance(fitted, Skipped):
            log.info("gold.customer_value skipped tenant %s: %s", session.tenant_id, fitted.reason)
            return 0
        start = purchases["at"].min().to_pydatetime() if len(purchases) else None
        version = _save(session, fitted, params, data_hash, start, now)
        models = fitted.models
    predictions = predict(models, summary, params)
    _drop_runs(session, _stale_runs(_run_times(session), now, zone))
    rows = [
        {
            "tenant_id": session.tenant_id,
            "contact_id": int(contact_id),
            "model_version_id": version.id if version is not None else None,
            "clv": float(clv),
            "p_alive": float(p_alive),
            "expected_purchases": float(expected),
            "horizon_days": params.horizon_days,
            "computed_at": now,
        }
        for contact_id, clv, p_alive, expected in zip(
            predictions.index,
            predictions["clv"],
            predictions["p_alive"],
            predictions["expected_purchases"],
            strict=True,
        )
    ]
    if rows:
        session.execute(insert(CustomerValue), rows)
    return len(rows)


def _reused(session: PulsoSession, data_hash: str) -> tuple[ModelVersion | None, CLVModels | None]:
    """The active ``clv`` version and its models when it was fitted on exactly this summary and these parameters."""
    try:
        active = registry.active_version(session, kind=CLV_KIND)
    except NotFoundError:
        return None, None
    if active.data_hash != data_hash:
        return None, None
    models = registry.load_model(active)
    return (active, models) if isinstance(models, CLVModels) else (None, None)


def _save(
    session: PulsoSession,
    fitted: CLVFit,
    params: TenantCLVParams,
    data_hash: str,
    start: datetime | None,
    now: datetime,
) -> ModelVersion:
    models = fitted.models
    described = {
        **params.described(),
        "bgnbd": models.purchases.params_,
        "gamma_gamma": models.spend.params_,
        "first_purchase_counted": models.first_purchase_counted,
    }
    return registry.save_version(
        session,
        models,
        kind=CLV_KIND,
        params=described,
        features=FEATURES,
        metrics=fitted.metrics,
        training_start=start,
        training_end=now,
        data_hash=data_hash,
    )


def _run_times(session: PulsoSession) -> list[datetime]:
    query = select(CustomerValue.computed_at).where(CustomerValue.tenant_id == session.tenant_id).distinct()
    return list(session.scalars(query))


def _stale_runs(runs: list[datetime], now: datetime, timezone: str) -> list[datetime]:
    """Runs to delete before writing the run at ``now``: those of now's local day (replaced), and, among runs
    older than :data:`DAILY_HISTORY_DAYS` days, all but the last of each local month."""
    zone = ZoneInfo(timezone)
    today = now.astimezone(zone).date()
    replaced_from = local_midnight(today, timezone)
    thinned_before = local_midnight(today - timedelta(days=DAILY_HISTORY_DAYS), timezone)
    last_of_month: dict[tuple[int, int], datetime] = {}
    for run in sorted(runs):
        if run < thinned_before:
            day = run.astimezone(zone).date()
            last_of_month[(day.year, day.month)] = run  # ascending: the month's last run wins
    kept = set(last_of_month.values())
    return sorted(run for run in runs if run >= replaced_from or (run < thinned_before and run not in kept))


def _drop_runs(session: PulsoSession, runs: list[datetime]) -> None:
    for chunk in range(0, len(runs), 500):
        statement = delete(CustomerValue).where(
            CustomerValue.tenant_id == session.tenant_id, CustomerValue.computed_at.in_(runs[chunk : chunk + 500])
        )
        session.execute(statement.execution_options(synchronize_session=False))


JOB = register(
    Job(
        name="gold.customer_value",
        run=build_customer_value,
        description="Customer lifetime value, P(alive) and expected purchases per customer (BG/NBD + Gamma-Gamma).",
        every_minutes=24 * 60,
        order=320,
    )
)
