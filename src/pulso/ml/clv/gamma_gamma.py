"""Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV"; Fader & Hardie's "The Gamma-Gamma model of
monetary value" note): each transaction value ~ Gamma(p, nu), the customer's nu ~ Gamma(q, gamma), independent of
the purchase process. Fitted on repeat buyers (x > 0) from x and the mean repeat value m_x:

    L(p, q, gamma | m_x, x) = G(px + q) / (G(px) G(q)) * gamma^q m_x^(px-1) x^(px) / (gamma + m_x x)^(px+q)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import digamma, gammaln, polygamma
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from pulso.ml.clv._arrays import (
    CLVInputError,
    FloatArray,
    IntArray,
    as_float_array,
    check_weights,
)
from pulso.ml.clv._optimise import newton, to_log_space


def log_likelihood(p: float, q: float, gamma: float, x: FloatArray, m_x: FloatArray) -> FloatArray:
    """Per-customer log-likelihood of the mean repeat value m_x over x > 0 transactions."""
    px = p * x
    return np.asarray(
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(gamma)
        + (px - 1) * np.log(m_x)
        + px * np.log(x)
        - (px + q) * np.log(gamma + m_x * x),
        dtype=np.float64,
    )


@dataclass(frozen=True)
class SpendDesign:
    """Repeat buyers sorted by x, with everything that does not depend on the parameters computed once.

    The likelihood's terms in (p, q) depend on x only, so they are summed per distinct x with the total weight
    W_x; the data terms sum w ln m_x and sum w x ln(m_x x) are constants. Only ln(gamma + m_x x) and its
    derivatives are per row, and their sums per distinct x are contiguous slices (np.add.reduceat)."""

    x_values: FloatArray  # distinct x, ascending
    group_starts: IntArray  # first row of each distinct x
    weight_per_x: FloatArray  # W_x
    spend: FloatArray  # m_x * x, the total of the repeat purchases, rows sorted by x
    weights: FloatArray | None  # None: every row counts once
    sum_w_log_m: float  # sum of w ln m_x
    sum_wx_log_mx: float  # sum of w x (ln m_x + ln x)

    @classmethod
    def build(cls, x: FloatArray, m_x: FloatArray, weights: FloatArray | None) -> SpendDesign:
        """From all customers' x, m_x and weights (None: one each); only rows with x > 0 and m_x > 0 are kept."""
        order = _repeat_buyers_by_x(x, m_x, weights)
        x, m_x = x.take(order), m_x.take(order)
        starts = np.flatnonzero(np.concatenate(([True], x[1:] != x[:-1])))
        x_values = x[starts]
        log_m = np.log(m_x)
        if weights is None:
            weight_per_x = np.diff(np.append(starts, len(x))).astype(np.float64)
        else:
            weights = weights.take(order)
            weight_per_x = np.add.reduceat(weights, starts)
            log_m *= weights
        return cls(
            x_values=x_values,
            group_starts=starts,
            weight_per_x=weight_per_x,
            spend=m_x * x,
            weights=weights,
            sum_w_log_m=float(log_m.sum()),
            sum_wx_log_mx=float(
                x_values @ np.add.reduceat(log_m, starts) + weight_per_x @ (x_values * np.log(x_values))
            ),
        )

    @property
    def total_weight(self) -> float:
        return float(self.weight_per_x.sum())

    def mean_value(self) -> float:
        """The weighted mean of m_x (the fit's start for gamma)."""
        spend = self.spend if self.weights is None else self.spend * self.weights
        return float(np.add.reduceat(spend, self.group_starts) @ (1 / self.x_values)) / self.total_weight

    def row_sums(self, gamma: float) -> FloatArray:
        """Per distinct x (columns), the weighted sums of ln(gamma + s), 1/(gamma + s) and 1/(gamma + s)^2
        (rows), s = m_x x."""
        shifted = self.spend + gamma
        terms = np.empty((3, len(shifted)))
        np.log(shifted, out=terms[0])
        np.divide(1.0, shifted, out=terms[1])
        np.multiply(terms[1], terms[1], out=terms[2])
        if self.weights is not None:
            terms *= self.weights
        return np.asarray(np.add.reduceat(terms, self.group_starts, axis=1), dtype=np.float64)


def _repeat_buyers_by_x(x: FloatArray, m_x: FloatArray, weights: FloatArray | None) -> IntArray:
    """Indices of the rows with x > 0, m_x > 0 (and weight > 0), in ascending x. Whole numbers of purchases below
    2^16 are sorted as 16-bit integers (a radix sort, 30 times faster than sorting floats)."""
    usable = (x > 0) & (m_x > 0)
    if weights is not None:
        usable &= weights > 0
    rows = np.flatnonzero(usable)
    key = x.take(rows)
    small = key.astype(np.uint16)
    order = np.argsort(small if np.array_equal(small, key) else key, kind="stable")
    return np.asarray(rows.take(order), dtype=np.intp)


def neg_log_likelihood(log_params: FloatArray, d: SpendDesign) -> tuple[float, FloatArray, FloatArray]:
    """Minus the weighted log-likelihood, its exact gradient and Hessian in (log p, log q, log gamma).

    With W_x the weight of the repeat buyers with x purchases, L0 = sum w ln(gamma + s), L1 = sum w x ln(gamma + s)
    (s = m_x x), A0, A1 the same sums of 1/(gamma + s) and B0, B1 of 1/(gamma + s)^2:

        ll   = sum_x W_x [lnG(px+q) - lnG(px)] + W (q ln gamma - lnG(q)) + p C1 - C0 - p L1 - q L0
        d_p  = sum_x W_x x [psi(px+q) - psi(px)] + C1 - L1     d_q = sum_x W_x psi(px+q) + W (ln gamma - psi(q)) - L0
        d_g  = W q/gamma - p A1 - q A0
        d_pp = sum_x W_x x^2 [psi'(px+q) - psi'(px)]   d_pq = sum_x W_x x psi'(px+q)   d_pg = -A1
        d_qq = sum_x W_x psi'(px+q) - W psi'(q)          d_qg = W/gamma - A0   d_gg = -W q/gamma^2 + p B1 + q B0

    with C0 = sum w ln m_x and C1 = sum w x ln(m_x x). Each evaluation is four passes over the rows (add, log,
    reciprocal, square) and sums per distinct x; everything else is per distinct x."""
    params = np.exp(log_params)
    p, q, gamma = (float(v) for v in params)
    ux, weight = d.x_values, d.weight_per_x
    total = float(weight.sum())
    sums = d.row_sums(gamma)
    (L0, A0, B0), (L1, A1, B1) = sums.sum(axis=1), sums @ ux
    px = p * ux
    value = (
        float(weight @ (gammaln(px + q) - gammaln(px)))
        + total * (q * np.log(gamma) - float(gammaln(q)))
        + p * d.sum_wx_log_mx
        - d.sum_w_log_m
        - p * L1
        - q * L0
    )
    psi_pq, psi_p = digamma(px + q), digamma(px)
    trigamma_pq, trigamma_p = polygamma(1, px + q), polygamma(1, px)
    gradient = np.array(
        [
            float(weight @ (ux * (psi_pq - psi_p))) + d.sum_wx_log_mx - L1,
            float(weight @ psi_pq) + total * (np.log(gamma) - float(digamma(q))) - L0,
            total * q / gamma - p * A1 - q * A0,
        ]
    )
    pq = float(weight @ (ux * trigamma_pq))
    pg = -A1
    qg = total / gamma - A0
    hessian = np.array(
        [
            [float(weight @ (ux**2 * (trigamma_pq - trigamma_p))), pq, pg],
            [pq, float(weight @ trigamma_pq) - total * float(polygamma(1, q)), qg],
            [pg, qg, -total * q / gamma**2 + p * B1 + q * B0],
        ]
    )
    grad_log, hess_log = to_log_space(params, gradient, hessian)
    return -value, -grad_log, -hess_log


def check_spend(frequency: object, monetary_value: object) -> tuple[FloatArray, FloatArray]:
    x = as_float_array(frequency, "frequency")
    m = as_float_array(monetary_value, "monetary_value")
    if len(x) != len(m):
        raise CLVInputError(f"frequency and monetary_value differ in length: {len(x)}, {len(m)}")
    if (m < 0).any():
        row = int(np.argmax(m < 0))
        raise CLVInputError(f"monetary_value: row {row} ({m[row]:g}) is negative")
    if (x < 0).any():
        row = int(np.argmax(x < 0))
        raise CLVInputError(f"frequency: row {row} ({x[row]:g}) is negative")
    return x, m


class GammaGammaModel(BaseEstimator):  # type: ignore[misc]  # sklearn ships no type hints
    """Gamma-Gamma fitted on repeat buyers; parameters named as in the papers: ``p_``, ``q_``, ``gamma_``."""

    def fit(self, frequency: object, monetary_value: object, weights: object | None = None) -> GammaGammaModel:
        """Fit on the rows with x > 0 and m_x > 0 (the others carry no spend information)."""
        x, m = check_spend(frequency, monetary_value)
        w = None if weights is None else check_weights(weights, len(x))
        design = SpendDesign.build(x, m, w)
        total = design.total_weight
        if len(design.spend) < 2 or total <= 0:
            raise CLVInputError("monetary_value: fewer than 2 customers with a repeat purchase of positive value")
        start = np.log(np.array([1.0, 2.0, design.mean_value()]))
        result = newton(lambda theta: neg_log_likelihood(theta, design), start, total)
        self.p_, self.q_, self.gamma_ = (float(v) for v in np.exp(result.log_params))
        self.log_likelihood_ = result.log_likelihood
        self.n_iter_ = result.iterations
        self.converged_ = result.converged
        self.n_customers_ = total
        return self

    @property
    def params_(self) -> dict[str, float]:
        return {"p": self.p_, "q": self.q_, "gamma": self.gamma_}

    def conditional_expected_average_value(self, frequency: object, monetary_value: object) -> FloatArray:
        """E[M | m_x, x] = (q - 1)/(px + q - 1) * p gamma/(q - 1) + px/(px + q - 1) * m_x: a weighted mean of the
        population mean p gamma/(q - 1) and the customer's own mean (FHL 2005 "RFM and CLV", eq. 5)."""
        check_is_fitted(self, "p_")
        x, m = check_spend(frequency, monetary_value)
        p, q, gamma = self.p_, self.q_, self.gamma_
        return np.asarray((p * (gamma + x * m)) / (p * x + q - 1), dtype=np.float64)
