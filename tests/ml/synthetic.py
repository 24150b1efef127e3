"""A synthetic leads frame with a known signal, for the lead-scoring tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

# true model: logit P(convert) = -1.5 + 1.6 * z(minutes on site) + 1.2 * [source = Reference] - 0.8 * [no e-mail]
INTERCEPT, MINUTES, REFERENCE, NO_EMAIL = -1.5, 1.6, 1.2, -0.8


def leads(n: int = 4000, seed: int = 7) -> pd.DataFrame:
    """Text cells, as an import stores them: numbers, a categorical with a rare level, yes/no, gaps, a date."""
    rng = np.random.default_rng(seed)
    minutes = rng.gamma(2.0, 10.0, n)
    z = (minutes - 20.0) / np.sqrt(200.0)
    source = rng.choice(
        ["Google", "Reference", "Olark Chat", "Direct", "Rare Fair"], n, p=[0.4, 0.2, 0.2, 0.197, 0.003]
    )
    no_email = rng.random(n) < 0.3
    logit = INTERCEPT + MINUTES * z + REFERENCE * (source == "Reference") + NO_EMAIL * no_email
    converted = rng.random(n) < 1 / (1 + np.exp(-logit))
    noise = rng.normal(size=n)
    pages = rng.poisson(3, n).astype(float)
    first_visit = pd.Timestamp("2026-01-01T00:00:00Z") + pd.to_timedelta(np.sort(rng.uniform(0, 300, n)), unit="D")
    return pd.DataFrame(
        {
            "Minutes on Site": [f"{m:.1f}" for m in minutes],
            "Lead Source": source,
            "Do Not Email": np.where(no_email, "Yes", "No"),
            "Noise": [f"{v:.3f}" for v in noise],
            "Pages": [None if rng.random() < 0.1 else f"{p:.0f}" for p in pages],
            "First Visit": first_visit.strftime("%Y-%m-%dT%H:%M:%S"),
            "Converted": np.where(converted, "yes", "no"),
        }
    )
