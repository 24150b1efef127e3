"""Train/validation split: the latest leads validate a model trained on earlier ones.

Rows are ordered by a time column and the last ``validation_share`` become the validation set, so the reported
metrics are those of a model that only saw the past. When the times cannot order the rows (all equal, or spanning
less than ``min_span``: an import of a static file stamps every row within seconds) the split falls back to a
seeded stratified random one, and says so in ``note`` (printed by the CLI and saved with the metrics).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from pulso.errors import InvalidInputError

VALIDATION_SHARE = 0.2
MIN_SPAN = timedelta(days=1)


@dataclass(frozen=True)
class Split:
    train: np.ndarray  # row positions
    validation: np.ndarray
    method: str  # "time" or "random"
    note: str
    training_start: pd.Timestamp | None = None
    training_end: pd.Timestamp | None = None  # the validation rows are at or after this time


def split_rows(
    times: pd.Series | None,
    y: np.ndarray,
    *,
    validation_share: float = VALIDATION_SHARE,
    min_span: timedelta = MIN_SPAN,
    random_state: int = 0,
) -> Split:
    """Positions of the training and validation rows. ``times`` may hold gaps (those rows sort first)."""
    n = len(y)
    if not 0 < validation_share < 1:
        raise InvalidInputError(f"validation_share: must be between 0 and 1, got {validation_share}")
    n_valid = math.ceil(n * validation_share)
    positives = int(np.sum(y))
    if n_valid < 2 or min(positives, n - positives) < 2:
        raise InvalidInputError(
            f"target: {n} labelled rows with {positives} converted; need at least two of each class in both sets"
        )
    reason = "no time column"
    if times is not None:
        stamps = pd.to_datetime(times, errors="coerce", utc=True).reset_index(drop=True)
        filled = stamps.dropna()
        span = (filled.max() - filled.min()) if len(filled) else timedelta(0)
        if len(filled) < 0.5 * n:
            reason = f"{times.name} is blank in {n - len(filled):,} of {n:,} rows"
        elif span < min_span:
            reason = (
                f"{times.name} spans only {pd.Timedelta(span).total_seconds():,.0f} s (an import of a static file?)"
            )
        else:
            order = np.argsort(stamps.fillna(filled.min()).to_numpy(dtype="datetime64[ns]"), kind="stable")
            train, valid = np.sort(order[:-n_valid]), np.sort(order[-n_valid:])
            if min(int(np.sum(y[valid])), n_valid - int(np.sum(y[valid]))) >= 2:
                cutoff = stamps.iloc[order[-n_valid]]
                return Split(
                    train,
                    valid,
                    "time",
                    f"time split on {times.name}: validation = the latest {n_valid:,} leads, from {cutoff}",
                    filled.min(),
                    cutoff,
                )
            reason = f"the latest {n_valid:,} leads by {times.name} hold fewer than two of one class"
    positions = np.arange(n)
    train, valid = train_test_split(positions, test_size=n_valid, stratify=y, random_state=random_state)
    note = (
        f"random split (stratified, seed {random_state}), not a time split: {reason}; "
        "the validation metrics may be optimistic if leads change over time"
    )
    return Split(np.sort(train), np.sort(valid), "random", note)
