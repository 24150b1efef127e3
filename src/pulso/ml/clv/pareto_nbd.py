"""Pareto/NBD (Schmittlein, Morrison & Colombo 1987), in the closed form of Fader & Hardie's note "A note on deriving
the Pareto/NBD model and related expressions" (2005): purchases at a Poisson rate lambda ~ Gamma(r, alpha) while
alive; an exponential lifetime with rate mu ~ Gamma(s, beta).

    L = G(r+x) alpha^r beta^s / G(r) * [ 1/((alpha+T)^(r+x) (beta+T)^s) + s/(r+s+x) * A0 ]

    A0 = F(r+s+x, s+1; r+s+x+1; (alpha-beta)/(alpha+t_x)) / (alpha+t_x)^(r+s+x)
         - F(r+s+x, s+1; r+s+x+1; (alpha-beta)/(alpha+T)) / (alpha+T)^(r+s+x)          if alpha >= beta
    A0 = F(r+s+x, r+x; r+s+x+1; (beta-alpha)/(beta+t_x)) / (beta+t_x)^(r+s+x) - (same at T)  if alpha < beta

with F the Gauss hypergeometric function (scipy.special.hyp2f1). Everything is combined in logs. The gradient is
taken by central differences of this exact log-likelihood in the log-parameters (no closed form in F's parameters).
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln, hyp2f1

from pulso.ml.clv._arrays import FloatArray, check_summary, check_weights, compress, maximise


def _log_a0(r: float, alpha: float, s: float, beta: float, x: FloatArray, t_x: FloatArray, T: FloatArray) -> FloatArray:
    """log A0 (the died-between-t_x-and-T branch, without its s/(r+s+x) factor); -inf when t_x = T."""
    rsx = r + s + x
    if alpha >= beta:
        b_param: FloatArray | float = s + 1.0
        shift, base = alpha - beta, alpha
    else:
        b_param, shift, base = r + x, beta - alpha, beta
    with np.errstate(divide="ignore"):
        log_at_tx = np.log(hyp2f1(rsx, b_param, rsx + 1, shift / (base + t_x))) - rsx * np.log(base + t_x)
        log_at_T = np.log(hyp2f1(rsx, b_param, rsx + 1, shift / (base + T))) - rsx * np.log(base + T)
        gap = np.minimum(log_at_T - log_at_tx, 0.0)
        return np.asarray(log_at_tx + np.log(-np.expm1(gap)), dtype=np.float64)


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


def neg_log_likelihood(
    log_params: FloatArray, x: FloatArray, t_x: FloatArray, T: FloatArray, weights: FloatArray
) -> tuple[float, FloatArray]:
    """Minus the weighted log-likelihood and its gradient (central differences, step 1e-6 in log-parameters)."""

    def value(theta: FloatArray) -> float:
        with np.errstate(all="ignore"):
            r, alpha, s, beta = (float(v) for v in np.exp(theta))
            total = -float(np.dot(weights, log_likelihood(r, alpha, s, beta, x, t_x, T)))
        return total if np.isfinite(total) else np.inf  # outside the region hyp2f1 evaluates: step back

    step = 1e-6
    grad = np.empty(4)
    for i in range(4):
        delta = np.zeros(4)
        delta[i] = step
        grad[i] = (value(log_params + delta) - value(log_params - delta)) / (2 * step)
    return value(log_params), grad


class ParetoNBDModel:
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
        result = maximise(lambda theta: neg_log_likelihood(theta, x, t_x, age, w), start, float(w.sum()))
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
        if not hasattr(self, "r_"):
            raise RuntimeError("ParetoNBDModel is not fitted yet; call fit first")
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
