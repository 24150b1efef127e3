"""The CDNOW cohort (2,357 customers, 39-week calibration): Fader, Hardie & Lee's published parameters, to 3
significant digits, and the published summary rebuilt from the raw transactions."""

from __future__ import annotations

from datetime import date
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pulso.ml.clv import bgnbd, gamma_gamma, pareto_nbd
from pulso.ml.clv.bgnbd import BetaGeoModel
from pulso.ml.clv.gamma_gamma import GammaGammaModel
from pulso.ml.clv.pareto_nbd import ParetoNBDModel
from pulso.ml.clv.summary import summarize
from tests.ml.derivatives import check_derivatives

pytestmark = pytest.mark.datasets


def significant(value: float, digits: int = 3) -> float:
    return float(f"{value:.{digits}g}")


@pytest.fixture(scope="module")
def cdnow(shared_datasets: Path) -> pd.DataFrame:
    return pd.read_csv(shared_datasets / "cdnow-btyd" / "cdnow_customers_summary_with_transactions.csv")


def test_bgnbd_reproduces_fader_hardie_lee(cdnow: pd.DataFrame) -> None:
    model = BetaGeoModel().fit(cdnow["x"], cdnow["t_x"], cdnow["T"])
    assert model.converged_
    fitted = {name: significant(value) for name, value in model.params_.items()}
    assert fitted == {"r": 0.243, "alpha": 4.41, "a": 0.793, "b": 2.43}
    # the paper's 4-decimal values (r=0.243, alpha=4.414, a=0.793, b=2.426) and log-likelihood -9582.4
    assert model.alpha_ == pytest.approx(4.414, abs=5e-4)
    assert model.b_ == pytest.approx(2.426, abs=5e-4)
    assert model.log_likelihood_ == pytest.approx(-9582.4, abs=0.05)
    expected = model.conditional_expected_purchases(39, 2, 30.43, 38.86)
    assert significant(float(expected[0]), 4) == 1.226


def test_gamma_gamma_reproduces_the_946_repeat_buyers(cdnow: pd.DataFrame) -> None:
    model = GammaGammaModel().fit(cdnow["x"], cdnow["zbar"])
    assert model.n_customers_ == 946
    assert {name: significant(value) for name, value in model.params_.items()} == {"p": 6.25, "q": 3.74, "gamma": 15.4}
    assert model.gamma_ == pytest.approx(15.44, abs=0.01)


def test_pareto_nbd_reproduces_the_published_parameters(cdnow: pd.DataFrame) -> None:
    model = ParetoNBDModel().fit(cdnow["x"], cdnow["t_x"], cdnow["T"])
    assert model.converged_
    fitted = {name: significant(value) for name, value in model.params_.items()}
    assert fitted == {"r": 0.553, "alpha": 10.6, "s": 0.606, "beta": 11.7}
    assert model.alpha_ == pytest.approx(10.578, abs=2e-3)
    assert model.beta_ == pytest.approx(11.669, abs=5e-3)


def test_the_optima_are_exact_stationary_points_with_exact_hessians(cdnow: pd.DataFrame) -> None:
    """At the CDNOW optima the Newton fits stop on a step below 1e-6 (then taken): the gradient per customer is
    at rounding level, the Hessian is positive definite and matches differences of the gradient (BG/NBD, Gamma-Gamma
    and Pareto/NBD)."""
    x, t_x, T, m = (cdnow[c].to_numpy(dtype=np.float64) for c in ("x", "t_x", "T", "zbar"))
    purchases = BetaGeoModel().fit(x, t_x, T)
    objective = partial(bgnbd.neg_log_likelihood, d=bgnbd.Design.build(x, t_x, T, np.ones(len(x))))
    spend = GammaGammaModel().fit(x, m)
    spend_objective = partial(gamma_gamma.neg_log_likelihood, d=gamma_gamma.SpendDesign.build(x, m, None))
    pareto = ParetoNBDModel().fit(x, t_x, T)
    pareto_objective = partial(
        pareto_nbd.neg_log_likelihood, d=pareto_nbd.ParetoDesign.build(x, t_x, T, np.ones(len(x)))
    )
    for model, function in ((purchases, objective), (spend, spend_objective), (pareto, pareto_objective)):
        theta = np.log(list(model.params_.values()))
        value, gradient, hessian = function(theta)
        assert -value == pytest.approx(model.log_likelihood_, rel=1e-14)
        assert np.abs(gradient).max() / model.n_customers_ < 1e-10
        assert np.linalg.eigvalsh(hessian).min() > 0
        check_derivatives(function, theta)


def test_summary_of_the_raw_sample_matches_the_published_summary(shared_datasets: Path, cdnow: pd.DataFrame) -> None:
    """CDNOW_sample.txt (id, id in the cohort, date, CDs, dollars) through summarize() with the calibration period
    ending 1997-09-30 gives the published x, t_x, T (weeks, 2 decimals) and zbar (mean repeat value)."""
    raw = pd.read_csv(
        shared_datasets / "cdnow-btyd" / "CDNOW_sample.txt",
        sep=r"\s+",
        header=None,
        names=["master_id", "customer", "date", "cds", "dollars"],
        dtype={"date": str},
    )
    summary = summarize(raw, "customer", "date", "dollars", until=date(1997, 9, 30), time_unit="W")
    assert len(summary) == 2357
    assert summary.index.tolist() == cdnow["ID"].tolist()
    np.testing.assert_array_equal(summary["frequency"].to_numpy(), cdnow["x"].to_numpy())
    np.testing.assert_allclose(summary["recency"].to_numpy(), cdnow["t_x"].to_numpy(), atol=0.005)
    np.testing.assert_allclose(summary["T"].to_numpy(), cdnow["T"].to_numpy(), atol=0.005)
    np.testing.assert_allclose(summary["monetary_value"].to_numpy(), cdnow["zbar"].to_numpy(), atol=0.005)
