"""Pareto/NBD (Schmittlein, Morrison & Colombo 1987), in the closed form of Fader & Hardie's note "A note on deriving
the Pareto/NBD model and related expressions" (2005): purchases at a Poisson rate lambda ~ Gamma(r, alpha) while
alive; an exponential lifetime with rate mu ~ Gamma(s, beta).

    L = G(r+x) alpha^r beta^s / G(r) * [ 1/((alpha+T)^(r+x) (beta+T)^s) + s/(r+s+x) * A0 ]

    A0 = F(r+s+x, s+1; r+s+x+1; (alpha-beta)/(alpha+t_x)) / (alpha+t_x)^(r+s+x)
         - F(r+s+x, s+1; r+s+x+1; (alpha-beta)/(alpha+T)) / (alpha+T)^(r+s+x)          if alpha >= beta
    A0 = F(r+s+x, r+x; r+s+x+1; (beta-alpha)/(beta+t_x)) / (beta+t_x)^(r+s+x) - (same at T)  if alpha < beta

with F the Gauss hypergeometric function (scipy.special.hyp2f1). Everything is combined in logs. The died branch
s/(r+s+x) A0 equals s J, J the integral over (t_x, T] of (alpha+y)^-(r+x) (beta+y)^-(s+1) dy; the gradient uses
that form: d ln J is minus a mean of ln(alpha+y), 1/(alpha+y), ... over that integrand, computed by Gauss-Legendre
quadrature after a change of variable that makes the integrand smooth (F has no closed-form derivative in its
parameters).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import digamma, expit, gammaln, hyp2f1
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
)
from pulso.ml.clv.bgnbd import WARM_START_CUSTOMERS


def _log_hypergeometric_term(r: float, alpha: float, s: float, beta: float, x: FloatArray, y: FloatArray) -> FloatArray:
    """log of one of A0's two terms, F(...; z(y)) / (base+y)^(r+s+x), at y = t_x or y = T."""
    rsx = r + s + x
    if alpha >= beta:
        b_param: FloatArray | float = s + 1.0
        shift, base = alpha - beta, alpha
    else:
        b_param, shift, base = r + x, beta - alpha, beta
    return np.asarray(np.log(hyp2f1(rsx, b_param, rsx + 1, shift / (base + y))) - rsx * np.log(base + y))


def _log_difference(log_at_tx: FloatArray, log_at_T: FloatArray) -> FloatArray:
    """log A0 = log(exp(at t_x) - exp(at T)); -inf when t_x = T."""
    with np.errstate(divide="ignore"):
        gap = np.minimum(log_at_T - log_at_tx, 0.0)
        return np.asarray(log_at_tx + np.log(-np.expm1(gap)), dtype=np.float64)


def _log_a0(r: float, alpha: float, s: float, beta: float, x: FloatArray, t_x: FloatArray, T: FloatArray) -> FloatArray:
    """log A0 (the died-between-t_x-and-T branch, without its s/(r+s+x) factor)."""
    return _log_difference(
        _log_hypergeometric_term(r, alpha, s, beta, x, t_x), _log_hypergeometric_term(r, alpha, s, beta, x, T)
    )


def _log_alive_term(r: float, alpha: float, s: float, beta: float, x: FloatArray, T: FloatArray) -> FloatArray:
    return np.asarray(-(r + x) * np.log(alpha + T) - s * np.log(beta + T), dtype=np.float64)


def _log_scale(r: float, alpha: float, s: float, beta: float, x: FloatArray) -> FloatArray:
    return np.asarray(gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta), dtype=np.float64)


def log_likelihood(
    r: float, alpha: float, s: float, beta: float, x: FloatArray, t_x: FloatArray, T: FloatArray
) -> FloatArray:
    """Per-customer log-likelihood."""
    died = np.log(s) - np.log(r + s + x) + _log_a0(r, alpha, s, beta, x, t_x, T)
    alive = _log_alive_term(r, alpha, s, beta, x, T)
    return np.asarray(_log_scale(r, alpha, s, beta, x) + np.logaddexp(alive, died), dtype=np.float64)


@dataclass(frozen=True)
class ParetoDesign:
    """The data, factorised once: the terms at T depend on (x, T) only and those at t_x on (x, t_x) only, so the
    hypergeometric functions are evaluated once per distinct pair rather than per customer."""

    x_values: FloatArray
    age_pair_x: IntArray  # distinct (x, T) pairs
    age_pair_age: FloatArray
    recency_pair_x: IntArray  # distinct (x, t_x) pairs
    recency_pair_tx: FloatArray
    row_x: IntArray  # per row: index of x, of its (x, T) pair, of its (x, t_x) pair
    row_age_pair: IntArray
    row_recency_pair: IntArray
    x: FloatArray
    t_x: FloatArray
    T: FloatArray
    weights: FloatArray

    @classmethod
    def build(cls, x: FloatArray, t_x: FloatArray, T: FloatArray, weights: FloatArray) -> ParetoDesign:
        x_index, x_values = pd.factorize(x)
        T_index, T_values = pd.factorize(T)
        tx_index, tx_values = pd.factorize(t_x)
        age_pair, age_x, age_T = distinct_pairs(x_index, T_index, len(T_values))
        recency_pair, recency_x, recency_tx = distinct_pairs(x_index, tx_index, len(tx_values))
        return cls(
            x_values=np.asarray(x_values, dtype=np.float64),
            age_pair_x=age_x,
            age_pair_age=np.asarray(T_values, dtype=np.float64)[age_T],
            recency_pair_x=recency_x,
            recency_pair_tx=np.asarray(tx_values, dtype=np.float64)[recency_tx],
            row_x=x_index.astype(np.intp),
            row_age_pair=age_pair,
            row_recency_pair=recency_pair,
            x=x,
            t_x=t_x,
            T=T,
            weights=weights,
        )


def _row_terms(log_params: FloatArray, d: ParetoDesign) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Per row: log of the common factor, of the alive-at-T branch and of the died-in-(t_x, T] branch (s J)."""
    r, alpha, s, beta = (float(v) for v in np.exp(log_params))
    ux = d.x_values
    age_x = ux[d.age_pair_x]
    at_T = _log_hypergeometric_term(r, alpha, s, beta, age_x, d.age_pair_age)
    alive = _log_alive_term(r, alpha, s, beta, age_x, d.age_pair_age)
    at_tx = _log_hypergeometric_term(r, alpha, s, beta, ux[d.recency_pair_x], d.recency_pair_tx)
    log_a0 = _log_difference(at_tx[d.row_recency_pair], at_T[d.row_age_pair])
    died = (np.log(s) - np.log(r + s + ux))[d.row_x] + log_a0
    return _log_scale(r, alpha, s, beta, ux)[d.row_x], alive[d.row_age_pair], died


def design_log_likelihood(log_params: FloatArray, d: ParetoDesign) -> float:
    """The weighted log-likelihood, with the hypergeometric terms evaluated per distinct pair."""
    scale, alive, died = _row_terms(log_params, d)
    return dot(d.weights, scale + np.logaddexp(alive, died))


NODES, WEIGHTS = np.polynomial.legendre.leggauss(48)
# the quadrature gradient is accurate to about 1e-6 relative: a tighter tolerance only spends line searches
GTOL = 1e-7
MAX_DECAY = 45.0  # e^-45: beyond this the died-branch density is negligible next to its mass near t_x


def died_branch_moments(
    r: float, alpha: float, s: float, beta: float, x: FloatArray, t_x: FloatArray, T: FloatArray, chunk: int = 20_000
) -> FloatArray:
    """Means of ln(alpha+y), 1/(alpha+y), ln(beta+y), 1/(beta+y) over y in [t_x, T] under the density proportional
    to K(y) = (alpha+y)^-(r+x) (beta+y)^-(s+1), the integrand of the died branch s J = s * integral of K.

    The derivatives of ln J are minus these means (times r+x and s+1 for alpha and beta). With
    alpha+y = (alpha+t_x) e^(u/(r+s+x)), K dy is proportional to e^-u ((alpha+y)/(beta+y))^(s+1) du, a decaying
    exponential times a smooth bounded factor, integrated by 48-point Gauss-Legendre on u in [0, min(U, 45)]."""
    out = np.zeros((4, len(x)))
    for start in range(0, len(x), chunk):  # bounded memory: rows x nodes per chunk
        rows = slice(start, start + chunk)
        a = r + s + x[rows]
        log_at = np.log(alpha + t_x[rows])
        span = np.minimum(a * (np.log(alpha + T[rows]) - log_at), MAX_DECAY)
        half = span[:, None] / 2
        u = half * (NODES[None, :] + 1)
        log_alpha_y = log_at[:, None] + u / a[:, None]
        alpha_y = np.exp(log_alpha_y)
        beta_y = alpha_y - (alpha - beta)
        mass = half * WEIGHTS[None, :] * np.exp(-u + (s + 1) * (log_alpha_y - np.log(beta_y)))
        total = mass.sum(axis=1)
        total = np.where(total > 0, total, 1.0)
        for i, values in enumerate((log_alpha_y, 1 / alpha_y, np.log(beta_y), 1 / beta_y)):
            out[i, rows] = (mass * values).sum(axis=1) / total
    return out


def neg_log_likelihood(log_params: FloatArray, d: ParetoDesign) -> tuple[float, FloatArray]:
    """Minus the weighted log-likelihood and its gradient in (log r, log alpha, log s, log beta).

    d ln L = d ln C + (1 - pi) d ln(alive) + pi d ln(s J), pi the died branch's share of L. The alive branch and
    the common factor C have closed-form derivatives; d ln J is minus a mean over the died branch's density
    (:func:`died_branch_moments`), so the gradient is exact up to a 48-point quadrature of smooth integrands."""
    with np.errstate(all="ignore"):
        scale, alive, died = _row_terms(log_params, d)
        value = dot(d.weights, scale + np.logaddexp(alive, died))
    if not np.isfinite(value):
        return np.inf, np.zeros(4)  # outside the region hyp2f1 evaluates: the line search steps back
    r, alpha, s, beta = (float(v) for v in np.exp(log_params))
    x, T, w = d.x, d.T, d.weights
    share = expit(died - alive)  # pi; 0 where t_x = T
    w_died = w * share
    w_alive = w - w_died
    moments = np.zeros((4, len(x)))
    active = share > 0
    moments[:, active] = died_branch_moments(r, alpha, s, beta, x[active], d.t_x[active], T[active])
    mean_log_alpha, mean_inv_alpha, mean_log_beta, mean_inv_beta = moments
    total = float(w.sum())
    d_r = dot(w, digamma(r + x)) - total * digamma(r) + total * np.log(alpha)
    d_r -= dot(w_alive, np.log(alpha + T)) + dot(w_died, mean_log_alpha)
    d_alpha = total * r / alpha - dot(w_alive, (r + x) / (alpha + T)) - dot(w_died, (r + x) * mean_inv_alpha)
    d_s = total * np.log(beta) - dot(w_alive, np.log(beta + T)) + dot(w_died, 1 / s - mean_log_beta)
    d_beta = total * s / beta - s * dot(w_alive, 1 / (beta + T)) - (s + 1) * dot(w_died, mean_inv_beta)
    grad = np.array([d_r * r, d_alpha * alpha, d_s * s, d_beta * beta])
    return -value, -grad


class ParetoNBDModel(BaseEstimator):  # type: ignore[misc]  # sklearn ships no type hints
    """Pareto/NBD fitted by maximum likelihood; parameters named as in the papers: ``r_``, ``alpha_``, ``s_``,
    ``beta_``."""

    def __init__(self, compress_rows: bool = True) -> None:
        self.compress_rows = compress_rows

    def fit(self, frequency: object, recency: object, T: object, weights: object | None = None) -> ParetoNBDModel:
        x, t_x, age = check_summary(frequency, recency, T)
        w = check_weights(weights, len(x))
        if self.compress_rows and weights is None:
            (x, t_x, age), w = compress(x, t_x, age)
        mean_rate = max(float(w @ x) / float(w @ age), 1e-6)
        start = np.log(np.array([1.0, 1.0 / mean_rate, 1.0, float(np.mean(age))]))
        inverse_hessian = None
        sample = thin(w, WARM_START_CUSTOMERS)
        if sample is not None:  # a fit on a subsample gives the start and curvature, as for BG/NBD
            keep = sample > 0
            small = ParetoDesign.build(x[keep], t_x[keep], age[keep], sample[keep])
            warm = maximise(lambda theta: neg_log_likelihood(theta, small), start, float(sample.sum()), gtol=GTOL)
            start, inverse_hessian = warm.log_params, warm.inverse_hessian
        design = ParetoDesign.build(x, t_x, age, w)
        result = maximise(
            lambda theta: neg_log_likelihood(theta, design), start, float(w.sum()), inverse_hessian, gtol=GTOL
        )
        self.r_, self.alpha_, self.s_, self.beta_ = (float(v) for v in np.exp(result.log_params))
        self.log_likelihood_ = result.log_likelihood
        self.n_iter_ = result.iterations
        self.converged_ = result.converged
        self.n_customers_ = float(w.sum())
        return self

    @property
    def params_(self) -> dict[str, float]:
        return {"r": self.r_, "alpha": self.alpha_, "s": self.s_, "beta": self.beta_}

    def probability_alive(self, x: object, t_x: object, T: object) -> FloatArray:
        """P(alive | x, t_x, T): the alive-at-T branch's share of the likelihood (Fader & Hardie 2005 note, eq. 18)."""
        check_is_fitted(self, "r_")
        xs, txs, ages = check_summary(x, t_x, T)
        r, alpha, s, beta = self.r_, self.alpha_, self.s_, self.beta_
        log_l = log_likelihood(r, alpha, s, beta, xs, txs, ages)
        return np.asarray(
            np.exp(_log_scale(r, alpha, s, beta, xs) + _log_alive_term(r, alpha, s, beta, xs, ages) - log_l)
        )

    def conditional_expected_purchases(self, t: float, x: object, t_x: object, T: object) -> FloatArray:
        """E[Y(t) | x, t_x, T] = (r+x)(beta+T) / ((alpha+T)(s-1)) [1 - ((beta+T)/(beta+T+t))^(s-1)] P(alive)
        (note eq. 22; at s = 1 the bracket's limit (beta+T) ln((beta+T+t)/(beta+T)) is used)."""
        alive = self.probability_alive(x, t_x, T)
        xs, _, ages = check_summary(x, t_x, T)
        r, alpha, s, beta = self.r_, self.alpha_, self.s_, self.beta_
        if abs(s - 1.0) < 1e-10:
            horizon = (beta + ages) * np.log((beta + ages + t) / (beta + ages))
        else:
            horizon = (beta + ages) / (s - 1) * (1.0 - ((beta + ages) / (beta + ages + t)) ** (s - 1))
        return np.asarray((r + xs) / (alpha + ages) * horizon * alive, dtype=np.float64)
