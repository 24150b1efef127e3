"""Simulated customer populations with known parameters, for parameter-recovery tests and the benchmark.

Vectorised over customers (no per-customer loop): given N(T) Poisson arrivals on [0, T], the k-th arrival time is
T times a Beta(k, N - k + 1) draw (order statistics of uniforms), so each customer's summary (x, t_x) is drawn
directly rather than purchase by purchase.
"""

from __future__ import annotations

import numpy as np

from pulso.ml.clv._arrays import FloatArray


def simulate_bgnbd(
    r: float,
    alpha: float,
    a: float,
    b: float,
    T: FloatArray,
    rng: np.random.Generator,
    days_per_unit: float | None = None,
) -> tuple[FloatArray, FloatArray]:
    """(x, t_x) for customers observed for T under BG/NBD. With ``days_per_unit``, t_x is floored to whole days,
    as a summary built from dated transactions would be."""
    n = len(T)
    rate = rng.gamma(r, 1.0 / alpha, n)
    dropout = rng.beta(a, b, n)
    purchases_before_dropout = rng.geometric(np.clip(dropout, 1e-12, 1.0))
    arrivals = rng.poisson(rate * T)
    x = np.minimum(purchases_before_dropout, arrivals)
    return x.astype(np.float64), _last_arrival(x, arrivals, T, rng, days_per_unit)


def simulate_pareto_nbd(
    r: float, alpha: float, s: float, beta: float, T: FloatArray, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray]:
    """(x, t_x) for customers observed for T under Pareto/NBD: purchases while alive, an exponential lifetime."""
    n = len(T)
    rate = rng.gamma(r, 1.0 / alpha, n)
    death = rng.gamma(s, 1.0 / beta, n)
    lifetime = rng.exponential(1.0 / death)
    window = np.minimum(lifetime, T)
    x = rng.poisson(rate * window)
    return x.astype(np.float64), _last_arrival(x, x, window, rng, None)


def simulate_spend(p: float, q: float, gamma: float, x: FloatArray, rng: np.random.Generator) -> FloatArray:
    """Mean repeat value under Gamma-Gamma: nu ~ Gamma(q, gamma); the mean of x Gamma(p, nu) values is
    Gamma(p x, nu x). 0 when x = 0."""
    nu = rng.gamma(q, 1.0 / gamma, len(x))
    repeat = x > 0
    safe = np.where(repeat, x, 1.0)
    return np.where(repeat, rng.gamma(p * safe, 1.0 / (nu * safe)), 0.0)


def _last_arrival(
    x: np.ndarray, arrivals: np.ndarray, window: FloatArray, rng: np.random.Generator, days_per_unit: float | None
) -> FloatArray:
    repeat = x > 0
    k = np.where(repeat, x, 1)
    total = np.where(repeat, arrivals, 1)
    t_x = np.where(repeat, window * rng.beta(k, total - k + 1), 0.0)
    if days_per_unit is not None:
        t_x = np.floor(t_x * days_per_unit) / days_per_unit
    return np.asarray(t_x, dtype=np.float64)
