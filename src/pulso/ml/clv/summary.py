"""From a transaction log (one row per purchase) to the per-customer summary the CLV models read.

As in the literature (Fader, Hardie & Lee 2005; lifetimes' ``summary_data_from_transaction_data``), purchases are
counted per distinct day: several purchases on one day are one transaction whose value is their sum. For each
customer, with the observation period ending at ``until`` (inclusive; default the last day in the log):

- ``frequency`` x: distinct purchase days after the first (repeat purchases);
- ``recency`` t_x: time from the first to the last purchase day;
- ``T``: time from the first purchase day to ``until``;
- ``monetary_value``: mean value of the repeat purchase days (0 when x = 0), only when a value column is given.

Times are in days (D), weeks (W, 7 days) or months (M, 365.25/12 = 30.4375 days).
"""

from __future__ import annotations

from datetime import date
from typing import Literal

import numpy as np
import pandas as pd

from pulso.ml.clv._arrays import CLVInputError

TimeUnit = Literal["D", "W", "M"]
DAYS_PER_UNIT: dict[str, float] = {"D": 1.0, "W": 7.0, "M": 365.25 / 12}
DAYS_PER_MONTH = 365.25 / 12


def summarize(
    transactions: pd.DataFrame,
    customer: str,
    date_column: str,
    value: str | None = None,
    until: date | None = None,
    time_unit: TimeUnit = "W",
    source: str = "the transaction log",
) -> pd.DataFrame:
    """Per-customer frequency, recency, T (and monetary_value), indexed by customer id, in ``time_unit`` units."""
    if time_unit not in DAYS_PER_UNIT:
        raise CLVInputError(f"time unit: {time_unit!r} is not one of D, W, M")
    for role, column in (("customer", customer), ("date", date_column), ("value", value)):
        if column is not None and column not in transactions.columns:
            listed = ", ".join(map(str, transactions.columns))
            raise CLVInputError(f"{role} column {column!r} is not in {source}; columns are: {listed}")
    if transactions.empty:
        raise CLVInputError(f"{source} has no rows")
    customers = transactions[customer]
    if customers.isna().any():
        raise CLVInputError(f"customer column {customer!r}: row {_first(customers.isna())} has no customer id")
    days = _parse_days(transactions[date_column], date_column)
    frame = pd.DataFrame({"customer": customers.to_numpy(), "day": days})
    if value is not None:
        frame["value"] = _parse_values(transactions[value], value)
    end = pd.Timestamp(until) if until is not None else frame["day"].max()
    frame = frame[frame["day"] <= end]
    if frame.empty:
        raise CLVInputError(f"no transactions on or before {end.date().isoformat()} (--until)")

    per_day = frame.groupby(["customer", "day"], sort=True).sum() if value is not None else None
    keys = frame[["customer", "day"]].drop_duplicates().sort_values(["customer", "day"])
    grouped = keys.groupby("customer", sort=True)["day"]
    first, last, n_days = grouped.min(), grouped.max(), grouped.size()
    unit = DAYS_PER_UNIT[time_unit]
    summary = pd.DataFrame(
        {
            "frequency": (n_days - 1).astype(np.int64),
            "recency": (last - first).dt.days / unit,
            "T": (end - first).dt.days / unit,
        }
    )
    summary.index.name = customer
    if per_day is not None:
        by_customer = per_day["value"].groupby(level="customer", sort=True)
        total, first_day = by_customer.sum(), by_customer.first()
        repeats = summary["frequency"].to_numpy()
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(repeats > 0, (total - first_day).to_numpy() / repeats, 0.0)
        summary["monetary_value"] = mean
    return summary


def _first(mask: pd.Series) -> int:
    return int(np.argmax(mask.to_numpy()))


def _parse_days(column: pd.Series, name: str) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(column):
        parsed = column
    else:
        # integers such as 19970101 are dates written as YYYYMMDD, never nanoseconds since 1970
        text = column.astype("string") if pd.api.types.is_numeric_dtype(column) else column
        parsed = pd.to_datetime(text, errors="coerce", format="mixed")
    bad = parsed.isna()
    if bad.any():
        row = _first(bad)
        raise CLVInputError(f"date column {name!r}: row {row} ({column.iloc[row]!r}) is not a date")
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_localize(None)
    normalized: pd.Series = parsed.dt.normalize().reset_index(drop=True)
    return normalized


def _parse_values(column: pd.Series, name: str) -> np.ndarray:
    numbers = pd.to_numeric(column, errors="coerce")
    bad = numbers.isna()
    if bad.any():
        row = _first(bad)
        raise CLVInputError(f"value column {name!r}: row {row} ({column.iloc[row]!r}) is not a number")
    negative = numbers < 0
    if negative.any():
        row = _first(negative)
        raise CLVInputError(f"value column {name!r}: row {row} ({numbers.iloc[row]:g}) is negative")
    return numbers.to_numpy(dtype=np.float64)
