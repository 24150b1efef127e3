"""The lead-scoring implementations the fast path replaced: features encoded cell by cell, reasons chosen row by row.

Kept as the reference the fast path is tested against (tests/ml/test_leads_fast_path.py) and benchmarked against
(benchmarks/lead_scoring.py).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from pulso.ml.leads.features import FeatureBuilder
from pulso.ml.leads.reasons import describe


def reference_transform(builder: FeatureBuilder, frame: pd.DataFrame) -> pd.DataFrame:
    """Every column encoded cell by cell, as before the distinct-value path."""
    out: dict[str, np.ndarray] = {}
    for plan in builder.columns_:
        out.update(builder._encode(plan, frame[plan.name]))
    return pd.DataFrame(out, index=frame.index, columns=builder.feature_names_)


def reference_reasons(
    contributions: pd.DataFrame, frame: pd.DataFrame, builder: FeatureBuilder, top: int = 3
) -> list[dict[str, list[dict[str, Any]]]]:
    """The row-by-row loop that :func:`reasons` replaced."""
    plans = {plan.name: plan for plan in builder.columns_}
    features = [c for c in contributions.columns if c in builder.source_of_]
    sources = [builder.source_of_[f] for f in features]
    per_column = contributions[features].T.groupby(sources, sort=False).sum().T
    names = list(per_column.columns)
    words = {name: describe(plans[name], builder, frame[name]) for name in names}
    out = []
    for row, row_values in enumerate(per_column.to_numpy()):
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
