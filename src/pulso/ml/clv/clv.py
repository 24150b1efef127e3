"""Discounted customer lifetime value over a horizon in months, from a purchase model (BG/NBD or Pareto/NBD) and the
Gamma-Gamma expected order value, as lifetimes' ``customer_lifetime_value``:

    CLV = sum_{m=1..H} E[M | x, m_x] * (E[Y(m k) | x, t_x, T] - E[Y((m-1) k) | x, t_x, T]) / (1 + d)^m

H the horizon in months, d the monthly discount rate, k the model's time units per month (30.4375 days, 4.348
weeks or 1 month), E[Y(t) | ...] the conditional expected repeat purchases in the next t units and E[M | ...] the
Gamma-Gamma expected average order value. Each month's expected purchases are valued at the expected order value
and discounted to today at the end of that month.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from pulso.ml.clv._arrays import CLVInputError, FloatArray, as_float_array, check_summary
from pulso.ml.clv.gamma_gamma import GammaGammaModel
from pulso.ml.clv.summary import DAYS_PER_MONTH, DAYS_PER_UNIT


class PurchaseModel(Protocol):
    def conditional_expected_purchases(self, t: float, x: object, t_x: object, T: object) -> FloatArray: ...


def customer_lifetime_value(
    purchases: PurchaseModel,
    spend: GammaGammaModel,
    frequency: object,
    recency: object,
    T: object,
    monetary_value: object,
    months: int = 12,
    monthly_discount_rate: float = 0.01,
    time_unit: str = "W",
) -> FloatArray:
    """Discounted CLV per customer over ``months`` months (formula in the module docstring)."""
    discounted = discounted_expected_purchases(
        purchases, frequency, recency, T, months, monthly_discount_rate, time_unit
    )
    x = as_float_array(frequency, "frequency")
    return spend.conditional_expected_average_value(x, monetary_value) * discounted


def discounted_expected_purchases(
    purchases: PurchaseModel,
    frequency: object,
    recency: object,
    T: object,
    months: int = 12,
    monthly_discount_rate: float = 0.01,
    time_unit: str = "W",
) -> FloatArray:
    """sum_{m=1..H} (E[Y(m k) | x, t_x, T] - E[Y((m-1) k) | x, t_x, T]) / (1 + d)^m: the CLV before it is
    multiplied by the expected order value (module docstring)."""
    if months < 1:
        raise CLVInputError(f"horizon: {months} months; give at least 1")
    if not 0 <= monthly_discount_rate < 1:
        raise CLVInputError(f"discount rate: {monthly_discount_rate} is not a monthly rate in [0, 1)")
    if time_unit not in DAYS_PER_UNIT:
        raise CLVInputError(f"time unit: {time_unit!r} is not one of D, W, M")
    x, t_x, age = check_summary(frequency, recency, T)
    units_per_month = DAYS_PER_MONTH / DAYS_PER_UNIT[time_unit]
    value = np.zeros(len(x))
    previous = np.zeros(len(x))
    for month in range(1, months + 1):  # one vectorised prediction per month of the horizon
        cumulative = purchases.conditional_expected_purchases(month * units_per_month, x, t_x, age)
        value += (cumulative - previous) / (1 + monthly_discount_rate) ** month
        previous = cumulative
    return value
