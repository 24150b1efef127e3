"""Churn risk on a tenant with a planted effect (tests/ml/churn_world.py), on SQLite and PostgreSQL: the model
finds it, the reasons name it, P(alive) is the BG/NBD estimator's, and every scoring run is kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import func, select

from pulso.config import Settings
from pulso.errors import InvalidInputError, NotFoundError
from pulso.ml.churn.at_risk import AtRiskParams, at_risk
from pulso.ml.churn.model import NotEnoughDataError
from pulso.ml.churn.service import refresh, retraining_due, score_tenant, train_tenant
from pulso.ml.clv.bgnbd import BetaGeoModel
from pulso.store.models import ChurnScore, ModelVersion
from pulso.store.session import platform_session, tenant_session
from pulso.tenancy.service import create_tenant
from tests.ml.churn_world import MESSAGE_COLUMNS, World, seed_churn_world

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


@pytest.fixture
def world(any_settings: Settings) -> tuple[int, World]:
    with platform_session() as session:
        tenant = create_tenant(session, slug="loja", name="Loja").id
    return tenant, seed_churn_world(tenant, NOW)


def bgnbd_summary(world: World, ids: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Frequency, recency and T in weeks to NOW's day, worked out from the planted purchases (distinct UTC days)."""
    x, t_x, age = [], [], []
    for contact in ids:
        days = sorted({when.date() for when in world.purchases[contact]})
        x.append(len(days) - 1)
        t_x.append((days[-1] - days[0]).days / 7)
        age.append((NOW.date() - days[0]).days / 7)
    return np.array(x, dtype=float), np.array(t_x), np.array(age)


def test_planted_effect_reasons_and_p_alive(world: tuple[int, World]) -> None:
    tenant, planted = world
    with tenant_session(tenant) as session:
        saved = train_tenant(session, now=NOW)
        run = score_tenant(session, now=NOW)
        page = at_risk(session, AtRiskParams(limit=1000))
    metrics = saved.training.result.metrics
    assert (saved.version.kind, saved.version.version, saved.version.is_active) == ("churn", "v1", True)
    assert metrics["roc_auc"] > 0.8 and metrics["rows"] == 32 and metrics["train_rows"] == 128
    assert metrics["split_note"].startswith("stratified random split (seed 0) of the 160 customers")
    assert saved.version.training_end == NOW - timedelta(days=90)
    # purchases carry no signal here: BG/NBD alone cannot see the effect. Every customer buys at one rate, so BG/NBD
    # has no finite maximum (r, alpha run off together); its expected purchases are then not finite and that
    # baseline is left out rather than measured on garbage
    baselines = metrics["baseline_roc_auc"]
    assert "p_alive" in baselines and set(baselines) <= {"p_alive", "expected_purchases"}, baselines
    assert max(baselines.values()) < 0.7, baselines
    assert run.scored == 160 and page.total == 160

    by_contact = {row.contact_id: row for row in page.rows}
    silent_risk = np.mean([by_contact[c].churn_risk for c in planted.silent])
    engaged_risk = np.mean([by_contact[c].churn_risk for c in planted.engaged])
    assert silent_risk > 0.6 > 0.3 > engaged_risk
    first_reasons = [by_contact[c].reasons[0] for c in planted.silent]
    assert all(r["direction"] == "raises" and r["column"] in MESSAGE_COLUMNS for r in first_reasons)
    assert {r["text"] for r in first_reasons} <= {"No message in the last 30 days (raises)"} | {
        f"Last message {d} days ago (raises)" for d in range(40, 300)
    }

    ids = sorted(by_contact)
    x, t_x, age = bgnbd_summary(planted, ids)
    expected = BetaGeoModel().fit(x, t_x, age).probability_alive(x, t_x, age)
    assert [by_contact[c].p_alive for c in ids] == pytest.approx(expected, rel=1e-9)
    last = {c: max(when for when in planted.purchases[c]) for c in ids}
    assert all(by_contact[c].last_purchase_at == pytest.approx(last[c], abs=timedelta(milliseconds=1)) for c in ids)


def test_history_ranking_and_one_customer(world: tuple[int, World]) -> None:
    tenant, planted = world
    with tenant_session(tenant) as session:
        first = refresh(session, now=NOW - timedelta(days=1))  # no model yet: trains, then scores
        again = refresh(session, now=NOW)  # the model is a day old: scores only
        assert first.trained is not None and again.trained is None and again.run is not None
        assert session.scalar(select(func.count()).select_from(ModelVersion)) == 1
        assert session.scalar(select(func.count()).select_from(ChurnScore)) == 320
        page = at_risk(session, AtRiskParams(limit=5, offset=2, min_risk=0.5, sort="value_at_risk"))
        everyone = at_risk(session, AtRiskParams(limit=1000, min_risk=0.5, sort="value_at_risk")).rows
        alive = at_risk(session, AtRiskParams(limit=1000, sort="p_alive")).rows
        one = at_risk(session, AtRiskParams(contact_id=planted.silent[0]))
        with pytest.raises(NotFoundError, match=r"^contact_id: 999999 has no churn score"):
            at_risk(session, AtRiskParams(contact_id=999999))
    assert page.scored_at == NOW and page.total == len(everyone)
    values = [row.value_at_risk for row in everyone]
    assert values == sorted(values, reverse=True) and min(row.churn_risk for row in everyone) >= 0.5
    assert [row.contact_id for row in page.rows] == [row.contact_id for row in everyone[2:7]]
    assert [row.p_alive for row in alive] == sorted(row.p_alive for row in alive)  # type: ignore[type-var]
    assert [h["scored_at"] for h in one.history] == [NOW, NOW - timedelta(days=1)]
    assert one.rows[0].scored_at == NOW and one.rows[0].model_version == "v1"


def test_too_few_customers_skip_and_bad_input(any_settings: Settings) -> None:
    with platform_session() as session:
        tenant = create_tenant(session, slug="nova", name="Nova").id
    seed_churn_world(tenant, NOW, customers=30)
    with tenant_session(tenant) as session:
        with pytest.raises(NotEnoughDataError, match=r"^customers: 30 with a purchase before 2025-12-01 \("):
            train_tenant(session, now=NOW)
        skipped = refresh(session, now=NOW)
        with pytest.raises(NotFoundError, match=r"no active churn model; train one first \(pulso train churn"):
            score_tenant(session, now=NOW)
        with pytest.raises(NotFoundError, match=r"^churn scores: none yet"):
            at_risk(session, AtRiskParams())
        with pytest.raises(InvalidInputError, match=r"^--horizon-days: between 1 and 3660, got 0"):
            train_tenant(session, horizon_days=0, now=NOW)
    assert skipped.skipped is not None and skipped.skipped.startswith("customers: 30 with a purchase")
    for bad, message in (
        ({"limit": 0}, r"^limit: between 1 and 1000, got 0"),
        ({"offset": -1}, r"^offset: between 0 and 1000000000, got -1"),
        ({"min_risk": 1.5}, r"^min_risk: a probability between 0 and 1, got 1.5"),
        ({"sort": "clv"}, r"^sort: must be one of risk, value_at_risk, p_alive, got 'clv'"),
    ):
        with pytest.raises(InvalidInputError, match=message):
            AtRiskParams(**bad)  # type: ignore[arg-type]


def test_retraining_is_due_without_a_model_or_after_a_week() -> None:
    made = ModelVersion(created_at=NOW)
    assert retraining_due(None, NOW)
    assert not retraining_due(made, NOW + timedelta(days=6, hours=23))
    assert retraining_due(made, NOW + timedelta(days=7))
