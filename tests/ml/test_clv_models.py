"""BG/NBD, Pareto/NBD and Gamma-Gamma: exact gradients against finite differences, the fast likelihood against the
paper's formula, compressed rows, recovery of known parameters from simulated populations, predictions, CLV."""

from __future__ import annotations

import json
from functools import partial

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from pulso.ml.clv import bgnbd, gamma_gamma, pareto_nbd
from pulso.ml.clv._arrays import CLVInputError
from pulso.ml.clv.bgnbd import BetaGeoModel
from pulso.ml.clv.clv import customer_lifetime_value
from pulso.ml.clv.gamma_gamma import GammaGammaModel
from pulso.ml.clv.pareto_nbd import ParetoNBDModel
from pulso.ml.clv.simulate import simulate_bgnbd, simulate_pareto_nbd, simulate_spend
from tests.ml.derivatives import check_derivatives


def population(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    T = rng.integers(26 * 7, 78 * 7 + 1, n) / 7.0  # 26 to 78 weeks, in whole days
    x, t_x = simulate_bgnbd(0.5, 6.0, 0.8, 2.5, T, rng, days_per_unit=7.0)
    return x, t_x, T, simulate_spend(6.0, 4.0, 15.0, x, rng)


@pytest.mark.parametrize("log_params", [[-0.7, 1.2, -0.1, 0.9], [0.3, 2.5, 0.8, -0.5], [-1.4, 1.5, -0.2, 0.9]])
@pytest.mark.parametrize("compress", [True, False])
def test_bgnbd_gradient_and_hessian_match_finite_differences(log_params: list[float], compress: bool) -> None:
    x, t_x, T, _ = population(3000, seed=1)
    weights = np.random.default_rng(2).uniform(0.5, 2.0, len(x))
    design = bgnbd.Design.build(x, t_x, T, weights, compress=compress)
    check_derivatives(lambda t: bgnbd.neg_log_likelihood(t, design), np.array(log_params))


def test_bgnbd_fast_likelihood_equals_the_paper_formula() -> None:
    x, t_x, T, _ = population(2000, seed=3)
    weights = np.random.default_rng(4).uniform(0.5, 2.0, len(x))
    r, alpha, a, b = 0.4, 5.0, 0.9, 2.0
    reference = weights @ bgnbd.log_likelihood(r, alpha, a, b, x, t_x, T)
    for compress in (True, False):
        design = bgnbd.Design.build(x, t_x, T, weights, compress=compress)
        value, _, _ = bgnbd.neg_log_likelihood(np.log([r, alpha, a, b]), design)
        assert -value == pytest.approx(reference, rel=1e-12)


def test_bgnbd_subsample_keeps_the_customers_without_repeat_purchases_in_proportion() -> None:
    x, t_x, T, _ = population(20_000, seed=13)
    design = bgnbd.Design.build(x, t_x, T, np.ones(len(x)), compress=False)
    small = design.subsample(2_000, seed=1)
    assert small.total_weight == pytest.approx(2_000, rel=0.05)
    assert small.zero_weight_per_age.sum() == pytest.approx(0.1 * (x == 0).sum())
    assert len(small.row_weight) == pytest.approx(0.1 * (x > 0).sum(), rel=0.1)
    assert np.all(np.diff(small.x_values[small.row_x]) >= 0)  # still sorted by x


@pytest.mark.parametrize("log_params", [[1.1, 0.7, 2.3], [-0.5, 1.5, 3.5], [2.0, 0.1, 1.0]])
@pytest.mark.parametrize("weighted", [True, False])
def test_gamma_gamma_gradient_and_hessian_match_finite_differences(log_params: list[float], weighted: bool) -> None:
    x, _, _, m = population(3000, seed=5)
    weights = np.random.default_rng(6).uniform(0.5, 2.0, len(x)) if weighted else None
    design = gamma_gamma.SpendDesign.build(x, m, weights)
    theta = np.array(log_params)
    value, _, _ = gamma_gamma.neg_log_likelihood(theta, design)
    keep = x > 0
    per_customer = gamma_gamma.log_likelihood(*np.exp(theta), x[keep], m[keep])
    reference = per_customer.sum() if weights is None else weights[keep] @ per_customer
    assert -value == pytest.approx(reference, rel=1e-12)
    check_derivatives(lambda t: gamma_gamma.neg_log_likelihood(t, design), theta)


@pytest.mark.parametrize(
    "params",
    [(0.55, 10.5, 0.6, 11.7), (0.3, 20.0, 2.0, 2.0), (0.3, 2.0, 0.2, 30.0)],  # alpha < beta, alpha > beta, far apart
)
def test_pareto_nbd_gradient_and_hessian_match_finite_differences(params: tuple[float, float, float, float]) -> None:
    """The died branch's derivatives come from a quadrature of smooth integrands; they agree with differences of
    the closed-form (hyp2f1) log-likelihood to the differences' own precision, the Hessian with differences of
    that gradient."""
    rng = np.random.default_rng(12)
    T = rng.integers(1, 800, 3000) / 7.0
    x, t_x = simulate_pareto_nbd(*params, T, rng)
    design = pareto_nbd.ParetoDesign.build(x, t_x, T, np.random.default_rng(3).uniform(0.5, 2.0, len(x)))
    theta = np.log(params)
    value, _, _ = pareto_nbd.neg_log_likelihood(theta, design)
    assert -value == pytest.approx(design.weights @ pareto_nbd.log_likelihood(*params, x, t_x, T), rel=1e-12)
    assert -value == pytest.approx(pareto_nbd.design_log_likelihood(theta, design), rel=1e-14)
    check_derivatives(partial(pareto_nbd.neg_log_likelihood, d=design), theta)


def test_fitted_attributes_are_plain_python_values() -> None:
    """Callers store them as JSON (model registry, gold tables): no numpy scalars."""
    x, t_x, T, m = population(2000, seed=14)
    for model in (BetaGeoModel().fit(x, t_x, T), ParetoNBDModel().fit(x, t_x, T), GammaGammaModel().fit(x, m)):
        attributes = {
            "params": model.params_,
            "log_likelihood": model.log_likelihood_,
            "n_iter": model.n_iter_,
            "converged": model.converged_,
            "n_customers": model.n_customers_,
        }
        assert json.loads(json.dumps(attributes)) == attributes
        assert type(model.log_likelihood_) is float and type(model.converged_) is bool


def test_compressed_rows_give_the_same_fit_as_one_row_per_customer() -> None:
    rng = np.random.default_rng(6)
    T = rng.integers(26, 53, 5000).astype(np.float64)  # whole weeks: many customers share (x, t_x, T)
    x, t_x = simulate_bgnbd(0.5, 6.0, 0.8, 2.5, T, rng, days_per_unit=1.0)
    design = bgnbd.Design.build(x, t_x, T, np.ones(len(x)), compress=True)
    assert len(design.row_weight) < 0.8 * (x > 0).sum()
    plain = BetaGeoModel(compress_rows=False).fit(x, t_x, T)
    compressed = BetaGeoModel().fit(x, t_x, T)
    np.testing.assert_allclose(list(compressed.params_.values()), list(plain.params_.values()), rtol=1e-9)
    assert compressed.log_likelihood_ == pytest.approx(plain.log_likelihood_, rel=1e-12)


# Recovery tolerances: the standard errors of the CDNOW fit (2,357 customers) are about 5% for r, 9% for alpha,
# 23% for a and 29% for b; scaled by sqrt(2357/100000) they are about 1%, 1.5%, 3.5% and 4.5% at 100,000
# customers. The tolerances are 3 to 4 of those; the seed is fixed, so the test is deterministic.
def test_bgnbd_and_gamma_gamma_recover_known_parameters() -> None:
    x, t_x, T, m = population(100_000, seed=7)
    model = BetaGeoModel().fit(x, t_x, T)
    assert model.converged_
    assert model.r_ == pytest.approx(0.5, rel=0.04)
    assert model.alpha_ == pytest.approx(6.0, rel=0.06)
    assert model.a_ == pytest.approx(0.8, rel=0.15)
    assert model.b_ == pytest.approx(2.5, rel=0.15)
    spend = GammaGammaModel().fit(x, m)  # about 40,000 repeat buyers; p, q and gamma are strongly correlated
    assert spend.p_ == pytest.approx(6.0, rel=0.12)
    assert spend.q_ == pytest.approx(4.0, rel=0.12)
    assert spend.gamma_ == pytest.approx(15.0, rel=0.15)


def test_pareto_nbd_recovers_known_parameters() -> None:
    """20,000 customers (the hyp2f1 likelihood is slower); CDNOW's standard errors scaled by sqrt(2357/20000) are
    about 3% for r and alpha, 7% for s and 13% for beta; the tolerances are about 3 of those."""
    rng = np.random.default_rng(8)
    T = rng.integers(26 * 7, 78 * 7 + 1, 20_000) / 7.0
    x, t_x = simulate_pareto_nbd(0.55, 10.5, 0.6, 11.7, T, rng)
    model = ParetoNBDModel().fit(x, t_x, T)
    assert model.converged_
    assert model.r_ == pytest.approx(0.55, rel=0.1)
    assert model.alpha_ == pytest.approx(10.5, rel=0.1)
    assert model.s_ == pytest.approx(0.6, rel=0.2)
    assert model.beta_ == pytest.approx(11.7, rel=0.4)


def fitted_bgnbd() -> BetaGeoModel:
    model = BetaGeoModel()
    model.r_, model.alpha_, model.a_, model.b_ = 0.243, 4.414, 0.793, 2.426
    return model


def test_bgnbd_predictions_by_hand() -> None:
    model = fitted_bgnbd()
    # x = 0: never seen to repeat, so the customer is alive (dropout only happens after a purchase)
    assert model.probability_alive(0, 0, 38.86)[0] == 1.0
    # x=2, t_x=30.43, T=38.86: 1 / (1 + a/(b+1) ((alpha+T)/(alpha+t_x))^(r+2))
    by_hand = 1 / (1 + 0.793 / 3.426 * ((4.414 + 38.86) / (4.414 + 30.43)) ** 2.243)
    assert model.probability_alive(2, 30.43, 38.86)[0] == pytest.approx(by_hand, rel=1e-12)
    assert model.conditional_expected_purchases(0.0, 2, 30.43, 38.86)[0] == pytest.approx(0.0, abs=1e-12)
    # more purchases expected the longer the horizon
    horizons = [model.conditional_expected_purchases(t, 2, 30.43, 38.86)[0] for t in (13, 26, 39, 52)]
    assert horizons == sorted(horizons)


def test_clv_without_discount_is_expected_purchases_times_expected_value() -> None:
    """With d = 0 the monthly increments telescope: CLV = E[M] * E[Y(H months)]."""
    x, t_x, T, m = population(2000, seed=9)
    purchases = fitted_bgnbd()
    spend = GammaGammaModel()
    spend.p_, spend.q_, spend.gamma_ = 6.25, 3.74, 15.44
    value = customer_lifetime_value(purchases, spend, x, t_x, T, m, months=12, monthly_discount_rate=0.0)
    weeks = 12 * 365.25 / 12 / 7
    expected = spend.conditional_expected_average_value(x, m) * purchases.conditional_expected_purchases(
        weeks, x, t_x, T
    )
    np.testing.assert_allclose(value, expected, rtol=1e-10)
    discounted = customer_lifetime_value(purchases, spend, x, t_x, T, m, months=12, monthly_discount_rate=0.01)
    assert np.all(discounted < value)
    assert np.all(discounted > value / 1.01**12)


def test_gamma_gamma_expected_value_is_a_weighted_mean() -> None:
    spend = GammaGammaModel()
    spend.p_, spend.q_, spend.gamma_ = 6.25, 3.74, 15.44
    population_mean = 6.25 * 15.44 / (3.74 - 1)
    assert spend.conditional_expected_average_value(0, 0)[0] == pytest.approx(population_mean)
    # x=2, m=22.35: (q-1)/(px+q-1) * population mean + px/(px+q-1) * m
    weight = 12.5 / (12.5 + 2.74)
    by_hand = (1 - weight) * population_mean + weight * 22.35
    assert spend.conditional_expected_average_value(2, 22.35)[0] == pytest.approx(by_hand, rel=1e-12)


@pytest.mark.parametrize(
    ("x", "t_x", "T", "message"),
    [
        ([1, 2], [5.0, 12.0], [10.0, 10.0], "recency: row 1 (12) is greater than T"),
        ([1, -1], [5.0, 0.0], [10.0, 10.0], "frequency: row 1 (-1) is negative"),
        ([1.5], [5.0], [10.0], "frequency: row 0 (1.5) is not a whole number"),
        ([0], [3.0], [10.0], "recency: row 0 (3) is not 0 for a customer with no repeat purchase"),
        ([1, 2], [1.0], [10.0, 10.0], "differ in length"),
        ([1, np.nan], [1.0, 1.0], [10.0, 10.0], "frequency: 1 values are missing"),
    ],
)
def test_bad_summaries_are_refused_with_the_row(x: list[float], t_x: list[float], T: list[float], message: str) -> None:
    with pytest.raises(CLVInputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        BetaGeoModel().fit(x, t_x, T)


def test_negative_monetary_value_is_refused() -> None:
    with pytest.raises(CLVInputError, match=r"monetary_value: row 1 \(-3\) is negative"):
        GammaGammaModel().fit([1, 2, 3], [10.0, -3.0, 5.0])


def test_predicting_before_fitting_says_so() -> None:
    with pytest.raises(NotFittedError, match="not fitted yet"):
        BetaGeoModel().probability_alive(1, 1.0, 2.0)
