"""The generic lead-scoring path: a frame of leads with a conversion column in, a validated model out.

Steps: map the target to 0/1 (rows with a blank target are open leads: not used for training), drop the columns
the user excluded, split by time (or at random, saying so), infer the features on the training rows, warn about
columns that look like leakage, fit and calibrate :class:`LeadScorer`, and measure it on the validation rows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from pulso.errors import InvalidInputError
from pulso.ml.leads.evaluate import evaluate, grade_thresholds, quartile_cuts
from pulso.ml.leads.features import FeatureBuilder, cell_texts, map_target
from pulso.ml.leads.model import LeadScorer
from pulso.ml.leads.reasons import Reasons, column_groups, explain
from pulso.ml.leads.split import Split, split_rows

LEAKAGE_AUC = 0.95  # a column this predictive on its own is almost surely recorded after the outcome
STRONG_AUC = 0.85  # worth a look


@dataclass
class TrainedLeadModel:
    """What is saved in the registry: enough to score new leads and explain the scores."""

    target: str
    excluded: list[str]
    builder: FeatureBuilder
    scorer: LeadScorer
    grades: dict[str, Any]
    quartiles: list[float]

    def score(self, frame: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.scorer.predict_proba(self.builder.transform(frame))[:, 1])

    def score_with_reasons(self, frame: pd.DataFrame, top: int = 3) -> tuple[np.ndarray, Reasons]:
        """Each row's probability and reasons, as :meth:`score` and :func:`pulso.ml.leads.reasons.reasons` give
        them, with one pass over the trees and each column's distinct values read once."""
        cells = self.builder.cells(frame)
        columns, groups = column_groups(self.builder, self.builder.feature_names_)
        found = self.scorer.predict_encoded_with_contributions(self.builder.encode(frame, cells), len(frame), groups)
        if found is None:  # no cell explainer (the regression): from the matrix
            found = self.scorer.predict_with_contributions(self.builder.transform(frame, cells), groups)
        probability, pushes = found
        return probability, explain(pushes, columns, frame, self.builder, top, cells)


@dataclass
class TrainingResult:
    model: TrainedLeadModel
    split: Split
    metrics: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    data_hash: str = ""


def check_columns(frame: pd.DataFrame, target: str, exclude: Sequence[str], time_column: str | None) -> None:
    columns = [str(c) for c in frame.columns]
    listing = ", ".join(columns[:40]) + (", ..." if len(columns) > 40 else "")
    if target not in frame.columns:
        raise InvalidInputError(f"--target: no column {target!r}; columns are {listing}")
    unknown = [c for c in exclude if c not in frame.columns]
    if unknown:
        raise InvalidInputError(f"--exclude: no column {', '.join(map(repr, unknown))}; columns are {listing}")
    if time_column is not None and time_column not in frame.columns:
        raise InvalidInputError(f"--time-column: no column {time_column!r}; columns are {listing}")


def train_leads(
    frame: pd.DataFrame,
    target: str,
    *,
    exclude: Sequence[str] = (),
    time_column: str | None = None,
    drop: Sequence[str] = (),
    random_state: int = 0,
    scorer: LeadScorer | None = None,
) -> TrainingResult:
    """Train on ``frame``. ``drop`` are bookkeeping columns (ids, timestamps) that are never features."""
    check_columns(frame, target, exclude, time_column)
    labels = map_target(frame[target], target)
    labelled = frame.loc[labels.notna()].reset_index(drop=True)
    y = labels.dropna().to_numpy(dtype=int)
    times = labelled[time_column] if time_column is not None else None
    split = split_rows(times, y, random_state=random_state)
    not_features = {target, *exclude, *drop, *([time_column] if time_column else [])}
    inputs = labelled[[c for c in labelled.columns if c not in not_features]]
    train, valid = inputs.iloc[split.train], inputs.iloc[split.validation]
    y_train, y_valid = y[split.train], y[split.validation]
    builder = FeatureBuilder().fit(train)
    warnings = leakage_warnings(train, y_train, valid, y_valid, builder)
    X_train, X_valid = builder.transform(train), builder.transform(valid)
    scorer = (scorer or LeadScorer(random_state=random_state)).fit(X_train, y_train, X_valid, y_valid)
    score = scorer.predict_proba(X_valid)[:, 1]
    metrics = evaluate(y_valid, score)
    metrics.update(
        split=split.method,
        split_note=split.note,
        train_rows=len(y_train),
        train_base_rate=float(y_train.mean()),
        chosen=scorer.chosen_,
        candidate_roc_auc=scorer.candidate_auc_,
        calibration_method=scorer.calibration_,
        roc_auc_uncalibrated=float(roc_auc_score(y_valid, scorer.raw_score(X_valid))),
        leakage_warnings=warnings,
        dropped_columns=builder.dropped_,
    )
    grades = grade_thresholds(y_valid, score)
    model = TrainedLeadModel(target, list(exclude), builder, scorer, grades, quartile_cuts(score))
    metrics["grades"] = grades
    metrics["quartile_cuts"] = model.quartiles
    return TrainingResult(model, split, metrics, warnings, data_hash(labelled))


def leakage_warnings(
    train: pd.DataFrame, y_train: np.ndarray, valid: pd.DataFrame, y_valid: np.ndarray, builder: FeatureBuilder
) -> list[str]:
    """Columns that alone separate the classes on validation (AUC > 0.95), or that never vary within one class."""
    warnings = []
    for plan in builder.columns_:
        cells_train = _cells(train[plan.name], train[plan.name])
        cells_valid = _cells(valid[plan.name], train[plan.name])
        rates = pd.Series(y_train).groupby(cells_train.to_numpy()).mean()
        encoded = cells_valid.map(rates).fillna(float(y_train.mean())).to_numpy(dtype=float)
        auc = roc_auc_score(y_valid, encoded) if len(np.unique(encoded)) > 1 else 0.5
        if auc > LEAKAGE_AUC:
            warnings.append(
                f"{plan.name!r} alone gives validation AUC {auc:.3f}: is it known only after the outcome? "
                f"If so, leave it out with --exclude"
            )
            continue
        if auc > STRONG_AUC:
            warnings.append(
                f"{plan.name!r} alone gives validation AUC {auc:.3f}, strong for one column: "
                "check that it is known before the outcome"
            )
        for label, word in ((1, "converted"), (0, "non-converted")):
            values = cells_train[y_train == label].unique()
            others = cells_train[y_train != label]
            differing = int((others != values[0]).sum()) if len(values) == 1 else 0
            # only when the other class differs often enough for the constancy to mean something
            if len(values) == 1 and differing >= max(10, 0.05 * len(others)):
                warnings.append(
                    f"{plan.name!r} is {values[0]!r} for every {word} training lead: "
                    "is it filled only after the outcome? If so, leave it out with --exclude"
                )
    return warnings


def _cells(values: pd.Series, reference: pd.Series) -> pd.Series:
    """Discrete cells of a column: text as is, numbers in deciles of the reference (training) values."""
    text = cell_texts(values)
    numbers = pd.to_numeric(text, errors="coerce")
    if numbers.notna().sum() >= 0.98 * text.notna().sum() and text.notna().any():
        reference_numbers = pd.to_numeric(cell_texts(reference), errors="coerce").dropna()
        edges = np.unique(np.quantile(reference_numbers, np.linspace(0, 1, 11)[1:-1]))
        binned = pd.Series(np.searchsorted(edges, numbers.to_numpy(), side="right"), index=text.index).astype(str)
        return binned.where(numbers.notna(), "(missing)")
    return text.fillna("(missing)").astype(str)


def data_hash(frame: pd.DataFrame) -> str:
    """sha256 of the training frame's cells, in order (so a retrain on the same data has the same hash)."""
    digest = hashlib.sha256()
    digest.update(",".join(map(str, frame.columns)).encode())
    digest.update(pd.util.hash_pandas_object(frame.astype(str), index=False).to_numpy().tobytes())
    return digest.hexdigest()
