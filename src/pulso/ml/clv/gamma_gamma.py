"""Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV"; Fader & Hardie's "The Gamma-Gamma model of
monetary value" note): each transaction value ~ Gamma(p, nu), the customer's nu ~ Gamma(q, gamma), independent of
the purchase process. Fitted on repeat buyers (x > 0) from x and the mean repeat value m_x:

    L(p, q, gamma | m_x, x) = G(px + q) / (G(px) G(q)) * gamma^q m_x^(px-1) x^(px) / (gamma + m_x x)^(px+q)
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import digamma, gammaln

from pulso.ml.clv._arrays import CLVInputError, FloatArray, as_float_array, check_weights, maximise


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


def neg_log_likelihood(
    log_params: FloatArray, x: FloatArray, m_x: FloatArray, weights: FloatArray
) -> tuple[float, FloatArray]:
    """Minus the weighted log-likelihood and its exact gradient in (log p, log q, log gamma)."""
    p, q, gamma = np.exp(log_params)
    x_index, ux = pd.factorize(x)
    log_m, log_x = np.log(m_x), np.log(x)
    px_u = p * ux
    wsum = weights.sum()
    w_x = np.bincount(x_index, weights=weights, minlength=len(ux))
    log_g = np.log(gamma + m_x * x)
    px = p * x
    value = (
        w_x @ (gammaln(px_u + q) - gammaln(px_u))
        + wsum * (q * np.log(gamma) - gammaln(q))
        + weights @ ((px - 1) * log_m + px * log_x - (px + q) * log_g)
    )
    psi_pq = digamma(px_u + q)
    d_p = (w_x * ux) @ (psi_pq - digamma(px_u)) + weights @ (x * (log_m + log_x - log_g))
    d_q = w_x @ psi_pq + wsum * (np.log(gamma) - digamma(q)) - weights @ log_g
    d_gamma = wsum * q / gamma - weights @ ((px + q) / (gamma + m_x * x))
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


class GammaGammaModel:
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
        result = maximise(lambda theta: neg_log_likelihood(theta, x, m, w), start, float(w.sum()))
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
        if not hasattr(self, "p_"):
            raise RuntimeError("GammaGammaModel is not fitted yet; call fit first")
        x, m = check_spend(frequency, monetary_value)
        p, q, gamma = self.p_, self.q_, self.gamma_
        return np.asarray((p * (gamma + x * m)) / (p * x + q - 1), dtype=np.float64)
