"""Pareto/NBD (Schmittlein, Morrison & Colombo 1987), in the closed form of Fader & Hardie's note "A note on deriving
the Pareto/NBD model and related expressions" (2005): purchases at a Poisson rate lambda ~ Gamma(r, alpha) while
alive; an exponential lifetime with rate mu ~ Gamma(s, beta).

    L = G(r+x) alpha^r beta^s / G(r) * [ 1/((alpha+T)^(r+x) (beta+T)^s) + s/(r+s+x) * A0 ]

    A0 = F(r+s+x, s+1; r+s+x+1; (alpha-beta)/(alpha+t_x)) / (alpha+t_x)^(r+s+x)
         - F(r+s+x, s+1; r+s+x+1; (alpha-beta)/(alpha+T)) / (alpha+T)^(r+s+x)          if alpha >= beta
    A0 = F(r+s+x, r+x; r+s+x+1; (beta-alpha)/(beta+t_x)) / (beta+t_x)^(r+s+x) - (same at T)  if alpha < beta

with F the Gauss hypergeometric function (scipy.special.hyp2f1). Everything is combined in logs. The died branch
s/(r+s+x) A0 equals s J, J the integral over (t_x, T] of K(y) = (alpha+y)^-(r+x) (beta+y)^-(s+1) dy; the gradient
and Hessian use that form: d ln J is minus a mean of ln(alpha+y), 1/(alpha+y), ... under the density K, and
d2 ln J a covariance of the same plus a mean of d2 ln K, computed by Gauss-Legendre quadrature after a change of
variable that makes the integrand smooth (F has no closed-form derivative in its parameters).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd
from scipy.special import digamma, gammaln, hyp2f1, polygamma
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from pulso.ml.clv._arrays import (
    FloatArray,
    IntArray,
    check_summary,
    check_weights,
    distinct_pairs,
    dot,
    softplus_and_expit,
    weighted_counts,
)
from pulso.ml.clv._optimise import newton, to_log_space
from pulso.ml.clv.bgnbd import WARM_START_CUSTOMERS, Design


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
MAX_DECAY = 45.0  # e^-45: beyond this the died-branch density is negligible next to its mass near t_x
# the second moments E[f_i f_j], i <= j, in this order
PAIRS = [(i, j) for i in range(4) for j in range(i, 4)]


def died_branch_moments(
    r: float, alpha: float, s: float, beta: float, x: FloatArray, t_x: FloatArray, T: FloatArray, chunk: int = 20_000
) -> tuple[FloatArray, FloatArray]:
    """Means (4 x rows) and second moments (10 x rows, the pairs of PAIRS) of f = (ln(alpha+y), 1/(alpha+y),
    ln(beta+y), 1/(beta+y)) over y in [t_x, T] under the density proportional to K(y) = (alpha+y)^-(r+x)
    (beta+y)^-(s+1), the integrand of the died branch s J = s * integral of K.

    The derivatives of ln J are minus the means (times r+x and s+1 for alpha and beta); its second derivatives
    are covariances of those plus means of the second derivatives of ln K. With alpha+y = (alpha+t_x)
    e^(u/(r+s+x)), K dy is proportional to e^-u ((alpha+y)/(beta+y))^(s+1) du, a decaying exponential times a
    smooth bounded factor, integrated by 48-point Gauss-Legendre on u in [0, min(U, 45)]: the mass agrees with
    the closed form (hyp2f1) to 1e-12. Rows are processed in blocks to bound memory (rows x 48 nodes)."""
    means, second = np.zeros((4, len(x))), np.zeros((len(PAIRS), len(x)))
    for start in range(0, len(x), chunk):
        rows = slice(start, start + chunk)
        a = r + s + x[rows]
        log_at = np.log(alpha + t_x[rows])
        span = np.minimum(a * (np.log(alpha + T[rows]) - log_at), MAX_DECAY)
        half = span[:, None] / 2
        u = half * (NODES[None, :] + 1)
        log_alpha_y = log_at[:, None] + u / a[:, None]
        alpha_y = np.exp(log_alpha_y)
        beta_y = alpha_y - (alpha - beta)
        log_beta_y = np.log(beta_y)
        mass = half * WEIGHTS[None, :] * np.exp(-u + (s + 1) * (log_alpha_y - log_beta_y))
        total = mass.sum(axis=1)
        mass /= np.where(total > 0, total, 1.0)[:, None]
        values = (log_alpha_y, 1 / alpha_y, log_beta_y, 1 / beta_y)
        weighted = [mass * f for f in values]
        for i, product in enumerate(weighted):
            means[i, rows] = product.sum(axis=1)
        for k, (i, j) in enumerate(PAIRS):
            second[k, rows] = np.einsum("nk,nk->n", weighted[i], values[j])
    return means, second


def neg_log_likelihood(log_params: FloatArray, d: ParetoDesign) -> tuple[float, FloatArray, FloatArray]:
    """Minus the weighted log-likelihood, its gradient and Hessian in (log r, log alpha, log s, log beta).

    ln L = ln C + ln(alive + died) with C = G(r+x) alpha^r beta^s / G(r), alive = (alpha+T)^-(r+x) (beta+T)^-s
    and died = s J. With pi the died branch's share and delta = d ln(died) - d ln(alive):
    d ln L = d ln C + d ln alive + pi delta and d2 ln L = d2 ln C + d2 ln alive + pi (d2 ln died - d2 ln alive)
    + pi (1 - pi) delta delta'. C and alive have closed-form derivatives; d ln J is minus a mean and d2 ln J a
    covariance plus a mean over the died branch's density (:func:`died_branch_moments`): exact up to a 48-point
    quadrature that reproduces the closed form to 1e-12."""
    with np.errstate(all="ignore"):
        scale, alive, died = _row_terms(log_params, d)
        softplus, share = softplus_and_expit(died - alive)  # share: pi; 0 where t_x = T
        value = dot(d.weights, scale + alive + softplus)
    if not np.isfinite(value):
        return np.inf, np.zeros(4), np.zeros((4, 4))  # outside the region hyp2f1 evaluates: the step is refused
    params = np.exp(log_params)
    alive_grad, gradient, hessian = _closed_form_terms(params, d)
    active = np.flatnonzero(share > 0)
    if len(active):
        died_gradient, died_hessian = _died_branch_terms(params, d, active, share.take(active), alive_grad)
        gradient, hessian = gradient + died_gradient, hessian + died_hessian
    upper = np.triu_indices(4, 1)
    hessian[upper[1], upper[0]] = hessian[upper]
    grad_log, hess_log = to_log_space(params, gradient, hessian)
    return -value, -grad_log, -hess_log


def _closed_form_terms(params: FloatArray, d: ParetoDesign) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Per row, d ln alive (4 x rows); the gradient and upper Hessian of sum w (ln C + ln alive)."""
    r, alpha, s, beta = (float(v) for v in params)
    x, T, w, ux = d.x, d.T, d.weights, d.x_values
    inverse_age, inverse_beta_age = 1 / (alpha + T), 1 / (beta + T)
    alive_grad = np.array([-np.log(alpha + T), -(r + x) * inverse_age, -np.log(beta + T), -s * inverse_beta_age])
    total = float(w.sum())
    weight_per_x = weighted_counts(d.row_x, w, len(ux))
    gradient = np.einsum("n,in->i", w, alive_grad) + np.array(
        [
            float(weight_per_x @ digamma(r + ux)) - total * float(digamma(r)) + total * np.log(alpha),
            total * r / alpha,
            total * np.log(beta),
            total * s / beta,
        ]
    )
    hessian = np.zeros((4, 4))
    hessian[0, 0] = float(weight_per_x @ polygamma(1, r + ux)) - total * float(polygamma(1, r))
    hessian[0, 1] = total / alpha - dot(w, inverse_age)
    hessian[1, 1] = -total * r / alpha**2 + dot(w, (r + x) * inverse_age**2)
    hessian[2, 3] = total / beta - dot(w, inverse_beta_age)
    hessian[3, 3] = -total * s / beta**2 + s * dot(w, inverse_beta_age**2)
    return alive_grad, gradient, hessian


def _died_branch_terms(
    params: FloatArray, d: ParetoDesign, active: IntArray, share: FloatArray, alive_grad: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """sum w pi delta and the upper part of sum w [pi (d2 ln died - d2 ln alive) + pi (1 - pi) delta delta'] over
    the rows where the died branch has weight. d ln died = scales * E[f] + (0, 0, 1/s, 0); d2 ln died =
    scales_i scales_j Cov(f_i, f_j) + E[d2 ln K] - 1/s^2 on (s, s), with E[d2 ln K] = -E[f_1] on (r, alpha),
    (r+x) E[f_1^2] on (alpha, alpha), -E[f_3] on (s, beta) and (s+1) E[f_3^2] on (beta, beta)."""
    r, alpha, s, beta = (float(v) for v in params)
    x, T = d.x.take(active), d.T.take(active)
    w_died = d.weights.take(active) * share
    means, second = died_branch_moments(r, alpha, s, beta, x, d.t_x.take(active), T)
    rate, inverse_age, inverse_beta_age = r + x, 1 / (alpha + T), 1 / (beta + T)
    scales = _died_scales(rate, s)
    delta = scales * means - alive_grad[:, active]
    delta[2] += 1 / s
    curvature = {(i, j): scales[i] * scales[j] * (second[k] - means[i] * means[j]) for k, (i, j) in enumerate(PAIRS)}
    curvature[(0, 1)] += -means[1] + inverse_age
    curvature[(1, 1)] += rate * (second[PAIRS.index((1, 1))] - inverse_age**2)
    curvature[(2, 3)] += -means[3] + inverse_beta_age
    curvature[(3, 3)] += (s + 1) * second[PAIRS.index((3, 3))] - s * inverse_beta_age**2
    curvature[(2, 2)] -= 1 / s**2
    hessian = np.zeros((4, 4))
    for (i, j), values in curvature.items():
        hessian[i, j] = dot(w_died, values)
    hessian += np.triu(np.einsum("n,in,jn->ij", w_died * (1 - share), delta, delta))
    return np.einsum("n,in->i", w_died, delta), hessian


def _died_scales(rate: FloatArray, s: float) -> FloatArray:
    """d ln K / d(r, alpha, s, beta) = scales * f: (-1, -(r+x), -1, -(s+1))."""
    ones = np.ones(len(rate))
    return np.array([-ones, -rate, -ones, -(s + 1) * ones])


def _rows(design: Design) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """x, t_x, T and weight of BG/NBD's reduced rows: the customers without a repeat purchase one row per T, the
    repeat buyers one row each (or per distinct (x, t_x, T))."""
    zero = np.flatnonzero(design.zero_weight_per_age > 0)
    return (
        np.concatenate([np.zeros(len(zero)), design.x_values.take(design.row_x)]),
        np.concatenate([np.zeros(len(zero)), design.tx_values.take(design.row_tx)]),
        np.concatenate([design.T_values.take(zero), design.T_values.take(design.row_age)]),
        np.concatenate([design.zero_weight_per_age.take(zero), design.row_weight]),
    )


class ParetoNBDModel(BaseEstimator):  # type: ignore[misc]  # sklearn ships no type hints
    """Pareto/NBD fitted by maximum likelihood; parameters named as in the papers: ``r_``, ``alpha_``, ``s_``,
    ``beta_``."""

    def __init__(self, compress_rows: bool = True) -> None:
        self.compress_rows = compress_rows

    def fit(self, frequency: object, recency: object, T: object, weights: object | None = None) -> ParetoNBDModel:
        x, t_x, age = check_summary(frequency, recency, T)
        w = check_weights(weights, len(x))
        reduced = Design.build(x, t_x, age, w, compress=self.compress_rows, hash_rows=True)
        total = reduced.total_weight
        mean_rate = max(float(reduced.x_weight_per_age.sum() / (reduced.weight_per_age @ reduced.T_values)), 1e-6)
        mean_age = float(reduced.weight_per_age @ reduced.T_values) / total
        start = np.log(np.array([1.0, 1.0 / mean_rate, 1.0, mean_age]))
        if len(reduced.row_weight) > 4 * WARM_START_CUSTOMERS:  # a fit on a subsample gives the start
            small = ParetoDesign.build(*_rows(reduced.subsample(WARM_START_CUSTOMERS)))
            start = newton(partial(neg_log_likelihood, d=small), start, float(small.weights.sum())).log_params
        design = ParetoDesign.build(*_rows(reduced))
        result = newton(partial(neg_log_likelihood, d=design), start, total)
        self.r_, self.alpha_, self.s_, self.beta_ = (float(v) for v in np.exp(result.log_params))
        self.log_likelihood_ = result.log_likelihood
        self.n_iter_ = result.iterations
        self.converged_ = result.converged
        self.n_customers_ = total
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
