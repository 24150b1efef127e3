"""A churn feature's value as a manager reads it: ``No purchase for 210 days``, ``No message in the last 30 days``.

The reasons (:func:`pulso.ml.leads.reasons.reasons`) choose the features that pushed a customer's risk most;
these phrases describe the customer's own value of each, and the caller appends ``(raises)`` or ``(lowers)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from pulso.ml.leads.reasons import column_words


def _count(n: float, one: str, many: str) -> str:
    whole = int(n)
    return f"{whole:,} {one if whole == 1 else many}"


def _days(n: float) -> str:
    return _count(math.floor(n), "day", "days")


def _money(value: float) -> str:
    return f"{value:,.2f}"


def _recency(days: float) -> str:
    return "Bought within the last day" if days < 1 else f"No purchase for {_days(days)}"


def _frequency(repeats: float) -> str:
    return "No repeat purchase yet" if repeats == 0 else f"Bought on {_count(repeats + 1, 'day', 'different days')}"


def _recent(what: str, window: str) -> Callable[[float], str]:
    def words(n: float) -> str:
        return f"No {what} in the last {window}" if n == 0 else f"{_count(n, what, what + 's')} in the last {window}"

    return words


def _answer(kind: str, scale: int) -> Callable[[float], str]:
    def words(score: float) -> str:
        return f"Last {kind} answer: {score:g} of {scale}"

    return words


PHRASES: dict[str, Callable[[float], str]] = {
    "recency_days": _recency,
    "frequency": _frequency,
    "monetary_mean": lambda v: f"Average purchase {_money(v)}",
    "total_value": lambda v: f"Spent {_money(v)} in total",
    "tenure_days": lambda v: f"Customer for {_days(v)}",
    "purchases_last_90_days": _recent("purchase", "90 days"),
    "messages_last_30_days": _recent("message", "30 days"),
    "days_since_last_message": lambda v: f"Last message {_days(v)} ago",
    "last_nps": _answer("NPS", 10),
    "last_csat": _answer("CSAT", 5),
}
WHEN_MISSING = {
    "days_since_last_message": "Has never sent a message",
    "last_nps": "No NPS answer",
    "last_csat": "No CSAT answer",
}


def phrase(column: str, value: float) -> str:
    """How one customer's ``value`` of churn feature ``column`` reads (NaN: the value is missing)."""
    if math.isnan(value):
        return WHEN_MISSING.get(column, f"{column_words(column)} is missing")
    if column in PHRASES:
        return PHRASES[column](value)
    return f"{column_words(column)}: {value:g}"
