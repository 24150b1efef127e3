"""Metrics, grades, tiers and the split, on small hand-worked examples."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pulso.errors import InvalidInputError
from pulso.ml.leads.evaluate import (
    assign_tiers,
    calibration_table,
    evaluate,
    grade_thresholds,
    quartile_cuts,
    top_decile_lift,
)
from pulso.ml.leads.split import split_rows


def test_top_decile_lift_by_hand() -> None:
    # 20 leads, 4 converted (20%); the top 2 scores hold 2 conversions (100%): lift 5
    y = np.array([1, 1] + [0] * 16 + [1, 1])
    score = np.array([0.9, 0.8] + [0.5] * 16 + [0.1, 0.1])
    assert top_decile_lift(y, score) == pytest.approx(5.0)


def test_calibration_table_by_hand() -> None:
    y = np.array([0, 0, 1, 1, 1])
    score = np.array([0.05, 0.15, 0.15, 0.95, 1.0])
    assert calibration_table(y, score) == [
        {"lower": 0.0, "upper": 0.1, "rows": 1, "mean_predicted": 0.05, "observed_rate": 0.0},
        {"lower": 0.1, "upper": 0.2, "rows": 2, "mean_predicted": 0.15, "observed_rate": 0.5},
        {"lower": 0.9, "upper": 1.0, "rows": 2, "mean_predicted": 0.975, "observed_rate": 1.0},
    ]


def test_metrics_of_a_perfect_ranking() -> None:
    metrics = evaluate(np.array([0, 0, 0, 1]), np.array([0.1, 0.2, 0.3, 0.9]))
    assert metrics["roc_auc"] == 1.0
    assert metrics["pr_auc"] == 1.0
    assert metrics["brier"] == pytest.approx((0.01 + 0.04 + 0.09 + 0.01) / 4)
    assert metrics["base_rate"] == 0.25


def test_grades_read_the_probability_against_the_base_rate() -> None:
    # base rate 20%: A at >= 40%, C below 10%
    y = np.array([1, 1, 0, 0, 0, 0, 0, 0, 0, 0])
    score = np.array([0.6, 0.4, 0.39, 0.2, 0.2, 0.1, 0.09, 0.05, 0.05, 0.01])
    grades = grade_thresholds(y, score)
    assert (grades["a"], grades["c"]) == pytest.approx((0.4, 0.1))
    assert grades["validation"] == {
        "A": {"rows": 2, "rate": 1.0},
        "B": {"rows": 4, "rate": 0.0},
        "C": {"rows": 4, "rate": 0.0},
    }


def test_grades_cap_the_a_target_halfway_to_certainty() -> None:
    y = np.array([1, 1, 1, 0])  # base 75%: twice is 150%, so A needs (1 + 0.75) / 2 = 87.5%
    assert grade_thresholds(y, np.array([0.9, 0.8, 0.7, 0.2]))["a"] == pytest.approx(0.875)


def test_grades_fall_back_to_the_top_decile_when_nothing_reaches_the_target() -> None:
    y = np.array([1] + [0] * 9)
    score = np.linspace(0.01, 0.15, 10)
    grades = grade_thresholds(y, score)
    assert grades["a"] == pytest.approx(np.quantile(score, 0.9))
    assert grades["rule"].startswith("A: top decile")


def test_quartile_tiers() -> None:
    score = np.arange(1, 9) / 10  # 0.1 .. 0.8
    cuts = quartile_cuts(score)
    assert cuts == pytest.approx([0.625, 0.45, 0.275])
    assert assign_tiers(score, cuts).tolist() == [4, 4, 3, 3, 2, 2, 1, 1]


def test_time_split_validates_on_the_latest_leads() -> None:
    times = pd.Series(pd.date_range("2026-01-01", periods=10, freq="D", tz="UTC")[::-1], name="first_seen_at")
    y = np.array([1, 0] * 5)
    split = split_rows(times, y, validation_share=0.4)
    assert split.method == "time"
    assert split.validation.tolist() == [0, 1, 2, 3]  # the rows with the four latest dates
    assert split.training_end == pd.Timestamp("2026-01-07", tz="UTC")
    assert "time split on first_seen_at" in split.note


def test_a_static_import_falls_back_to_a_random_split_and_says_so() -> None:
    times = pd.Series([pd.Timestamp("2026-01-01T10:00:00Z")] * 20, name="created_at")
    y = np.array([1, 0, 0, 0] * 5)
    split = split_rows(times, y, random_state=3)
    assert split.method == "random"
    assert "random split (stratified, seed 3), not a time split: created_at spans only 0 s" in split.note
    assert len(split.validation) == 4
    assert y[split.validation].sum() == 1  # stratified: 25% of 4
    assert sorted([*split.train, *split.validation]) == list(range(20))


def test_too_few_of_a_class_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="need at least two of each class"):
        split_rows(None, np.array([1] + [0] * 20))
