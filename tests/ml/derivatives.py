"""Finite-difference checks of exact gradients and Hessians, shared by the CLV model tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


def central_differences(function: Callable[[np.ndarray], Any], theta: np.ndarray, step: float = 1e-3) -> np.ndarray:
    """d function / d theta by fourth-order central differences (error of order step^4, about 1e-12 here, plus
    rounding of about 1e-16 / step of the function's size); for a vector-valued function, one row per
    coordinate."""
    rows = []
    for i in range(len(theta)):
        delta = np.zeros(len(theta))
        delta[i] = step

        def at(k: int) -> np.ndarray:
            return np.asarray(function(theta + k * delta))  # noqa: B023  # used at once

        rows.append((8 * (at(1) - at(-1)) - (at(2) - at(-2))) / (12 * step))
    return np.array(rows)


def check_derivatives(
    objective: Callable[[np.ndarray], tuple[float, np.ndarray, np.ndarray]], theta: np.ndarray
) -> None:
    """The exact gradient against differences of the value, to 1e-8 of its largest entry (plus 1e-11 of the value,
    the differences' rounding), and the exact Hessian against differences of the exact gradient, to 1e-9 of its
    largest entry. Measured: 1e-11 and 1e-12 for BG/NBD and Gamma-Gamma; 1e-9 and 1e-10 for Pareto/NBD, whose
    derivatives come from a quadrature."""
    value, gradient, hessian = objective(theta)
    scale = np.abs(hessian).max()
    np.testing.assert_allclose(hessian, hessian.T, rtol=0, atol=1e-13 * scale)
    numeric = central_differences(lambda t: objective(t)[0], theta)
    np.testing.assert_allclose(gradient, numeric, rtol=0, atol=1e-8 * np.abs(gradient).max() + 1e-11 * abs(value))
    numeric_hessian = central_differences(lambda t: objective(t)[1], theta)
    np.testing.assert_allclose(hessian, numeric_hessian, rtol=0, atol=1e-9 * scale)
