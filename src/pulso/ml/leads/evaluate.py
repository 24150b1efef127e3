"""Validation metrics of a lead score, and the grade and tier thresholds chosen on the validation rows.

Grades (Alto/Médio/Baixo = A/B/C) are absolute and read on the calibrated probability: a lead is A when it is
predicted to convert at least ``min(2 x base rate, (1 + base rate) / 2)`` (twice the validation base rate, or
halfway to certainty when twice is out of reach), C when predicted below half the base rate, B in between. The
base rate is the validation rows'; the observed conversion of each grade on validation is saved beside the
thresholds, so a grade's promise can be checked. When no validation lead reaches a target the fallback is the top
decile for A and the bottom half for C, and ``rule`` says so. Quartile tiers are relative: tier 1 holds the
quarter of leads with the highest scores (cuts at the validation scores' quartiles).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

GRADE_NAMES = {"A": "Alto", "B": "Médio", "C": "Baixo"}


def top_decile_lift(y: np.ndarray, score: np.ndarray) -> float:
    """Conversion rate among the 10% highest scores divided by the overall rate."""
    n_top = max(1, int(np.ceil(0.1 * len(y))))
    top = np.argsort(-score, kind="stable")[:n_top]
    return float(np.mean(y[top]) / np.mean(y))


def calibration_table(y: np.ndarray, score: np.ndarray, bins: int = 10) -> list[dict[str, float]]:
    """Equal-width bins of predicted probability: rows, mean prediction and observed rate (empty bins left out)."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(score, edges[1:-1]), 0, bins - 1)
    table = []
    for b in range(bins):
        inside = which == b
        if inside.any():
            table.append(
                {
                    "lower": float(edges[b]),
                    "upper": float(edges[b + 1]),
                    "rows": int(inside.sum()),
                    "mean_predicted": float(score[inside].mean()),
                    "observed_rate": float(y[inside].mean()),
                }
            )
    return table


def evaluate(y: np.ndarray, score: np.ndarray) -> dict[str, Any]:
    y = np.asarray(y, dtype=int)
    score = np.asarray(score, dtype=float)
    return {
        "rows": len(y),
        "base_rate": float(np.mean(y)),
        "roc_auc": float(roc_auc_score(y, score)),
        "pr_auc": float(average_precision_score(y, score)),
        "brier": float(brier_score_loss(y, score)),
        "top_decile_lift": top_decile_lift(y, score),
        "calibration": calibration_table(y, score),
    }


def grade_thresholds(y: np.ndarray, score: np.ndarray) -> dict[str, Any]:
    """Probability thresholds for A and C (see the module docstring), with each grade's validation rate."""
    y = np.asarray(y, dtype=int)
    score = np.asarray(score, dtype=float)
    base = float(np.mean(y))
    a_threshold, c_threshold = min(2 * base, (1 + base) / 2), base / 2
    rules = [f"A: probability >= {a_threshold:.1%} (twice the base rate {base:.1%}, capped halfway to 100%)"]
    if not (score >= a_threshold).any():
        a_threshold = float(np.quantile(score, 0.9))
        rules = [f"A: top decile (probability >= {a_threshold:.1%}): no validation lead reached the target"]
    rules.append(f"C: probability < {c_threshold:.1%} (half the base rate)")
    if not (score < c_threshold).any():
        c_threshold = float(np.quantile(score, 0.5))
        rules[-1] = f"C: bottom half (probability < {c_threshold:.1%}): no validation lead was below the target"
    c_threshold = min(c_threshold, a_threshold)
    grades = assign_grades(score, {"a": a_threshold, "c": c_threshold})
    by_grade = {
        g: {"rows": int((grades == g).sum()), "rate": float(y[grades == g].mean()) if (grades == g).any() else None}
        for g in GRADE_NAMES
    }
    return {"a": a_threshold, "c": c_threshold, "base_rate": base, "rule": "; ".join(rules), "validation": by_grade}


def assign_grades(score: np.ndarray, thresholds: dict[str, Any]) -> np.ndarray:
    return np.where(score >= thresholds["a"], "A", np.where(score < thresholds["c"], "C", "B"))


def quartile_cuts(score: np.ndarray) -> list[float]:
    """The 75th, 50th and 25th percentiles of the validation scores: tier 1 is at or above the first."""
    return [float(np.quantile(score, q)) for q in (0.75, 0.5, 0.25)]


def assign_tiers(score: np.ndarray, cuts: list[float]) -> np.ndarray:
    return np.asarray(1 + np.sum(np.asarray(score)[:, None] < np.asarray(cuts)[None, :], axis=1))
