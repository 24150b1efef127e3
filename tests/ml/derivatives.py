"""Finite-difference checks of exact gradients and Hessians, shared by the CLV model tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


def central_differences(function: Callable[[np.ndarray], Any], theta: np.ndarray, step: float = 1e-5) -> np.ndarray:
    """d function / d theta by central differences; for a vector-valued function, one row per coordinate."""
    rows = []
    for i in range(len(theta)):
        delta = np.zeros(len(theta))
        delta[i] = step
        rows.append((np.asarray(function(theta + delta)) - np.asarray(function(theta - delta))) / (2 * step))
    return np.array(rows)


def check_derivatives(
    objective: Callable[[np.ndarray], tuple[float, np.ndarray, np.ndarray]],
    theta: np.ndarray,
    hessian_atol: float = 1e-7,
) -> None:
    """The exact gradient against central differences of the value (to their precision, about 1e-8 of the value),
    and the exact Hessian against central differences of the exact gradient (to ``hessian_atol`` of its largest
    entry; the differences themselves are good to about 1e-9)."""
    value, gradient, hessian = objective(theta)
    np.testing.assert_allclose(hessian, hessian.T, rtol=0, atol=1e-12 * np.abs(hessian).max())
    numeric = central_differences(lambda t: objective(t)[0], theta)
    np.testing.assert_allclose(gradient, numeric, rtol=1e-6, atol=1e-8 * abs(value))
    numeric_hessian = central_differences(lambda t: objective(t)[1], theta)
    np.testing.assert_allclose(hessian, numeric_hessian, rtol=0, atol=hessian_atol * np.abs(hessian).max())
