"""Churn risk for one tenant: train and register the classifier, score the current customers, keep it fresh.

Training reads the churn frame at ``as_of = now - horizon`` (labels known by now); scoring reads it at
``as_of = now`` and appends one ``churn_scores`` row per customer (history), each with the calibrated churn risk,
P(alive) from a BG/NBD fit on the tenant's purchase log, the reasons, the last purchase and the value to date.
:func:`refresh` is what the daily job runs: it retrains when no churn model is active or the active one is a
week old, then scores.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import insert

from pulso.errors import InvalidInputError, NotFoundError
from pulso.ml.churn import DEFAULT_HORIZON_DAYS
from pulso.ml.churn.model import (
    AliveFit,
    ChurnTraining,
    NotEnoughDataError,
    TrainedChurnModel,
    p_alive_at,
    score_churn,
    train_churn,
)
from pulso.ml.churn_frame import ChurnFrameParams, churn_frame
from pulso.ml.leads import registry
from pulso.ml.leads.service import as_datetime, scorer_params
from pulso.ml.purchases import purchase_log
from pulso.store.models import ChurnScore, ModelVersion
from pulso.store.session import PulsoSession
from pulso.store.types import utcnow

KIND = "churn"
MAX_HORIZON_DAYS = 3660
RETRAIN_AFTER = timedelta(days=7)


def check_horizon(days: int) -> timedelta:
    if not 1 <= days <= MAX_HORIZON_DAYS:
        raise InvalidInputError(f"--horizon-days: between 1 and {MAX_HORIZON_DAYS}, got {days}")
    return timedelta(days=days)


@dataclass(frozen=True)
class SavedChurnTraining:
    training: ChurnTraining
    version: ModelVersion
    alive: AliveFit


def train_tenant(
    session: PulsoSession,
    *,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    now: datetime | None = None,
    random_state: int = 0,
) -> SavedChurnTraining:
    """Train on the customers at ``now - horizon``, save the version (kind ``churn``) and make it active."""
    horizon = check_horizon(horizon_days)
    now = now or utcnow()
    as_of = now - horizon
    frame = churn_frame(session, ChurnFrameParams(as_of, now, horizon))
    log = purchase_log(session, until=now)
    alive = p_alive_at(log, as_of, horizon_days)
    baselines = {"p_alive": 1.0 - alive.p_alive, "expected_purchases": -alive.expected_purchases}  # as churn scores
    training = train_churn(frame, horizon_days, baselines, as_of=as_of, random_state=random_state)
    result, scorer = training.result, training.model.classifier.scorer
    result.metrics.update(customers=len(result.split.train) + len(result.split.validation))
    result.metrics.update(p_alive_bgnbd=alive.params, p_alive_note=alive.note)
    params: dict[str, Any] = {
        "horizon_days": horizon_days,
        "as_of": as_of.isoformat(),
        "labels_until": now.isoformat(),
        "random_state": random_state,
        **scorer_params(scorer),
    }
    first = log["at"].min() if len(log) else None
    version = registry.save_version(
        session,
        training.model,
        kind=KIND,
        params=params,
        features=list(training.model.classifier.builder.feature_names_),
        metrics=result.metrics,
        training_start=None if first is None else first.to_pydatetime(),
        training_end=as_of,
        data_hash=result.data_hash,
    )
    return SavedChurnTraining(training, version, alive)


def active_churn_version(session: PulsoSession) -> ModelVersion:
    try:
        return registry.active_version(session, kind=KIND)
    except NotFoundError:
        raise NotFoundError("no active churn model; train one first (pulso train churn --tenant SLUG)") from None


@dataclass(frozen=True)
class ScoringRun:
    version: ModelVersion
    scored: int
    scored_at: datetime
    alive: AliveFit


def score_tenant(session: PulsoSession, *, now: datetime | None = None) -> ScoringRun:
    """Score every current customer with the active churn model; appends one ``churn_scores`` row each."""
    version = active_churn_version(session)
    model = registry.load_model(version)
    if not isinstance(model, TrainedChurnModel):
        raise InvalidInputError(f"model churn {version.version}: the artifact is not a churn model")
    now = now or utcnow()
    frame = churn_frame(session, ChurnFrameParams(now, now, timedelta(days=model.horizon_days)))
    log = purchase_log(session, until=now)
    alive = p_alive_at(log, now, model.horizon_days)
    if frame.empty:
        return ScoringRun(version, 0, now, alive)
    scores = score_churn(model, frame)
    last_purchase = log.groupby("customer")["at"].max().reindex(frame.index)
    p_alive = alive.p_alive.reindex(frame.index).to_numpy(dtype=float)
    rows = [
        {
            "tenant_id": session.tenant_id,
            "contact_id": int(contact_id),
            "model_version_id": version.id,
            "churn_risk": float(risk),
            "p_alive": float(p) if np.isfinite(p) else None,
            "reasons": why,
            "last_purchase_at": as_datetime(last),
            "total_value": float(total),
            "scored_at": now,
        }
        for contact_id, risk, p, why, last, total in zip(
            frame.index, scores.risk, p_alive, scores.reasons, last_purchase, frame["total_value"], strict=True
        )
    ]
    session.execute(insert(ChurnScore), rows)
    return ScoringRun(version, len(rows), now, alive)


@dataclass(frozen=True)
class Refresh:
    """What :func:`refresh` did: the training (if any), the scoring run, or why it skipped; ``note`` explains a
    retraining that was due but not possible (the previous model kept scoring)."""

    trained: SavedChurnTraining | None = None
    run: ScoringRun | None = None
    skipped: str | None = None
    note: str | None = None


def retraining_due(active: ModelVersion | None, now: datetime) -> bool:
    return active is None or now - active.created_at >= RETRAIN_AFTER


def refresh(session: PulsoSession, *, now: datetime | None = None) -> Refresh:
    """Retrain when no churn model is active or the active one is :data:`RETRAIN_AFTER` old, then score."""
    now = now or utcnow()
    try:
        active: ModelVersion | None = active_churn_version(session)
    except NotFoundError:
        active = None
    trained, note = None, None
    if retraining_due(active, now):
        horizon = int(active.params.get("horizon_days", DEFAULT_HORIZON_DAYS)) if active else DEFAULT_HORIZON_DAYS
        try:
            trained = train_tenant(session, horizon_days=horizon, now=now)
        except NotEnoughDataError as exc:
            if active is None:
                return Refresh(skipped=str(exc))
            note = f"kept churn {active.version}, retraining is not possible: {exc}"
    return Refresh(trained, score_tenant(session, now=now), note=note)
