"""The trust-region Newton optimiser on functions whose minima are known: indefinite Hessians, the hard case of the
trust-region subproblem, regions where the objective is not finite, and the chain rule to log-parameters."""

from __future__ import annotations

import numpy as np
import pytest

from pulso.ml.clv._optimise import newton, to_log_space
from tests.ml.derivatives import central_differences


def rosenbrock(theta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    x, y = theta
    value = (1 - x) ** 2 + 100 * (y - x**2) ** 2
    gradient = np.array([-2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2)])
    hessian = np.array([[2 - 400 * y + 1200 * x**2, -400 * x], [-400 * x, 200.0]])
    return value, gradient, hessian


@pytest.mark.parametrize("start", [[-1.2, 1.0], [0.0, 1.0], [2.0, -1.0]])  # [0, 1]: the Hessian is indefinite there
def test_newton_finds_the_rosenbrock_minimum(start: list[float]) -> None:
    fit = newton(rosenbrock, np.array(start), total_weight=1.0)
    assert fit.converged
    np.testing.assert_allclose(fit.log_params, [1.0, 1.0], atol=1e-10)
    assert fit.log_likelihood == pytest.approx(0.0, abs=1e-18)
    assert fit.iterations < 40


def saddle(theta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """x^2 - y^2 + y^4: a saddle at the origin, minima at (0, +-1/sqrt 2)."""
    x, y = theta
    return x**2 - y**2 + y**4, np.array([2 * x, -2 * y + 4 * y**3]), np.array([[2.0, 0.0], [0.0, -2 + 12 * y**2]])


def test_newton_leaves_a_saddle_along_negative_curvature() -> None:
    """From (1, 0) the gradient has no component along the negative-curvature direction (the hard case): the step
    must still move along it, or the method would stop at the saddle."""
    fit = newton(saddle, np.array([1.0, 0.0]), total_weight=1.0)
    assert fit.converged
    np.testing.assert_allclose(np.abs(fit.log_params), [0.0, 1 / np.sqrt(2)], atol=1e-10)


def test_newton_steps_back_from_where_the_objective_is_not_finite() -> None:
    """sqrt(1 + (theta - 3)^2), infinite beyond 3.2: away from 3 its curvature is small, so Newton steps overshoot
    (from 2.35 the Newton step lands on 3.27); steps into the infinite region are refused and the region shrinks."""
    refused = []

    def walled(theta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        d = theta[0] - 3
        root = np.sqrt(1 + d**2)
        if theta[0] > 3.2:
            refused.append(theta[0])
            return np.inf, np.array([np.nan]), np.array([[np.nan]])
        return root, np.array([d / root]), np.array([[1 / root**3]])

    fit = newton(walled, np.array([2.35]), total_weight=1.0)
    assert refused
    assert fit.converged
    assert fit.log_params[0] == pytest.approx(3.0, abs=1e-10)


def test_values_are_per_unit_of_weight_inside_and_total_outside() -> None:
    def scaled(theta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        value, gradient, hessian = rosenbrock(theta)
        return 1e6 * (value + 2.0), 1e6 * gradient, 1e6 * hessian

    fit = newton(scaled, np.array([-1.2, 1.0]), total_weight=1e6)
    np.testing.assert_allclose(fit.log_params, [1.0, 1.0], atol=1e-10)
    assert fit.log_likelihood == pytest.approx(-2e6, rel=1e-14)  # minus the minimised value


def test_log_space_chain_rule() -> None:
    """f(p) = p0^2 p1 + p1^3 as a function of theta = ln p, against differences."""

    def natural(p: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        gradient = np.array([2 * p[0] * p[1], p[0] ** 2 + 3 * p[1] ** 2])
        return p[0] ** 2 * p[1] + p[1] ** 3, gradient, np.array([[2 * p[1], 2 * p[0]], [2 * p[0], 6 * p[1]]])

    theta = np.log([0.7, 1.9])
    _, gradient, hessian = natural(np.exp(theta))
    grad_log, hess_log = to_log_space(np.exp(theta), gradient, hessian)
    np.testing.assert_allclose(grad_log, central_differences(lambda t: natural(np.exp(t))[0], theta), rtol=1e-10)
    numeric = central_differences(lambda t: to_log_space(np.exp(t), *natural(np.exp(t))[1:])[0], theta)
    np.testing.assert_allclose(hess_log, numeric, rtol=1e-9)
