"""BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way"): repeat purchases at a Poisson rate
lambda ~ Gamma(r, alpha) while alive; after each repeat purchase the customer drops out with probability
p ~ Beta(a, b).

The log-likelihood (paper eq. 6) of one customer with x repeat purchases, the last at t_x, observed for T:

    L = B(a, b+x)/B(a, b) * G(r+x) alpha^r / (G(r) (alpha+T)^(r+x))
        + [x > 0] B(a+1, b+x-1)/B(a, b) * G(r+x) alpha^r / (G(r) (alpha+t_x)^(r+x))

is computed as gammaln/betaln terms plus a log-sum-exp of the two branches, with its exact gradient and Hessian in
the log-parameters for Newton's method. Functions of x alone are evaluated once per distinct x, of T and t_x once
per distinct value; only the log-sum-exp of repeat buyers is per row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.special import betaln, digamma, gammaln, hyp2f1, polygamma
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from pulso.ml.clv._arrays import (
    FloatArray,
    IntArray,
    check_summary,
    check_weights,
    dot,
    integer_codes,
    softplus_and_expit,
    weighted_counts,
)
from pulso.ml.clv._optimise import newton, to_log_space


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
    """The data, reduced to what the likelihood needs. Customers without a repeat purchase enter only through
    the weight per T; repeat buyers through the weight per x and per T, and one row each for the log-sum-exp
    (distinct (x, t_x, T) rows counted once when that is cheap), sorted by x so that sums per x are sums over
    contiguous slices."""

    x_values: FloatArray  # distinct x of the repeat rows, ascending
    group_starts: IntArray  # first repeat row of each
    T_values: FloatArray  # distinct T
    tx_values: FloatArray  # distinct t_x of the repeat rows
    row_x: IntArray  # repeat rows: index into x_values, T_values, tx_values; weight
    row_age: IntArray
    row_tx: IntArray
    row_weight: FloatArray
    zero_weight_per_age: FloatArray  # weight of the customers with x = 0 per T
    weight_per_x: FloatArray  # weight of the repeat rows per x (x_values)
    weight_per_age: FloatArray  # weight of all customers per T
    x_weight_per_age: FloatArray  # sum of w x per T
    workspace: FloatArray  # 10 x repeat rows, the per-row terms summed per x (reused by every evaluation)

    @classmethod
    def build(
        cls,
        x: FloatArray,
        t_x: FloatArray,
        T: FloatArray,
        weights: FloatArray,
        compress: bool = True,
        hash_rows: bool = False,
    ) -> Design:
        age_codes, T_uniques = pd.factorize(T)
        age_index, T_values = age_codes.astype(np.intp), np.asarray(T_uniques, dtype=np.float64)
        repeat = np.flatnonzero(x > 0)  # np.take with indices: 10 times faster than a boolean mask here
        x_index, x_values = integer_codes(x.take(repeat))
        tx_codes, tx_uniques = pd.factorize(t_x.take(repeat))
        age_rep, w_rep = age_index.take(repeat), weights.take(repeat)
        zero_weight = weighted_counts(age_index, weights, len(T_values))
        zero_weight -= weighted_counts(age_rep, w_rep, len(T_values))
        shape = (len(x_values), len(T_values), len(tx_uniques))
        rows = _sorted_rows(x_index, age_rep, tx_codes.astype(np.intp), w_rep, shape, compress, hash_rows)
        tx_values = np.asarray(tx_uniques, dtype=np.float64)
        return cls.assemble(x_values, T_values, tx_values, *rows, np.maximum(zero_weight, 0.0))

    @classmethod
    def assemble(
        cls,
        x_values: FloatArray,
        T_values: FloatArray,
        tx_values: FloatArray,
        row_x: IntArray,
        row_age: IntArray,
        row_tx: IntArray,
        row_weight: FloatArray,
        zero_weight_per_age: FloatArray,
    ) -> Design:
        """From repeat rows sorted by x (row_x indexes x_values) and the weight of x = 0 per T."""
        present = np.bincount(row_x, minlength=len(x_values)) > 0  # x with at least one row
        row_x = (np.cumsum(present) - 1).take(row_x)
        starts = np.searchsorted(row_x, np.arange(int(present.sum())))
        weight_per_age = weighted_counts(row_age, row_weight, len(T_values))
        x_weight_per_age = weighted_counts(row_age, row_weight * x_values[row_x], len(T_values))
        return cls(
            x_values=x_values[present],
            group_starts=starts.astype(np.intp),
            T_values=T_values,
            tx_values=tx_values,
            row_x=row_x.astype(np.intp),
            row_age=row_age.astype(np.intp),
            row_tx=row_tx.astype(np.intp),
            row_weight=row_weight,
            zero_weight_per_age=zero_weight_per_age,
            weight_per_x=np.add.reduceat(row_weight, starts) if len(starts) else np.zeros(0),
            weight_per_age=weight_per_age + zero_weight_per_age,
            x_weight_per_age=x_weight_per_age,
            workspace=np.empty((10, len(row_weight))),
        )

    @property
    def total_weight(self) -> float:
        return float(self.weight_per_age.sum())

    def subsample(self, size: float, seed: int = 0) -> Design:
        """About ``size`` customers: each repeat row kept with probability size / total weight, the customers
        without a repeat purchase scaled by it. Its optimum is a start a few Newton steps from the full one."""
        fraction = min(1.0, size / self.total_weight)
        keep = np.random.default_rng(seed).random(len(self.row_weight)) < fraction
        rows = np.flatnonzero(keep)
        return Design.assemble(
            self.x_values,
            self.T_values,
            self.tx_values,
            self.row_x.take(rows),
            self.row_age.take(rows),
            self.row_tx.take(rows),
            self.row_weight.take(rows),
            self.zero_weight_per_age * fraction,
        )


def _sorted_rows(
    x_index: IntArray,
    age_index: IntArray,
    tx_index: IntArray,
    weights: FloatArray,
    shape: tuple[int, int, int],
    compress: bool,
    hash_rows: bool,
) -> tuple[IntArray, IntArray, IntArray, FloatArray]:
    """The repeat rows sorted by x; with ``compress``, identical (x, T, t_x) rows counted once (with their total
    weight) when counting on the grid of distinct values is cheap, as with CDNOW's or tiled data, or always with
    ``hash_rows`` (hashing 400,000 rows costs about as much as two BG/NBD evaluations, far less than one of
    Pareto/NBD's)."""
    n_x, n_age, n_tx = shape
    cells = n_x * n_age * n_tx
    if compress and (cells <= 4 * len(x_index) + 100_000 or hash_rows):
        key = (x_index.astype(np.int64) * n_age + age_index) * n_tx + tx_index
        if cells <= 4 * len(x_index) + 100_000:
            counts = np.bincount(key, weights=weights, minlength=cells)
            kept = np.flatnonzero(counts)  # ascending cell number: sorted by x
            total = counts.take(kept)
        else:
            codes, uniques = pd.factorize(key, sort=True)
            kept, total = np.asarray(uniques), np.bincount(codes, weights=weights)
        x_kept, rest = np.divmod(kept, n_age * n_tx)
        age_kept, tx_kept = np.divmod(rest, n_tx)
        return _as_index(x_kept), _as_index(age_kept), _as_index(tx_kept), np.asarray(total, dtype=np.float64)
    order = np.argsort(x_index.astype(np.uint16) if n_x < 2**16 else x_index, kind="stable")  # a radix sort
    sorted_weights = np.asarray(weights.take(order), dtype=np.float64)
    return (
        _as_index(x_index.take(order)),
        _as_index(age_index.take(order)),
        _as_index(tx_index.take(order)),
        sorted_weights,
    )


def _as_index(values: npt.NDArray[Any]) -> IntArray:
    return np.asarray(values, dtype=np.intp)


def neg_log_likelihood(log_params: FloatArray, d: Design) -> tuple[float, FloatArray, FloatArray]:
    """Minus the weighted log-likelihood, its exact gradient and Hessian in (log r, log alpha, log a, log b).

    log L = G + u1 + [x > 0] softplus(u2 - u1) with G = lnG(r+x) - lnG(r) + r ln alpha - lnB(a, b),
    u1 = lnB(a, b+x) - (r+x) ln(alpha+T), u2 = lnB(a+1, b+x-1) - (r+x) ln(alpha+t_x). G + u1 is summed with the
    weights per x and per T. Per repeat row, the gap u2 - u1 = ln a - ln(b+x-1) + (r+x) D, D = ln(alpha+T) -
    ln(alpha+t_x), has gradient delta = (D, (r+x) E, 1/a, -1/(b+x-1)) with E = 1/(alpha+T) - 1/(alpha+t_x), and
    second derivatives E (r, alpha), -(r+x) H (alpha, alpha) with H = 1/(alpha+T)^2 - 1/(alpha+t_x)^2, -1/a^2
    (a, a) and 1/(b+x-1)^2 (b, b). With pi = expit(gap): the gradient adds w pi delta, the Hessian
    w pi d2(gap) + w pi (1 - pi) delta delta'. Every per-row sum is a sum per x of D, E, H and their products."""
    params = np.exp(log_params)
    value, gradient, hessian = _common_terms(params, d)
    row_value, row_gradient, row_hessian = _repeat_row_terms(params, d)
    grad_log, hess_log = to_log_space(params, gradient + row_gradient, hessian + row_hessian)
    return -(value + row_value), -grad_log, -hess_log


def _common_terms(params: FloatArray, d: Design) -> tuple[float, FloatArray, FloatArray]:
    """sum w (G + u1), its gradient and Hessian in (r, alpha, a, b): per distinct x and per distinct T.

    G + u1 = lnG(r+x) - lnG(r) - lnB(a, b) + lnB(a, b+x) + r ln alpha - (r+x) ln(alpha+T); at x = 0 only the last
    two terms remain."""
    r, alpha, a, b = (float(v) for v in params)
    ux, weight = d.x_values, d.weight_per_x
    total = d.total_weight
    log_age, inverse_age = np.log(alpha + d.T_values), 1.0 / (alpha + d.T_values)
    rate_weight = r * d.weight_per_age + d.x_weight_per_age  # sum of w (r+x) per T
    value = float(weight @ (gammaln(r + ux) - gammaln(r) - betaln(a, b) + betaln(a, b + ux)))
    value += total * r * np.log(alpha) - float(rate_weight @ log_age)
    psi_abx, psi_ab = digamma(a + b + ux), float(digamma(a + b))
    tri_abx, tri_ab = polygamma(1, a + b + ux), float(polygamma(1, a + b))
    tri_b, tri_bx = float(polygamma(1, b)), polygamma(1, b + ux)
    d_a = float(weight @ (psi_ab - psi_abx))
    d_b = float(weight @ (psi_ab - float(digamma(b)) + digamma(b + ux) - psi_abx))
    gradient = np.array(
        [
            float(weight @ (digamma(r + ux) - float(digamma(r))))
            + total * np.log(alpha)
            - float(d.weight_per_age @ log_age),
            total * r / alpha - float(rate_weight @ inverse_age),
            d_a,
            d_b,
        ]
    )
    hessian = np.zeros((4, 4))
    hessian[0, 0] = float(weight @ (polygamma(1, r + ux) - float(polygamma(1, r))))
    hessian[0, 1] = hessian[1, 0] = total / alpha - float(d.weight_per_age @ inverse_age)
    hessian[1, 1] = -total * r / alpha**2 + float(rate_weight @ inverse_age**2)
    hessian[2, 2] = hessian[2, 3] = hessian[3, 2] = float(weight @ (tri_ab - tri_abx))
    hessian[3, 3] = float(weight @ (tri_ab - tri_b + tri_bx - tri_abx))
    return value, gradient, hessian


def _repeat_row_terms(params: FloatArray, d: Design) -> tuple[float, FloatArray, FloatArray]:
    """sum over repeat rows of w softplus(u2 - u1), its gradient and Hessian in (r, alpha, a, b)."""
    r, alpha, a, b = (float(v) for v in params)
    ux = d.x_values
    rate, odds_log, c = r + ux, np.log(a) - np.log(b + ux - 1), -1.0 / (b + ux - 1)  # per x: r+x, ln a/(b+x-1)
    inverse_age, inverse_tx = (1.0 / (alpha + d.T_values)).take(d.row_age), (1.0 / (alpha + d.tx_values)).take(d.row_tx)
    D = np.log(alpha + d.T_values).take(d.row_age) - np.log(alpha + d.tx_values).take(d.row_tx)
    E = inverse_age - inverse_tx
    gap = odds_log.take(d.row_x) + rate.take(d.row_x) * D
    softplus, share = softplus_and_expit(gap)  # share: pi, the second branch's share of L
    terms = d.workspace
    w_pi, w_pi_D, w_pi_E, w_pi_H, v, vD, vE, vDD, vDE, vEE = terms
    np.multiply(d.row_weight, share, out=w_pi)
    np.multiply(w_pi, D, out=w_pi_D)
    np.multiply(w_pi, E, out=w_pi_E)
    np.multiply(w_pi_E, inverse_age + inverse_tx, out=w_pi_H)  # H = E (1/(alpha+T) + 1/(alpha+t_x))
    np.subtract(w_pi, w_pi * share, out=v)  # w pi (1 - pi)
    np.multiply(v, D, out=vD)
    np.multiply(v, E, out=vE)
    np.multiply(vD, D, out=vDD)
    np.multiply(vD, E, out=vDE)
    np.multiply(vE, E, out=vEE)
    S = np.add.reduceat(terms, d.group_starts, axis=1) if len(ux) else np.zeros((10, 0))
    value = dot(d.row_weight, softplus)
    s_pi, s_pi_D, s_pi_E, s_pi_H, s_v, s_vD, s_vE, s_vDD, s_vDE, s_vEE = S
    gradient = np.array([s_pi_D.sum(), rate @ s_pi_E, s_pi.sum() / a, c @ s_pi])
    hessian = np.empty((4, 4))
    hessian[0] = [s_vDD.sum(), s_pi_E.sum() + rate @ s_vDE, s_vD.sum() / a, c @ s_vD]
    hessian[1, 1:] = [-(rate @ s_pi_H) + rate**2 @ s_vEE, (rate @ s_vE) / a, (c * rate) @ s_vE]
    hessian[2, 2:] = [(s_v.sum() - s_pi.sum()) / a**2, (c @ s_v) / a]
    hessian[3, 3] = c**2 @ (s_pi + s_v)
    upper = np.triu_indices(4, 1)
    hessian[upper[1], upper[0]] = hessian[upper]
    return value, gradient, hessian


WARM_START_CUSTOMERS = 50_000


class BetaGeoModel(BaseEstimator):  # type: ignore[misc]  # sklearn ships no type hints
    """BG/NBD fitted by maximum likelihood; parameters named as in the paper: ``r_``, ``alpha_``, ``a_``, ``b_``."""

    def __init__(self, compress_rows: bool = True) -> None:
        self.compress_rows = compress_rows

    def fit(self, frequency: object, recency: object, T: object, weights: object | None = None) -> BetaGeoModel:
        x, t_x, age = check_summary(frequency, recency, T)
        w = check_weights(weights, len(x))
        design = Design.build(x, t_x, age, w, compress=self.compress_rows)
        total = design.total_weight
        mean_rate = max(float(design.x_weight_per_age.sum() / (design.weight_per_age @ design.T_values)), 1e-6)
        start = np.log(np.array([1.0, 1.0 / mean_rate, 1.0, 1.0]))
        if len(design.row_weight) > 4 * WARM_START_CUSTOMERS:  # a fit on a subsample gives the start
            small = design.subsample(WARM_START_CUSTOMERS)
            start = newton(lambda theta: neg_log_likelihood(theta, small), start, small.total_weight).log_params
        result = newton(lambda theta: neg_log_likelihood(theta, design), start, total)
        self.r_, self.alpha_, self.a_, self.b_ = (float(v) for v in np.exp(result.log_params))
        self.log_likelihood_ = result.log_likelihood
        self.n_iter_ = result.iterations
        self.converged_ = result.converged
        self.n_customers_ = total
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
