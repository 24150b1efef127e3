"""The tenant CLV service without a database: the summary by hand, the fit and predictions against the estimators
called directly, the first-purchase rule, the skips and the parameter checks."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from pulso.errors import InvalidInputError
from pulso.ml.clv.bgnbd import BetaGeoModel
from pulso.ml.clv.clv import customer_lifetime_value
from pulso.ml.clv.gamma_gamma import GammaGammaModel
from pulso.ml.clv.simulate import simulate_spend
from pulso.ml.clv.tenant import (
    CLVFit,
    Skipped,
    TenantCLVParams,
    first_purchase_counted,
    fit_models,
    predict,
    purchase_summary,
    summary_hash,
)
from tests.ml.clv_tenant_data import NOW, purchases

SP = "America/Sao_Paulo"


def utc(month: int, day: int, hour: int = 12) -> datetime:
    return datetime(2025, month, day, hour, tzinfo=UTC)


def test_summary_counts_local_days_up_to_now() -> None:
    log = pd.DataFrame(
        {
            "customer": [7, 7, 7, 7, 8, 9],
            "at": [
                utc(5, 1),
                utc(5, 2, 2),  # 23:00 on May 1st in São Paulo: the same purchase day as the first, 10 + 5
                utc(5, 11),
                utc(5, 21),
                utc(6, 1, 2),  # 23:00 on May 31st, local
                utc(6, 2, 3),  # 00:00 on June 2nd, local: after the local day of NOW (June 1st)
            ],
            "value": [10.0, 5.0, 20.0, 40.0, 8.0, 99.0],
        }
    )
    summary = purchase_summary(log, NOW, SP)
    # customer 7: days May 1, 11, 21 -> x=2, t_x=20, T=31 (to June 1st), repeats (20, 40) -> 30, first day 15
    # customer 8: one day, May 31 -> T=1; customer 9 bought after the end of the observation
    assert summary.to_dict("index") == {
        7: {"frequency": 2, "recency": 20.0, "T": 31.0, "monetary_value": 30.0, "first_value": 15.0},
        8: {"frequency": 0, "recency": 0.0, "T": 1.0, "monetary_value": 0.0, "first_value": 8.0},
    }
    assert summary.index.name == "contact_id"
    assert purchase_summary(log.iloc[5:], NOW, SP).empty
    with pytest.raises(InvalidInputError, match=r"^now: "):
        purchase_summary(log, NOW.replace(tzinfo=None), SP)


@pytest.mark.parametrize("first_purchase", ["exclude", "include"])
def test_predictions_are_the_estimators_called_directly(first_purchase: str) -> None:
    summary = purchase_summary(purchases(), NOW, SP)
    params = TenantCLVParams(first_purchase=first_purchase)  # type: ignore[arg-type]
    fitted = fit_models(summary, params)
    assert isinstance(fitted, CLVFit)
    out = predict(fitted.models, summary, params)

    x, t_x, age, m = (summary[c].to_numpy() for c in ("frequency", "recency", "T", "monetary_value"))
    bgnbd = BetaGeoModel().fit(x, t_x, age)
    spend = GammaGammaModel().fit(x, m)
    assert fitted.models.purchases.params_ == pytest.approx(bgnbd.params_, rel=1e-9)
    assert fitted.models.spend.params_ == pytest.approx(spend.params_, rel=1e-9)
    assert out["expected_purchases"].to_numpy() == pytest.approx(
        bgnbd.conditional_expected_purchases(365.25, x, t_x, age), rel=1e-9
    )
    assert out["p_alive"].to_numpy() == pytest.approx(bgnbd.probability_alive(x, t_x, age), rel=1e-9)
    if first_purchase == "exclude":  # the papers: a one-time buyer gets the population mean p gamma / (q - 1)
        clv = customer_lifetime_value(bgnbd, spend, x, t_x, age, m, months=12, monthly_discount_rate=0.01,
                                      time_unit="D")  # fmt: skip
        assert out["clv"].to_numpy() == pytest.approx(clv, rel=1e-9)
        one_time = out.loc[summary["frequency"] == 0, "expected_order_value"]
        assert one_time.to_numpy() == pytest.approx(spend.p_ * spend.gamma_ / (spend.q_ - 1), rel=1e-9)
    else:  # x + 1 purchase days, their mean including the first
        first = summary["first_value"].to_numpy()
        order_value = spend.conditional_expected_average_value(x + 1, (first + x * m) / (x + 1))
        assert out["expected_order_value"].to_numpy() == pytest.approx(order_value, rel=1e-9)
        without = customer_lifetime_value(bgnbd, spend, x, t_x, age, m, 12, 0.01, "D")
        base = spend.conditional_expected_average_value(x, m)
        assert out["clv"].to_numpy() == pytest.approx(without / base * order_value, rel=1e-9)
    assert fitted.metrics["customers"] == 40 and fitted.metrics["repeat_buyers"] == int((x > 0).sum())
    assert fitted.metrics["first_purchase_counted"] is (first_purchase == "include")


def test_the_horizon_and_the_discount_rate_change_the_numbers() -> None:
    summary = purchase_summary(purchases(), NOW, SP)
    fitted = fit_models(summary, TenantCLVParams())
    assert isinstance(fitted, CLVFit)
    base = predict(fitted.models, summary, TenantCLVParams())
    longer = predict(fitted.models, summary, TenantCLVParams(horizon_months=24))
    undiscounted = predict(fitted.models, summary, TenantCLVParams(monthly_discount_rate=0.0))
    assert (longer["clv"] > base["clv"]).all() and (undiscounted["clv"] > base["clv"]).all()
    # no discount: CLV = expected purchases over the horizon times the expected order value
    assert undiscounted["clv"].to_numpy() == pytest.approx(
        (base["expected_purchases"] * base["expected_order_value"]).to_numpy(), rel=1e-9
    )
    assert TenantCLVParams().horizon_days == 365 and TenantCLVParams(horizon_months=24).horizon_days == 730


def test_small_tenants_are_skipped_with_a_reason() -> None:
    empty = purchase_summary(purchases().iloc[:0], NOW, SP)
    assert fit_models(empty, TenantCLVParams()) == Skipped("no completed order with a contact yet", 0, 0)
    summary = purchase_summary(purchases(), NOW, SP)
    skipped = fit_models(summary, TenantCLVParams(min_repeat_buyers=100))
    assert isinstance(skipped, Skipped)
    assert skipped.reason == "29 of 40 customers bought again (a repeat purchase of positive value); the models need " \
        "at least 100"  # fmt: skip


def test_order_values_without_a_finite_mean_are_skipped() -> None:
    rng = np.random.default_rng(1)
    n = 100
    x = rng.integers(1, 5, n).astype(float)
    summary = pd.DataFrame(
        {
            "frequency": x,
            "recency": np.full(n, 10.0),
            "T": np.full(n, 30.0),
            "monetary_value": simulate_spend(2.0, 0.6, 10.0, x, rng),  # q = 0.6: E[order value] is infinite
            "first_value": np.full(n, 5.0),
        }
    )
    skipped = fit_models(summary, TenantCLVParams())
    assert isinstance(skipped, Skipped)
    pattern = r"Gamma-Gamma q = 0\.5\d* <= 1: the order values have no finite population mean"
    assert re.fullmatch(pattern, skipped.reason), skipped.reason


def test_first_purchase_rule() -> None:
    assert first_purchase_counted("auto", 1.0) and first_purchase_counted("auto", 1.25)
    assert not first_purchase_counted("auto", 1.3) and not first_purchase_counted("auto", 0.79)
    assert not first_purchase_counted("auto", None)
    assert first_purchase_counted("include", 6.0) and not first_purchase_counted("exclude", 1.0)


def test_the_hash_follows_the_data_and_the_parameters() -> None:
    summary = purchase_summary(purchases(), NOW, SP)
    same = purchase_summary(purchases(), NOW, SP)
    assert summary_hash(summary, TenantCLVParams()) == summary_hash(same, TenantCLVParams())
    assert summary_hash(summary, TenantCLVParams()) != summary_hash(summary, TenantCLVParams(horizon_months=6))
    later = purchase_summary(purchases(), datetime(2025, 6, 2, 15, tzinfo=UTC), SP)
    assert summary_hash(later, TenantCLVParams()) != summary_hash(summary, TenantCLVParams())


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("horizon_months", 0, "horizon_months: 0 is not between 1 and 120"),
        ("monthly_discount_rate", 1.0, "monthly_discount_rate: 1.0 is not in [0, 1), e.g. 0.01"),
        ("min_repeat_buyers", 1, "min_repeat_buyers: 1; Gamma-Gamma needs at least 2"),
        ("first_purchase", "always", "first_purchase: 'always' is not one of auto, exclude, include"),
    ],
)
def test_bad_parameters_name_the_field(field: str, value: object, message: str) -> None:
    with pytest.raises(InvalidInputError) as raised:
        TenantCLVParams(**{field: value})  # type: ignore[arg-type]
    assert str(raised.value) == message
