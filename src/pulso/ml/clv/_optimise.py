"""Maximum likelihood over log-parameters: Newton's method in a trust region with the exact Hessian, and the
chain rule that takes a gradient and Hessian from the natural parameters to their logarithms."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from pulso.ml.clv._arrays import FloatArray

Objective = Callable[[FloatArray], tuple[float, FloatArray, FloatArray]]


@dataclass(frozen=True)
class Fit:
    log_params: FloatArray
    log_likelihood: float  # a Python float (fitted attributes go into JSON)
    iterations: int
    converged: bool
    hessian: FloatArray  # of minus the log-likelihood per unit of weight, in log-parameters


def to_log_space(params: FloatArray, gradient: FloatArray, hessian: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Gradient and Hessian in theta = ln(params): g_theta = params * g and
    H_theta = diag(params) H diag(params) + diag(params * g)."""
    g = params * gradient
    return g, params[:, None] * hessian * params[None, :] + np.diag(g)


# Newton steps stop when the next one would move every log-parameter by less than STEP_TOL; that step is then
# taken, leaving an error of the order of its square (quadratic convergence). Or when the gradient per unit of
# weight is below GRAD_TOL.
STEP_TOL = 1e-6
GRAD_TOL = 1e-12
ROUNDING = 1e-12  # relative change of the value below which it is rounding noise
MAX_RADIUS = 10.0
CONVERGED_GRADIENT = 1e-6  # converged_ also needs the final gradient per unit of weight below this


def newton(objective: Objective, start: FloatArray, total_weight: float, max_iter: int = 100) -> Fit:
    """Minimise ``objective`` (minus the log-likelihood, its gradient and Hessian in log-parameters) by Newton
    steps in a trust region (the exact subproblem, solved in the Hessian's eigenbasis: 3 or 4 dimensions).

    Values are divided by the total weight so that the tolerances mean the same for 2,000 and 1,000,000
    customers. A step is kept when it lowers the objective; the trust radius grows after steps that the quadratic
    model predicted well and shrinks after the others. Near the optimum the full Newton step is always taken and
    convergence is quadratic."""
    theta = np.asarray(start, dtype=np.float64)
    value, grad, hess = _scaled(objective, theta, total_weight)
    if not np.isfinite(value):
        raise ValueError("the log-likelihood is not finite at the start")
    radius, iterations, converged = 1.0, 0, False
    for iterations in range(1, max_iter + 1):  # noqa: B007  # the count is reported
        step, is_newton = _trust_region_step(grad, hess, radius)
        predicted = float(grad @ step + 0.5 * step @ hess @ step)
        if np.max(np.abs(grad)) < GRAD_TOL:
            converged = True
            break
        if is_newton and np.max(np.abs(step)) < STEP_TOL:
            # the last Newton step is taken without evaluating at its end (its error is of the order of its
            # square); the value and gradient there are the quadratic model's
            theta, value, grad, converged = theta + step, value + predicted, grad + hess @ step, True
            break
        new_value, new_grad, new_hess = _scaled(objective, theta + step, total_weight)
        if is_newton and -predicted < ROUNDING * max(1.0, abs(value)):
            # the values differ by rounding only: a Newton step is judged by the gradient it reaches
            if not np.max(np.abs(new_grad)) < np.max(np.abs(grad)):
                converged = True  # the gradient is at its rounding floor
                break
            theta, value, grad, hess = theta + step, new_value, new_grad, new_hess
            continue
        actual = new_value - value
        if actual < 0:  # False for inf and nan
            ratio = actual / predicted
            if ratio > 0.75 and np.linalg.norm(step) > 0.99 * radius:
                radius = min(2 * radius, MAX_RADIUS)
            elif ratio < 0.25:
                radius = 0.25 * float(np.linalg.norm(step))
            theta, value, grad, hess = theta + step, new_value, new_grad, new_hess
        else:
            radius = 0.25 * float(np.linalg.norm(step))
    converged = converged and bool(np.max(np.abs(grad)) < CONVERGED_GRADIENT)
    return Fit(theta, float(-value * total_weight), iterations, converged, hess)


def _scaled(objective: Objective, theta: FloatArray, total_weight: float) -> tuple[float, FloatArray, FloatArray]:
    with np.errstate(all="ignore"):
        value, grad, hess = objective(theta)
    if not (np.isfinite(value) and np.all(np.isfinite(grad)) and np.all(np.isfinite(hess))):
        return np.inf, grad, hess
    return value / total_weight, grad / total_weight, hess / total_weight


def _trust_region_step(grad: FloatArray, hess: FloatArray, radius: float) -> tuple[FloatArray, bool]:
    """The minimiser of g.p + p.H.p/2 over |p| <= radius, and whether it is the plain Newton step.

    In H's eigenbasis p(mu) = -(Lambda + mu)^-1 Q'g; mu = 0 when H is positive definite and the Newton step fits,
    otherwise the mu > max(0, -lambda_min) that puts p on the boundary (|p(mu)| decreases in mu), found by
    safeguarded Newton steps on 1/|p(mu)| = 1/radius (Nocedal & Wright, algorithm 4.3). In the hard case (g has
    no component along the most negative curvature, so |p| stays inside) a move along that direction is added."""
    eigenvalues, vectors = np.linalg.eigh((hess + hess.T) / 2)
    projected = vectors.T @ grad
    tiny = 1e-14 * max(1.0, float(np.abs(eigenvalues).max()))
    if eigenvalues[0] > tiny:
        step = -vectors @ (projected / eigenvalues)
        if np.linalg.norm(step) <= radius:
            return step, True
    floor = max(0.0, -float(eigenvalues[0]))
    low, high = floor, floor + float(np.linalg.norm(grad)) / radius + tiny  # |p(high)| <= radius

    def length(mu: float) -> float:
        shifted = eigenvalues + mu
        return float(np.sqrt(np.sum(np.divide(projected, shifted, out=np.zeros(len(grad)), where=shifted > 0) ** 2)))

    if length(floor + tiny) < radius and eigenvalues[0] <= tiny:  # the hard case
        shifted = eigenvalues + floor
        step = -vectors @ np.divide(projected, shifted, out=np.zeros(len(grad)), where=shifted > tiny)
        return step + np.sqrt(max(radius**2 - float(step @ step), 0.0)) * vectors[:, 0], False
    mu = high
    for _ in range(100):
        norm = length(mu)
        if abs(norm - radius) <= 1e-8 * radius:
            break
        low, high = (mu, high) if norm > radius else (low, mu)
        slope = -float(np.sum(projected**2 / (eigenvalues + mu) ** 3)) / norm  # d|p|/dmu
        mu_next = mu - (norm - radius) / slope * norm / radius  # Newton on 1/|p| = 1/radius
        mu = mu_next if low < mu_next < high else (low + high) / 2
    return -vectors @ (projected / (eigenvalues + mu)), False
