"""The churn classifier on churn frames, and P(alive) from BG/NBD as a second opinion and as the baseline.

The classifier is the generic binary path of :mod:`pulso.ml.leads` (feature inference, logistic regression
against LightGBM chosen on validation, out-of-fold calibration, metrics, per-feature contributions) with
``churned`` as the target and :data:`pulso.ml.churn_frame.FEATURES` as the inputs. Its training rows are the
customers of one churn frame at ``as_of = now - horizon``, whose labels are known by ``now``.

Validation split: stratified random (seeded), not by time. All rows share one ``as_of``: every customer's
features come from before it and its label from after it, so no row sees another's future, and ordering the
customers of one snapshot by time would only separate new customers from old ones. An out-of-time check (train
at ``now - 2 horizons``, validate at ``now - horizon``) needs two horizons of history, which young tenants lack
(the demo holds six months). The metrics stay optimistic if the churn pattern shifts from one period to the next.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from pulso.errors import InvalidInputError
from pulso.ml.churn.words import phrase
from pulso.ml.churn_frame import FEATURES
from pulso.ml.clv.bgnbd import BetaGeoModel
from pulso.ml.clv.summary import summarize
from pulso.ml.leads.reasons import reasons
from pulso.ml.leads.train import TrainedLeadModel, TrainingResult, train_leads

TARGET = "churned"
MIN_CUSTOMERS = 40  # labelled customers needed to train
MIN_PER_CLASS = 10  # of each outcome: the 20% validation rows then hold about two or more of each


class NotEnoughDataError(InvalidInputError):
    """Too few customers or outcomes to train a churn model; the message gives the counts."""


@dataclass
class TrainedChurnModel:
    """What the registry stores: the horizon the labels used, the classifier (features, scorer), and each feature's
    range on the training rows: scoring clips to it, so a young tenant's model, trained when no customer was older
    than its history, does not extrapolate to the older customers it scores later (trees would not; the logistic
    regression would, linearly, without bound)."""

    horizon_days: int
    classifier: TrainedLeadModel
    lower: dict[str, float]
    upper: dict[str, float]


@dataclass
class ChurnTraining:
    model: TrainedChurnModel
    result: TrainingResult  # the split, the validation metrics (with the P(alive) baseline), warnings, data hash


@dataclass
class AliveFit:
    """P(alive) and the expected repeat purchases over the horizon per customer (NaN when the fit failed), and how
    the BG/NBD fit went."""

    p_alive: pd.Series
    expected_purchases: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))
    params: dict[str, float] = field(default_factory=dict)
    converged: bool = False
    note: str = ""


@dataclass
class ChurnScores:
    risk: np.ndarray  # calibrated probability of no purchase in the next horizon
    reasons: list[list[dict[str, Any]]]  # per row: {column, text, log_odds, direction}, raising first


def check_labels(labelled: pd.DataFrame, as_of: datetime | None = None) -> None:
    """Refuse to train on fewer than :data:`MIN_CUSTOMERS` customers or :data:`MIN_PER_CLASS` of either outcome."""
    churned = int((labelled[TARGET] == 1).sum())
    stayed = len(labelled) - churned
    if len(labelled) < MIN_CUSTOMERS or min(churned, stayed) < MIN_PER_CLASS:
        when = f" with a purchase before {as_of:%Y-%m-%d}" if as_of is not None else ""
        raise NotEnoughDataError(
            f"customers: {len(labelled)}{when} ({churned} churned, {stayed} bought again); a churn model needs "
            f"at least {MIN_CUSTOMERS} customers and {MIN_PER_CLASS} of each outcome"
        )


def train_churn(
    frame: pd.DataFrame,
    horizon_days: int,
    baselines: Mapping[str, pd.Series] | None = None,
    *,
    as_of: datetime | None = None,
    random_state: int = 0,
) -> ChurnTraining:
    """Train on the labelled rows of a churn frame. Each of ``baselines`` (a churn score indexed like ``frame``,
    higher meaning riskier, e.g. 1 - P(alive)) is measured on the same validation rows: ``baseline_roc_auc``."""
    labelled = frame[frame[TARGET].notna()]
    check_labels(labelled, as_of)
    rows = labelled[[*FEATURES, TARGET]].reset_index(drop=True)
    result = train_leads(rows, TARGET, random_state=random_state)
    valid = result.split.validation
    y_valid = rows[TARGET].to_numpy(dtype=int)[valid]
    metrics = result.metrics
    metrics["split_note"] = (
        f"stratified random split (seed {random_state}) of the {len(rows):,} customers at as_of: validation = "
        f"{len(valid):,} customers; all share one as_of (features before it, outcome in the {horizon_days} days "
        "after), so it is not a split by time"
    )
    metrics["horizon_days"] = horizon_days
    metrics["baseline_roc_auc"] = {}
    for name, score in (baselines or {}).items():
        baseline = score.reindex(labelled.index).to_numpy(dtype=float)[valid]
        known = np.isfinite(baseline)
        if known.any() and len(np.unique(y_valid[known])) == 2:
            metrics["baseline_roc_auc"][name] = float(roc_auc_score(y_valid[known], baseline[known]))
    seen = rows.iloc[result.split.train][list(FEATURES)]
    lower = {str(k): float(v) for k, v in seen.min().dropna().items()}
    upper = {str(k): float(v) for k, v in seen.max().dropna().items()}
    return ChurnTraining(TrainedChurnModel(horizon_days, result.model, lower, upper), result)


def score_churn(model: TrainedChurnModel, frame: pd.DataFrame, top: int = 3) -> ChurnScores:
    """Churn risk and reasons (``top`` raising, ``top`` lowering) for every row of a churn frame."""
    features = frame[list(FEATURES)]
    builder, scorer = model.classifier.builder, model.classifier.scorer
    bounded = features.clip(lower=pd.Series(model.lower), upper=pd.Series(model.upper), axis=1)
    matrix = builder.transform(bounded)
    risk = np.asarray(scorer.predict_proba(matrix)[:, 1], dtype=float)
    explained = reasons(scorer.contributions(matrix), features, builder, top=top)
    values = features.to_numpy(dtype=float)
    position = {name: j for j, name in enumerate(features.columns)}
    worded = [
        [
            {**r, "text": f"{phrase(r['column'], values[row, position[r['column']]])} ({effect})", "direction": effect}
            for effect in ("raises", "lowers")
            for r in why[effect]
        ]
        for row, why in enumerate(explained)
    ]
    return ChurnScores(risk, worded)


def p_alive_at(log: pd.DataFrame, as_of: datetime, horizon_days: int = 90) -> AliveFit:
    """P(alive) at ``as_of``, and the expected repeat purchases in the next ``horizon_days``, of every customer with
    a purchase before ``as_of``, from BG/NBD fitted on those customers.

    ``log`` is :func:`pulso.ml.purchases.purchase_log`; purchases count per distinct day, times in weeks to the
    day of ``as_of``. A fit that fails leaves both missing and says why in ``note``."""
    before = log[log["at"] < pd.Timestamp(as_of)]
    if before.empty:
        return AliveFit(pd.Series(dtype=float), note="no purchases before as_of")
    summary = summarize(before, "customer", "at", until=as_of.date(), time_unit="W")
    x, t_x, age = summary["frequency"], summary["recency"], summary["T"]
    try:
        model = BetaGeoModel().fit(x, t_x, age)
        alive = model.probability_alive(x, t_x, age)
        expected = model.conditional_expected_purchases(horizon_days / 7, x, t_x, age)
    except (ValueError, FloatingPointError, np.linalg.LinAlgError) as exc:
        missing = pd.Series(np.nan, index=summary.index, dtype=float)
        return AliveFit(missing, missing, note=f"BG/NBD fit failed: {exc}")
    note = "" if model.converged_ else "BG/NBD fit did not converge: P(alive) is approximate"
    if not (x > 0).any():
        note = "no customer has a repeat purchase: BG/NBD gives P(alive) = 1 to everyone"
    return AliveFit(
        pd.Series(alive, index=summary.index, dtype=float),
        pd.Series(expected, index=summary.index, dtype=float),
        model.params_,
        bool(model.converged_),
        note,
    )
