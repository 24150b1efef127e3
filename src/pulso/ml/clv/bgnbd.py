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
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from pulso.ml.clv._arrays import (
    FloatArray,
    IntArray,
    check_summary,
    check_weights,
    compress,
    distinct_pairs,
    dot,
    maximise,
    thin,
    weighted_counts,
)


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
    """The data, factorised once. The first branch of L depends on (x, T) only and the second on (x, t_x) only, so
    both are evaluated once per distinct pair; only their log-sum-exp is per row, and only for rows with x > 0
    (for x = 0 the second branch is absent). With day-resolution data the pairs are far fewer than the rows."""

    x_values: FloatArray  # distinct x
    T_values: FloatArray  # distinct T
    tx_values: FloatArray  # distinct t_x
    pair1_x: IntArray  # distinct (x, T) pairs: index into x_values and T_values
    pair1_age: IntArray
    pair1_weight: FloatArray  # total weight of the rows of each (x, T) pair
    pair2_x: IntArray  # distinct (x, t_x) pairs among rows with x > 0
    pair2_tx: IntArray
    row_pair1: IntArray  # rows with x > 0: their (x, T) pair, (x, t_x) pair and weight
    row_pair2: IntArray
    row_weight: FloatArray
    weight_per_x: FloatArray

    @classmethod
    def build(cls, x: FloatArray, t_x: FloatArray, T: FloatArray, weights: FloatArray) -> Design:
        x_index, x_values = pd.factorize(x)
        T_index, T_values = pd.factorize(T)
        tx_index, tx_values = pd.factorize(t_x)
        pair1, pair1_x, pair1_age = distinct_pairs(x_index, T_index, len(T_values))
        repeat = x > 0
        pair2, pair2_x, pair2_tx = distinct_pairs(x_index[repeat], tx_index[repeat], len(tx_values))
        pair1_weight = weighted_counts(pair1, weights, len(pair1_x))
        return cls(
            x_values=np.asarray(x_values, dtype=np.float64),
            T_values=np.asarray(T_values, dtype=np.float64),
            tx_values=np.asarray(tx_values, dtype=np.float64),
            pair1_x=pair1_x,
            pair1_age=pair1_age,
            pair1_weight=pair1_weight,
            pair2_x=pair2_x,
            pair2_tx=pair2_tx,
            row_pair1=pair1[repeat],
            row_pair2=pair2,
            row_weight=weights[repeat],
            weight_per_x=weighted_counts(pair1_x, pair1_weight, len(x_values)),
        )


def neg_log_likelihood(log_params: FloatArray, d: Design) -> tuple[float, FloatArray]:
    """Minus the weighted log-likelihood and its exact gradient with respect to (log r, log alpha, log a, log b).

    log L = g(x) + log(exp(u1) + exp(u2)) with g(x) = lnG(r+x) - lnG(r) + r ln(alpha) - lnB(a, b),
    u1 = lnB(a, b+x) - (r+x) ln(alpha+T) and u2 = lnB(a+1, b+x-1) - (r+x) ln(alpha+t_x); the gradient is
    dg + pi1 du1 + pi2 du2 with pi2 = expit(u2 - u1) the second branch's share.
    """
    r, alpha, a, b = np.exp(log_params)
    ux = d.x_values
    repeat = ux > 0
    ux_safe = np.where(repeat, ux, 1.0)
    psi_abx = digamma(a + b + ux)
    g = gammaln(r + ux) - gammaln(r) + r * np.log(alpha) - betaln(a, b)
    log_T, log_tx = np.log(alpha + d.T_values), np.log(alpha + d.tx_values)
    rx1, rx2 = (r + ux)[d.pair1_x], (r + ux)[d.pair2_x]
    u1 = betaln(a, b + ux)[d.pair1_x] - rx1 * log_T[d.pair1_age]
    u2 = np.where(repeat, betaln(a + 1, b + ux_safe - 1), 0.0)[d.pair2_x] - rx2 * log_tx[d.pair2_tx]
    gap = u2[d.row_pair2] - u1[d.row_pair1]
    softplus = np.logaddexp(0.0, gap)
    share2 = d.row_weight * np.exp(gap - softplus)  # weight times expit(gap)
    value = dot(d.pair1_weight, g[d.pair1_x] + u1) + dot(d.row_weight, softplus)
    w2_pair1 = weighted_counts(d.row_pair1, share2, len(u1))
    w2_pair2 = weighted_counts(d.row_pair2, share2, len(u2))
    w1_pair1 = d.pair1_weight - w2_pair1
    s1 = weighted_counts(d.pair1_x, w1_pair1, len(ux))
    s2 = weighted_counts(d.pair2_x, w2_pair2, len(ux))
    total = d.weight_per_x.sum()
    d_r = d.weight_per_x @ (digamma(r + ux) - digamma(r)) + total * np.log(alpha)
    d_r -= dot(w1_pair1, log_T[d.pair1_age]) + dot(w2_pair2, log_tx[d.pair2_tx])
    d_alpha = total * r / alpha - dot(w1_pair1, rx1 / (alpha + d.T_values[d.pair1_age]))
    d_alpha -= dot(w2_pair2, rx2 / (alpha + d.tx_values[d.pair2_tx]))
    psi_ab = digamma(a + b)
    d_a = total * (psi_ab - digamma(a)) + s1 @ (digamma(a) - psi_abx)
    d_a += s2 @ np.where(repeat, digamma(a + 1) - psi_abx, 0.0)
    d_b = total * (psi_ab - digamma(b)) + s1 @ (digamma(b + ux) - psi_abx)
    d_b += s2 @ np.where(repeat, digamma(b + ux_safe - 1) - psi_abx, 0.0)
    grad = np.array([d_r * r, d_alpha * alpha, d_a * a, d_b * b])
    return -float(value), -grad


WARM_START_CUSTOMERS = 50_000


class BetaGeoModel(BaseEstimator):  # type: ignore[misc]  # sklearn ships no type hints
    """BG/NBD fitted by maximum likelihood; parameters named as in the paper: ``r_``, ``alpha_``, ``a_``, ``b_``."""

    def __init__(self, compress_rows: bool = True) -> None:
        self.compress_rows = compress_rows

    def fit(self, frequency: object, recency: object, T: object, weights: object | None = None) -> BetaGeoModel:
        x, t_x, age = check_summary(frequency, recency, T)
        w = check_weights(weights, len(x))
        if self.compress_rows and weights is None:
            (x, t_x, age), w = compress(x, t_x, age)
        mean_rate = max(float(w @ x) / float(w @ age), 1e-6)
        start = np.log(np.array([1.0, 1.0 / mean_rate, 1.0, 1.0]))
        inverse_hessian = None
        sample = thin(w, WARM_START_CUSTOMERS)
        if sample is not None:  # a fit on 5% of the customers gives the start and curvature
            keep = sample > 0
            small = Design.build(x[keep], t_x[keep], age[keep], sample[keep])
            warm = maximise(lambda theta: neg_log_likelihood(theta, small), start, float(sample.sum()))
            start, inverse_hessian = warm.log_params, warm.inverse_hessian
        design = Design.build(x, t_x, age, w)
        result = maximise(lambda theta: neg_log_likelihood(theta, design), start, float(w.sum()), inverse_hessian)
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
        check_is_fitted(self, "r_")

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
