"""Churn reasons in a manager's words, one phrase per feature, including missing values and singulars."""

from __future__ import annotations

import math

import pytest

from pulso.ml.churn.words import phrase
from pulso.ml.churn_frame import FEATURES


@pytest.mark.parametrize(
    ("column", "value", "words"),
    [
        ("recency_days", 210.7, "No purchase for 210 days"),
        ("recency_days", 1.0, "No purchase for 1 day"),
        ("recency_days", 0.4, "Bought within the last day"),
        ("frequency", 0, "No repeat purchase yet"),
        ("frequency", 2, "Bought on 3 different days"),
        ("monetary_mean", 1310.5, "Average purchase 1,310.50"),
        ("total_value", 6570, "Spent 6,570.00 in total"),
        ("tenure_days", 44.9, "Customer for 44 days"),
        ("purchases_last_90_days", 0, "No purchase in the last 90 days"),
        ("purchases_last_90_days", 1, "1 purchase in the last 90 days"),
        ("messages_last_30_days", 0, "No message in the last 30 days"),
        ("messages_last_30_days", 5, "5 messages in the last 30 days"),
        ("days_since_last_message", 40.2, "Last message 40 days ago"),
        ("days_since_last_message", math.nan, "Has never sent a message"),
        ("last_nps", 6, "Last NPS answer: 6 of 10"),
        ("last_nps", math.nan, "No NPS answer"),
        ("last_csat", 4, "Last CSAT answer: 4 of 5"),
        ("last_csat", math.nan, "No CSAT answer"),
        ("visits", 3.5, "Visits: 3.5"),
        ("visits", math.nan, "Visits is missing"),
    ],
)
def test_phrase(column: str, value: float, words: str) -> None:
    assert phrase(column, value) == words


def test_every_feature_has_its_own_words() -> None:
    assert all(not phrase(column, 1.0).startswith(column) for column in FEATURES)
