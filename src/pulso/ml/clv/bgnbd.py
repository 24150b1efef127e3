"""BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way"): repeat purchases at a Poisson rate
lambda ~ Gamma(r, alpha) while alive; after each repeat purchase the customer drops out with probability
p ~ Beta(a, b).

The log-likelihood (paper eq. 6) of one customer with x repeat purchases, the last at t_x, observed for T:

    L = B(a, b+x)/B(a, b) * G(r+x) alpha^r / (G(r) (alpha+T)^(r+x))
        + [x > 0] B(a+1, b+x-1)/B(a, b) * G(r+x) alpha^r / (G(r) (alpha+t_x)^(r+x))

is computed as gammaln/betaln terms plus a log-sum-exp of the two branches, with its exact gradient in the
log-parameters. Functions of x alone are evaluated once per distinct x, of T and t_x once per distinct value.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import betaln, digamma, gammaln, hyp2f1

from pulso.ml.clv._arrays import FloatArray, check_summary, check_weights, compress, maximise


def log_likelihood(
    r: float, alpha: float, a: float, b: float, x: FloatArray, t_x: FloatArray, T: FloatArray
) -> FloatArray:
    """Per-customer log-likelihood, paper eq. 6 (reference form; the fit uses :func:`neg_log_likelihood`)."""
    first = betaln(a, b + x) - (r + x) * np.log(alpha + T)
    safe = np.where(x > 0, x, 1.0)
    second = np.where(x > 0, betaln(a + 1, b + safe - 1) - (r + x) * np.log(alpha + t_x), -np.inf)
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha) - betaln(a, b)
    return np.asarray(common + np.logaddexp(first, second), dtype=np.float64)


@dataclass(frozen=True)
class Design:
    """The data, factorised once: distinct x, t_x and T values and each row's index into them, plus weights."""

    x_values: FloatArray
    x_index: np.ndarray
    tx_values: FloatArray
    tx_index: np.ndarray
    T_values: FloatArray
    T_index: np.ndarray
    x: FloatArray
    weights: FloatArray

    @classmethod
    def build(cls, x: FloatArray, t_x: FloatArray, T: FloatArray, weights: FloatArray) -> Design:
        x_index, x_values = pd.factorize(x)
        tx_index, tx_values = pd.factorize(t_x)
        T_index, T_values = pd.factorize(T)
        return cls(x_values, x_index, tx_values, tx_index, T_values, T_index, x, weights)


def neg_log_likelihood(log_params: FloatArray, d: Design) -> tuple[float, FloatArray]:
    """Minus the weighted log-likelihood and its exact gradient with respect to (log r, log alpha, log a, log b)."""
    r, alpha, a, b = np.exp(log_params)
    ux = d.x_values
    repeat = ux > 0
    ux_safe = np.where(repeat, ux, 1.0)
    # functions of x alone, per distinct x
    beta1 = betaln(a, b + ux)
    beta2 = np.where(repeat, betaln(a + 1, b + ux_safe - 1), -np.inf)
    psi_abx = digamma(a + b + ux)
    gx = gammaln(r + ux) - gammaln(r) + r * np.log(alpha) - betaln(a, b)
    dgx_dr = digamma(r + ux) - digamma(r) + np.log(alpha)
    # functions of T and t_x, per distinct value
    log_aT, log_atx = np.log(alpha + d.T_values), np.log(alpha + d.tx_values)
    x = d.x
    rx = r + x
    lT, ltx = log_aT[d.T_index], log_atx[d.tx_index]
    u1 = beta1[d.x_index] - rx * lT
    u2 = beta2[d.x_index] - rx * ltx
    top = np.maximum(u1, u2)
    e1, e2 = np.exp(u1 - top), np.exp(u2 - top)
    total = e1 + e2
    w = d.weights
    value = float(w @ gx[d.x_index] + w @ (top + np.log(total)))
    w1 = w * e1 / total
    w2 = w - w1
    # sums over rows of each branch's weight, grouped by x, then per-x derivative factors
    n_x = len(ux)
    s1 = np.bincount(d.x_index, weights=w1, minlength=n_x)
    s2 = np.bincount(d.x_index, weights=w2, minlength=n_x)
    s_all = s1 + s2
    d_r = s_all @ dgx_dr - w1 @ lT - w2 @ ltx
    d_alpha = (
        (r / alpha) * s_all.sum()
        - w1 @ (rx / (alpha + d.T_values[d.T_index]))
        - w2 @ (rx / (alpha + d.tx_values[d.tx_index]))
    )
    psi_ab = digamma(a + b)
    d_a = (
        s_all.sum() * (psi_ab - digamma(a))
        + s1 @ (digamma(a) - psi_abx)
        + s2 @ np.where(repeat, digamma(a + 1) - psi_abx, 0.0)
    )
    d_b = (
        s_all.sum() * (psi_ab - digamma(b))
        + s1 @ (digamma(b + ux) - psi_abx)
        + s2 @ np.where(repeat, digamma(b + ux_safe - 1) - psi_abx, 0.0)
    )
    grad = np.array([d_r * r, d_alpha * alpha, d_a * a, d_b * b])
    return -value, -grad


class BetaGeoModel:
    """BG/NBD fitted by maximum likelihood; parameters named as in the paper: ``r_``, ``alpha_``, ``a_``, ``b_``."""

    def __init__(self, compress_rows: bool = True) -> None:
        self.compress_rows = compress_rows

    def fit(self, frequency: object, recency: object, T: object, weights: object | None = None) -> BetaGeoModel:
        x, t_x, age = check_summary(frequency, recency, T)
        w = check_weights(weights, len(x))
        if self.compress_rows and weights is None:
            (x, t_x, age), w = compress(x, t_x, age)
        design = Design.build(x, t_x, age, w)
        mean_rate = max(float(w @ x) / float(w @ age), 1e-6)
        start = np.log(np.array([1.0, 1.0 / mean_rate, 1.0, 1.0]))
        result = maximise(lambda theta: neg_log_likelihood(theta, design), start, float(w.sum()))
        self.r_, self.alpha_, self.a_, self.b_ = (float(v) for v in np.exp(result.log_params))
        self.log_likelihood_ = result.log_likelihood
        self.n_iter_ = result.iterations
        self.converged_ = result.converged
        self.n_customers_ = float(w.sum())
        return self

    @property
    def params_(self) -> dict[str, float]:
        return {"r": self.r_, "alpha": self.alpha_, "a": self.a_, "b": self.b_}

    def _check_fitted(self) -> None:
        if not hasattr(self, "r_"):
            raise RuntimeError("BetaGeoModel is not fitted yet; call fit first")

    def probability_alive(self, x: object, t_x: object, T: object) -> FloatArray:
        """P(alive | x, t_x, T) = 1 / (1 + [x > 0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x))  (FHL 2005 eq. 13)."""
        self._check_fitted()
        xs, txs, ages = check_summary(x, t_x, T)
        return 1.0 / (1.0 + _odds_dead(self, xs, txs, ages))

    def conditional_expected_purchases(self, t: float, x: object, t_x: object, T: object) -> FloatArray:
        """E[Y(t) | x, t_x, T], repeat purchases in the next t time units (FHL 2005 eq. 10)."""
        self._check_fitted()
        xs, txs, ages = check_summary(x, t_x, T)
        r, alpha, a, b = self.r_, self.alpha_, self.a_, self.b_
        z = t / (alpha + ages + t)
        head = (a + b + xs - 1) / (a - 1)
        body = 1.0 - ((alpha + ages) / (alpha + ages + t)) ** (r + xs) * hyp2f1(r + xs, b + xs, a + b + xs - 1, z)
        return np.asarray(head * body / (1.0 + _odds_dead(self, xs, txs, ages)), dtype=np.float64)

    def expected_purchases(self, t: float) -> float:
        """E[X(t)] for a new customer (FHL 2005 eq. 9)."""
        self._check_fitted()
        r, alpha, a, b = self.r_, self.alpha_, self.a_, self.b_
        hyp = hyp2f1(r, b, a + b - 1, t / (alpha + t))
        return float((a + b - 1) / (a - 1) * (1.0 - (alpha / (alpha + t)) ** r * hyp))


def _odds_dead(model: BetaGeoModel, x: FloatArray, t_x: FloatArray, T: FloatArray) -> FloatArray:
    """[x > 0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x), computed in logs."""
    r, alpha, a, b = model.r_, model.alpha_, model.a_, model.b_
    safe = np.where(x > 0, x, 1.0)
    log_odds = np.log(a) - np.log(b + safe - 1) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
    return np.where(x > 0, np.exp(np.minimum(log_odds, 700.0)), 0.0)
