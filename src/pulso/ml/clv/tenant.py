"""Customer lifetime value for one tenant: BG/NBD and Gamma-Gamma fitted on its purchase log, then per customer the
expected purchases over a horizon, P(alive), the expected order value and the discounted CLV.

Pure functions, a log in and frames out; the ``gold.customer_value`` job reads the log, keeps the model version
and writes the rows. Units and defaults (docs/models.md, "CLV for a tenant"):

- Time in days. Purchases are counted per distinct local day of the tenant's time zone (several orders on one day
  are one purchase worth their sum, as in the literature); the observation ends with the local day of ``now``, so
  recency and T are whole days.
- Horizon 12 months of 30.4375 days (365.25 days, stored as ``horizon_days`` = 365); the expected purchases and
  the CLV cover the same span. Monthly discount rate 1%: each month's expected purchases are valued at the expected
  order value and discounted to today at the end of that month (:mod:`pulso.ml.clv.clv`).
- Gamma-Gamma is fitted on the repeat purchases, as in the papers. A customer's expected order value is its
  posterior mean given the repeat purchases (a one-time buyer gets the population mean p gamma / (q - 1)), unless
  the first purchases look like the repeat ones: then the first purchase is evidence too (see
  :func:`first_purchase_counted`).
- Skipped with a reason (no fit): no purchase; fewer than ``min_repeat_buyers`` customers with a repeat purchase of
  positive value; a Gamma-Gamma q <= 1 (no finite mean order value).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Final, Literal
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from pulso.errors import InvalidInputError
from pulso.ml.clv.bgnbd import BetaGeoModel
from pulso.ml.clv.clv import discounted_expected_purchases
from pulso.ml.clv.gamma_gamma import GammaGammaModel
from pulso.ml.clv.summary import DAYS_PER_MONTH, summarize

FirstPurchase = Literal["auto", "exclude", "include"]
FIRST_PURCHASE_CHOICES: Final = ("auto", "exclude", "include")
TIME_UNIT: Final = "D"
# "auto" counts the first purchase when, over the repeat buyers, mean first purchase / mean repeat purchase is here
FIRST_PURCHASE_RATIO_BAND: Final = (0.8, 1.25)
SUMMARY_COLUMNS: Final = ("frequency", "recency", "T", "monetary_value", "first_value")
PREDICTION_COLUMNS: Final = ("expected_purchases", "p_alive", "expected_order_value", "clv")


@dataclass(frozen=True)
class TenantCLVParams:
    horizon_months: int = 12
    monthly_discount_rate: float = 0.01
    min_repeat_buyers: int = 10
    first_purchase: FirstPurchase = "auto"

    def __post_init__(self) -> None:
        if not 1 <= self.horizon_months <= 120:
            raise InvalidInputError(f"horizon_months: {self.horizon_months} is not between 1 and 120")
        if not 0 <= self.monthly_discount_rate < 1:
            raise InvalidInputError(f"monthly_discount_rate: {self.monthly_discount_rate} is not in [0, 1), e.g. 0.01")
        if self.min_repeat_buyers < 2:
            raise InvalidInputError(f"min_repeat_buyers: {self.min_repeat_buyers}; Gamma-Gamma needs at least 2")
        if self.first_purchase not in FIRST_PURCHASE_CHOICES:
            raise InvalidInputError(f"first_purchase: {self.first_purchase!r} is not one of auto, exclude, include")

    @property
    def horizon_days(self) -> int:
        return round(self.horizon_months * DAYS_PER_MONTH)

    def described(self) -> dict[str, Any]:
        return {**asdict(self), "horizon_days": self.horizon_days, "time_unit": TIME_UNIT}


@dataclass(frozen=True)
class CLVModels:
    """What a ``clv`` model version stores: the two fitted models and whether first purchases are spend evidence."""

    purchases: BetaGeoModel
    spend: GammaGammaModel
    first_purchase_counted: bool


@dataclass(frozen=True)
class CLVFit:
    models: CLVModels
    metrics: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Skipped:
    """No fit for this tenant, and why."""

    reason: str
    customers: int
    repeat_buyers: int


def purchase_summary(log: pd.DataFrame, now: datetime, timezone: str) -> pd.DataFrame:
    """Per customer (index ``contact_id``) up to the local day of ``now``: frequency, recency and T in days,
    monetary_value (mean repeat purchase day) and first_value (the first purchase day's total).

    ``log`` has the columns of :func:`pulso.ml.purchases.purchase_log`: customer, at (UTC) and value."""
    if now.tzinfo is None:
        raise InvalidInputError("now: give a timezone-aware time")
    zone = ZoneInfo(timezone)
    until = now.astimezone(zone).date()
    at = pd.to_datetime(log["at"], utc=True)
    days = at.dt.tz_convert(zone).dt.tz_localize(None).dt.normalize()
    frame = pd.DataFrame(
        {"customer": log["customer"].to_numpy(), "day": days.to_numpy(), "value": log["value"].to_numpy()}
    )
    frame = frame[frame["day"] <= pd.Timestamp(until)]
    if frame.empty:
        empty = pd.DataFrame({name: pd.Series(dtype="float64") for name in SUMMARY_COLUMNS})
        empty.index = pd.Index([], dtype="int64", name="contact_id")
        return empty
    summary = summarize(frame, "customer", "day", "value", until=until, time_unit=TIME_UNIT, source="the orders")
    per_day = frame.groupby(["customer", "day"], sort=True)["value"].sum()
    summary["first_value"] = per_day.groupby(level="customer", sort=True).first()
    summary.index.name = "contact_id"
    return summary


def summary_hash(summary: pd.DataFrame, params: TenantCLVParams) -> str:
    """sha256 of the summary and the parameters: a rerun on the same data reuses the model version."""
    digest = hashlib.sha256(json.dumps(params.described(), sort_keys=True).encode())
    digest.update(pd.util.hash_pandas_object(summary, index=True).to_numpy().tobytes())
    return digest.hexdigest()


def repeat_buyers(summary: pd.DataFrame) -> int:
    return int(((summary["frequency"] > 0) & (summary["monetary_value"] > 0)).sum())


def first_to_repeat_ratio(summary: pd.DataFrame) -> float | None:
    """Over the repeat buyers: mean first purchase / mean of their mean repeat purchase (None without any)."""
    repeat = (summary["frequency"] > 0) & (summary["monetary_value"] > 0)
    if not repeat.any():
        return None
    return float(summary.loc[repeat, "first_value"].mean() / summary.loc[repeat, "monetary_value"].mean())


def first_purchase_counted(choice: FirstPurchase, ratio: float | None) -> bool:
    """Whether a customer's first purchase counts towards its expected order value.

    The papers leave it out because a first purchase often differs from later ones (a clinic's first treatment,
    then cheaper check-ups; a trial order). When it does not (a subscription's first payment is the monthly
    price), leaving it out throws information away: every one-time buyer would get the population mean. "auto"
    counts it when first and repeat purchases have about the same mean (:data:`FIRST_PURCHASE_RATIO_BAND`)."""
    if choice != "auto":
        return choice == "include"
    low, high = FIRST_PURCHASE_RATIO_BAND
    return ratio is not None and low <= ratio <= high


def fit_models(summary: pd.DataFrame, params: TenantCLVParams) -> CLVFit | Skipped:
    customers, repeats = len(summary), repeat_buyers(summary)
    if customers == 0:
        return Skipped("no completed order with a contact yet", 0, 0)
    if repeats < params.min_repeat_buyers:
        reason = (
            f"{repeats} of {customers} customers bought again (a repeat purchase of positive value); the models "
            f"need at least {params.min_repeat_buyers}"
        )
        return Skipped(reason, customers, repeats)
    x, t_x, age = summary["frequency"], summary["recency"], summary["T"]
    purchases = BetaGeoModel().fit(x, t_x, age)
    spend = GammaGammaModel().fit(x, summary["monetary_value"])
    if spend.q_ <= 1:
        reason = f"Gamma-Gamma q = {spend.q_:.3g} <= 1: the order values have no finite population mean"
        return Skipped(reason, customers, repeats)
    ratio = first_to_repeat_ratio(summary)
    models = CLVModels(purchases, spend, first_purchase_counted(params.first_purchase, ratio))
    metrics: dict[str, Any] = {
        "customers": customers,
        "repeat_buyers": repeats,
        "bgnbd_log_likelihood": purchases.log_likelihood_,
        "bgnbd_converged": purchases.converged_,
        "gamma_gamma_log_likelihood": spend.log_likelihood_,
        "gamma_gamma_converged": spend.converged_,
        "gamma_gamma_customers": spend.n_customers_,
        "population_mean_order_value": spend.p_ * spend.gamma_ / (spend.q_ - 1),
        "first_to_repeat_value_ratio": ratio,
        "first_purchase_counted": models.first_purchase_counted,
        "frequency_value_correlation": _correlation(summary),
    }
    warnings = _warnings(purchases, spend, metrics)
    return CLVFit(models, {**metrics, "warnings": warnings}, warnings)


def predict(models: CLVModels, summary: pd.DataFrame, params: TenantCLVParams) -> pd.DataFrame:
    """Per customer: expected purchases over the horizon, P(alive) now, expected order value, discounted CLV."""
    x, t_x, age = summary["frequency"], summary["recency"], summary["T"]
    horizon = params.horizon_months * DAYS_PER_MONTH
    spend_x, spend_m = x.to_numpy(dtype=np.float64), summary["monetary_value"].to_numpy(dtype=np.float64)
    if models.first_purchase_counted:  # x + 1 purchase days whose mean includes the first
        spend_m = (summary["first_value"].to_numpy(dtype=np.float64) + spend_x * spend_m) / (spend_x + 1)
        spend_x = spend_x + 1
    order_value = models.spend.conditional_expected_average_value(spend_x, spend_m)
    discounted = discounted_expected_purchases(
        models.purchases, x, t_x, age, params.horizon_months, params.monthly_discount_rate, TIME_UNIT
    )
    return pd.DataFrame(
        {
            "expected_purchases": models.purchases.conditional_expected_purchases(horizon, x, t_x, age),
            "p_alive": models.purchases.probability_alive(x, t_x, age),
            "expected_order_value": order_value,
            "clv": order_value * discounted,
        },
        index=summary.index,
    )


def _correlation(summary: pd.DataFrame) -> float | None:
    repeat = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    if len(repeat) < 3 or repeat["frequency"].nunique() < 2 or repeat["monetary_value"].nunique() < 2:
        return None
    return float(np.corrcoef(repeat["frequency"], repeat["monetary_value"])[0, 1])


def _warnings(purchases: BetaGeoModel, spend: GammaGammaModel, metrics: dict[str, Any]) -> list[str]:
    """What a reader of the numbers should know: fits that did not converge, parameters at the edge of their
    range, and a correlation that Gamma-Gamma's independence assumption does not allow."""
    found = [f"{name} did not converge" for name, model in (("BG/NBD", purchases), ("Gamma-Gamma", spend))
             if not model.converged_]  # fmt: skip
    edge = [f"{k}={v:.3g}" for k, v in purchases.params_.items() if not 1e-6 <= v <= 1e6]
    if edge:
        found.append(
            f"BG/NBD parameters at the edge of their range ({', '.join(edge)}): purchases may be too regular for "
            "the model (subscriptions), so P(alive) says little"
        )
    if spend.p_ > 1e4:
        found.append(f"Gamma-Gamma p={spend.p_:.3g}: order values hardly vary within a customer")
    correlation = metrics["frequency_value_correlation"]
    if correlation is not None and abs(correlation) > 0.3:
        found.append(
            f"frequency and order value are correlated (r={correlation:.2f}); Gamma-Gamma assumes they are not"
        )
    return found
