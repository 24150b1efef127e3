"""Reasons per lead: the source columns that pushed its score up or down most, in a salesperson's words.

The model's per-feature log-odds contributions are summed per source column (a categorical column's one-hot
features and a column's missing indicator count together), then described by the lead's own value:
``Lead Source = Reference (raises)``, ``Total Time Spent on Website is high: 1532 (raises)``,
``City is missing (lowers)``. Numbers are high or low against the training median.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from pulso.ml.leads.features import OTHER, ColumnPlan, FeatureBuilder, cell_texts


def column_words(name: str) -> str:
    """A stored attribute key as a person would write it: ``lead_source`` -> ``Lead source``."""
    if name == name.lower():
        words = name.replace("_", " ").strip()
        return words[:1].upper() + words[1:]
    return name


def describe(plan: ColumnPlan, builder: FeatureBuilder, values: pd.Series) -> list[str]:
    """How each lead's value of one column reads to a person."""
    name = column_words(plan.name)
    text = cell_texts(values)
    if plan.kind == "categorical":
        level = builder.level_of(plan, text)
        words = [f"{name} = {t}" if lv != OTHER else f"{name} = {t} (rare)" for t, lv in zip(text, level, strict=True)]
    elif plan.kind == "numeric":
        number = pd.to_numeric(text, errors="coerce")
        side = np.where(number > plan.median, "high", np.where(number < plan.median, "low", "typical"))
        words = [f"{name} is {s}: {t}" for s, t in zip(side, text, strict=True)]
        text = text.where(number.notna())
    else:
        words = [f"{name} = {t}" for t in text]
    return [f"{name} is missing" if pd.isna(t) else w for t, w in zip(text, words, strict=True)]


def reasons(
    contributions: pd.DataFrame, frame: pd.DataFrame, builder: FeatureBuilder, top: int = 3
) -> list[dict[str, list[dict[str, Any]]]]:
    """Per row: up to ``top`` raising and ``top`` lowering columns, strongest first, with their log-odds push."""
    plans = {plan.name: plan for plan in builder.columns_}
    features = [c for c in contributions.columns if c in builder.source_of_]
    sources = [builder.source_of_[f] for f in features]
    per_column = contributions[features].T.groupby(sources, sort=False).sum().T
    names = list(per_column.columns)
    words = {name: describe(plans[name], builder, frame[name]) for name in names}
    values = per_column.to_numpy()
    out = []
    for row, row_values in enumerate(values):
        order = np.argsort(-np.abs(row_values), kind="stable")
        found: dict[str, list[dict[str, Any]]] = {"raises": [], "lowers": []}
        for j in order:
            push = float(row_values[j])
            effect = "raises" if push > 0 else "lowers"
            if push == 0.0 or len(found[effect]) >= top:
                continue
            text = f"{words[names[j]][row]} ({effect})"
            found[effect].append({"column": names[j], "text": text, "log_odds": round(push, 4)})
            if len(found["raises"]) >= top and len(found["lowers"]) >= top:
                break
        out.append(found)
    return out
