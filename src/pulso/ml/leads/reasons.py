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

from pulso.ml.leads.features import ColumnPlan, FeatureBuilder, cell_texts


def describe(plan: ColumnPlan, builder: FeatureBuilder, cell: Any) -> str:
    """How the lead's value of one column reads to a person."""
    text = cell_texts(pd.Series([cell], dtype=object)).iloc[0]
    if pd.isna(text):
        return f"{plan.name} is missing"
    if plan.kind == "categorical":
        level = builder.level_of(plan, pd.Series([text], dtype=object)).iloc[0]
        return f"{plan.name} = {text if level != '(other)' else f'{text} (rare)'}"
    if plan.kind == "numeric":
        number = pd.to_numeric(pd.Series([text]), errors="coerce").iloc[0]
        if pd.isna(number):
            return f"{plan.name} is missing"
        side = "high" if number > plan.median else "low" if number < plan.median else "typical"
        return f"{plan.name} is {side}: {text}"
    return f"{plan.name} = {text}"


def reasons(
    contributions: pd.DataFrame, frame: pd.DataFrame, builder: FeatureBuilder, top: int = 3
) -> list[dict[str, list[dict[str, Any]]]]:
    """Per row: up to ``top`` raising and ``top`` lowering columns, strongest first, with their log-odds push."""
    plans = {plan.name: plan for plan in builder.columns_}
    features = [c for c in contributions.columns if c in builder.source_of_]
    sources = [builder.source_of_[f] for f in features]
    per_column = contributions[features].T.groupby(sources, sort=False).sum().T
    names = list(per_column.columns)
    values = per_column.to_numpy()
    out = []
    for row_position, row_values in enumerate(values):
        order = np.argsort(-np.abs(row_values), kind="stable")
        raises: list[dict[str, Any]] = []
        lowers: list[dict[str, Any]] = []
        for j in order:
            push = float(row_values[j])
            if push == 0.0 or (len(raises) >= top and len(lowers) >= top):
                continue
            bucket = raises if push > 0 else lowers
            if len(bucket) < top:
                column = names[j]
                words = describe(plans[column], builder, frame.iloc[row_position][column])
                effect = "raises" if push > 0 else "lowers"
                bucket.append({"column": column, "text": f"{words} ({effect})", "log_odds": round(push, 4)})
        out.append({"raises": raises, "lowers": lowers})
    return out
