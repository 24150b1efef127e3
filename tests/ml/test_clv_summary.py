"""Transaction log -> per-customer summary, on a hand-built log whose answers were worked out by hand."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from pulso.ml.clv._arrays import CLVInputError
from pulso.ml.clv.summary import summarize


@pytest.fixture
def log() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "client": ["A", "A", "A", "A", "B", "C", "C"],
            "when": [
                "2024-01-01 08:00",
                "2024-01-01 23:59",  # same day as the first: one transaction of 15.0
                "2024-01-08",
                "2024-01-15",
                "2024-01-10",
                "2024-01-05",
                "2024-02-20",
            ],
            "amount": [10.0, 5.0, 20.0, 30.0, 7.0, 4.0, 8.0],
        }
    )


def test_repeats_are_distinct_days_and_until_cuts(log: pd.DataFrame) -> None:
    summary = summarize(log, "client", "when", "amount", until=date(2024, 1, 31), time_unit="D")
    # A: days 1, 8, 15 -> x=2, t_x=14, T=30, mean of the repeats (20, 30) = 25 (the first day's 15 excluded)
    # B: one day -> x=0, T=21; C: the 20 Feb purchase is after --until -> x=0, T=26
    assert summary.to_dict("index") == {
        "A": {"frequency": 2, "recency": 14.0, "T": 30.0, "monetary_value": 25.0},
        "B": {"frequency": 0, "recency": 0.0, "T": 21.0, "monetary_value": 0.0},
        "C": {"frequency": 0, "recency": 0.0, "T": 26.0, "monetary_value": 0.0},
    }


def test_default_end_is_the_last_date_and_units(log: pd.DataFrame) -> None:
    weeks = summarize(log, "client", "when", time_unit="W")
    assert "monetary_value" not in weeks
    # the log ends 2024-02-20: A's T is 50 days, C repeats after 46 days
    assert weeks.loc["A", "T"] == pytest.approx(50 / 7)
    assert weeks.loc["A", "recency"] == pytest.approx(2.0)
    assert (weeks.loc["C", "frequency"], weeks.loc["C", "recency"]) == (1, pytest.approx(46 / 7))
    months = summarize(log, "client", "when", time_unit="M")
    assert months.loc["C", "T"] == pytest.approx(46 / 30.4375)


def test_integer_dates_are_yyyymmdd() -> None:
    log = pd.DataFrame({"id": [1, 1], "day": [19970101, 19970115]})
    summary = summarize(log, "id", "day", time_unit="D")
    assert summary.loc[1, "recency"] == 14.0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda df: df.rename(columns={"client": "customer_id"}), "customer column 'client' is not in the log"),
        (
            lambda df: df.assign(when=df["when"].where(df.index != 2, "2024-13-45")),
            r"date column 'when': row 2 \('2024-13-45'\) is not a date",
        ),
        (
            lambda df: df.assign(amount=df["amount"].where(df.index != 4, -7.0)),
            r"value column 'amount': row 4 \(-7\) is negative",
        ),
        (
            lambda df: df.assign(amount=df["amount"].astype(object).where(df.index != 1, "R$ 5")),
            "row 1 .* is not a number",
        ),
        (lambda df: df.assign(client=df["client"].where(df.index != 3, None)), "row 3 has no customer id"),
        (lambda df: df.iloc[0:0], "has no rows"),
    ],
)
def test_bad_logs_are_refused_with_what_and_where(log: pd.DataFrame, change: object, message: str) -> None:
    with pytest.raises(CLVInputError, match=message):
        summarize(change(log), "client", "when", "amount", source="the log")  # type: ignore[operator]


def test_until_before_every_purchase_is_refused(log: pd.DataFrame) -> None:
    with pytest.raises(CLVInputError, match="no transactions on or before 2023-12-31"):
        summarize(log, "client", "when", until=date(2023, 12, 31))
