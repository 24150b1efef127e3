"""Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV"; Fader & Hardie's "The Gamma-Gamma model of
monetary value" note): each transaction value ~ Gamma(p, nu), the customer's nu ~ Gamma(q, gamma), independent of
the purchase process. Fitted on repeat buyers (x > 0) from x and the mean repeat value m_x:

    L(p, q, gamma | m_x, x) = G(px + q) / (G(px) G(q)) * gamma^q m_x^(px-1) x^(px) / (gamma + m_x x)^(px+q)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import digamma, gammaln
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from pulso.ml.clv._arrays import (
    CLVInputError,
    FloatArray,
    IntArray,
    as_float_array,
    check_weights,
    dot,
    maximise,
    weighted_counts,
)


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
    """Repeat buyers' x, m_x and weights, with the parameter-free parts of the likelihood computed once."""

    x_values: FloatArray  # distinct x and each row's index into them
    x_index: IntArray
    weight_per_x: FloatArray
    spend: FloatArray  # m_x * x, the total of the repeat purchases
    weights: FloatArray
    weighted_x: FloatArray  # weights * x
    sum_w_log_m: float  # sum of w ln m_x
    sum_wx_log_mx: float  # sum of w x (ln m_x + ln x)

    @classmethod
    def build(cls, x: FloatArray, m_x: FloatArray, weights: FloatArray) -> SpendDesign:
        x_index, x_values = pd.factorize(x)
        log_m = np.log(m_x)
        return cls(
            x_values=np.asarray(x_values, dtype=np.float64),
            x_index=x_index.astype(np.intp),
            weight_per_x=weighted_counts(x_index, weights, len(x_values)),
            spend=m_x * x,
            weights=weights,
            weighted_x=weights * x,
            sum_w_log_m=dot(weights, log_m),
            sum_wx_log_mx=dot(weights * x, log_m + np.log(x)),
        )


def neg_log_likelihood(log_params: FloatArray, d: SpendDesign) -> tuple[float, FloatArray]:
    """Minus the weighted log-likelihood and its exact gradient in (log p, log q, log gamma). Per row only
    ln(gamma + m_x x) is evaluated; the rest is per distinct x or computed once."""
    p, q, gamma = np.exp(log_params)
    ux = d.x_values
    px_u = p * ux
    total = d.weight_per_x.sum()
    log_g = np.log(gamma + d.spend)
    sum_w_log_g = dot(d.weights, log_g)
    sum_wx_log_g = dot(d.weighted_x, log_g)
    value = (
        dot(d.weight_per_x, gammaln(px_u + q) - gammaln(px_u))
        + total * (q * np.log(gamma) - gammaln(q))
        + p * d.sum_wx_log_mx
        - d.sum_w_log_m
        - p * sum_wx_log_g
        - q * sum_w_log_g
    )
    psi_pq = digamma(px_u + q)
    d_p = dot(d.weight_per_x * ux, psi_pq - digamma(px_u)) + d.sum_wx_log_mx - sum_wx_log_g
    d_q = dot(d.weight_per_x, psi_pq) + total * (np.log(gamma) - digamma(q)) - sum_w_log_g
    inverse = 1.0 / (gamma + d.spend)
    d_gamma = total * q / gamma - p * dot(d.weighted_x, inverse) - q * dot(d.weights, inverse)
    grad = np.array([d_p * p, d_q * q, d_gamma * gamma])
    return -float(value), -grad


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
        w = check_weights(weights, len(x))
        keep = (x > 0) & (m > 0)
        if keep.sum() < 2:
            raise CLVInputError("monetary_value: fewer than 2 customers with a repeat purchase of positive value")
        x, m, w = x[keep], m[keep], w[keep]
        mean = float(w @ m / w.sum())
        start = np.log(np.array([1.0, 2.0, mean]))
        design = SpendDesign.build(x, m, w)
        result = maximise(lambda theta: neg_log_likelihood(theta, design), start, float(w.sum()))
        self.p_, self.q_, self.gamma_ = (float(v) for v in np.exp(result.log_params))
        self.log_likelihood_ = result.log_likelihood
        self.n_iter_ = result.iterations
        self.converged_ = result.converged
        self.n_customers_ = float(w.sum())
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
