"""Lead scoring from the tenant's own activity: training frames built from :mod:`pulso.ml.lead_frame`, training
through the generic path (:func:`pulso.ml.leads.train.train_leads`), and scores for the open leads.

The question is the salesperson's: *this lead has not converted yet; will it?* The lead frame observes a lead
that converted up to its conversion and one that did not up to the end of its window, so the moment a lead is
seen depends on its outcome (on the demo half the bookings come within 32 minutes of the first message, a week
before the non-bookers are seen). A model trained on that frame learns "a message minutes old means converted"
(validation ROC AUC 0.97 on the demo) and gives every fresh open lead a probability near 1 (Brier 0.40 on leads
that were still open). So training uses **landmarks**: each finished lead is given one landmark age L, drawn
uniformly from 1 h, 6 h, 1 day, 3 days and the window by a hash of its id (so independently of its outcome, and
the same at every retrain), and enters training if it was still open at ``started_at + L``, with its features
as of then and ``hours_since_start = L``; the outcome stays "became a customer within the horizon of its start".
One row per lead keeps the rows independent, as the split, the calibration folds and the metrics assume (a lead
at every landmark put near-copies of it on both sides of the calibration folds: predicted 60% converted 25% on
the demo). Only leads whose horizon is over are used: among recent leads the converted are labelled and the
others not yet, which would fill the latest (validation) leads with conversions. Open leads are scored with
their features as of ``min(started_at + window, now)`` and their age in hours: the question the model was
trained on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import insert

from pulso.errors import InvalidInputError
from pulso.ml.lead_frame import LeadFrameParams, LeadInputs, fetch_lead_inputs, lead_frame
from pulso.ml.leads import registry, words
from pulso.ml.leads.evaluate import assign_grades
from pulso.ml.leads.reasons import reasons
from pulso.ml.leads.service import SavedTraining, ScoringRun, save_trained
from pulso.ml.leads.train import TrainedLeadModel, train_leads
from pulso.store.models import LeadScore, ModelVersion, Tenant
from pulso.store.session import PulsoSession
from pulso.store.types import utcnow

SOURCE = "activity"
TARGET = "converted"
TIME_COLUMN = "started_at"
AGE_COLUMN = "hours_since_start"
BOOKKEEPING = ("contact_id", "as_of")
LANDMARK_HOURS = (1.0, 6.0, 24.0, 72.0)  # plus the window itself
ROUNDED = ("days_since_last_message", "engagement_decay", AGE_COLUMN)  # reasons read 6.99, not 6.996099537037
MIN_FINISHED_LEADS = 50
MIN_PER_CLASS = 10


@dataclass(frozen=True)
class ActivityParams:
    """``window``: how long after its start a lead's activity counts; ``horizon``: how long it has to convert."""

    window: timedelta = timedelta(days=7)
    horizon: timedelta = timedelta(days=90)

    def __post_init__(self) -> None:
        if not timedelta(hours=1) <= self.window <= self.horizon:
            raise InvalidInputError(
                f"--window-days: from 1 hour up to the horizon ({_days(self.horizon):g} days), "
                f"got {_days(self.window):g}"
            )

    @property
    def landmark_hours(self) -> list[float]:
        window_hours = self.window.total_seconds() / 3600
        return [h for h in LANDMARK_HOURS if h < window_hours] + [window_hours]

    def as_json(self) -> dict[str, Any]:
        return {"window_days": _days(self.window), "horizon_days": _days(self.horizon)}

    @classmethod
    def of(cls, version: ModelVersion) -> ActivityParams:
        """The parameters an activity version was trained with."""
        return cls(timedelta(days=version.params["window_days"]), timedelta(days=version.params["horizon_days"]))


def is_activity(version: ModelVersion) -> bool:
    return bool(version.params.get("source") == SOURCE)


def tenant_timezone(session: PulsoSession) -> str:
    return str(session.get_one(Tenant, session.tenant_id).timezone)


def training_frame(
    session: PulsoSession,
    params: ActivityParams,
    now: datetime,
    inputs: LeadInputs | None = None,
    random_state: int = 0,
) -> pd.DataFrame:
    """One row per finished lead (horizon over) still open at its landmark (see the module docstring); raises
    when too few leads have finished."""
    timezone = tenant_timezone(session)
    inputs = inputs or fetch_lead_inputs(session)
    landmarks = params.landmark_hours
    parts: list[pd.DataFrame] = []
    for n, hours in enumerate(landmarks):
        age = timedelta(hours=hours)
        frame = lead_frame(session, LeadFrameParams(now, timezone, age, params.horizon), inputs)
        finished = frame[frame[TIME_COLUMN] + params.horizon <= now]
        if n == 0:
            check_finished(finished["converted"], now - params.horizon, params.horizon)
        drawn = landmark_of(finished.index.to_numpy(), len(landmarks), random_state) == n
        still_open = finished[drawn & (finished["as_of"] == finished[TIME_COLUMN] + age).to_numpy()]
        parts.append(_with_age(still_open))
    rows = pd.concat(parts).reset_index()
    return rows.sort_values([TIME_COLUMN, "contact_id"], kind="stable").reset_index(drop=True)


def landmark_of(contact_ids: np.ndarray, landmarks: int, random_state: int) -> np.ndarray:
    """Each lead's landmark (0 .. landmarks-1): a hash of its id and the seed (splitmix64), uniform and stable."""
    with np.errstate(over="ignore"):
        x = contact_ids.astype(np.uint64) + np.uint64(random_state + 1) * np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x = x ^ (x >> np.uint64(31))
    return np.asarray(x % np.uint64(landmarks), dtype=int)


def check_finished(converted: pd.Series, cutoff: datetime, horizon: timedelta) -> None:
    positives = int((converted == 1).sum())
    negatives = len(converted) - positives
    if len(converted) >= MIN_FINISHED_LEADS and min(positives, negatives) >= MIN_PER_CLASS:
        return
    raise InvalidInputError(
        f"training data: {len(converted)} leads have a known outcome (started before {cutoff:%Y-%m-%d %H:%M} UTC, "
        f"{_days(horizon):g} days ago: {positives} converted, {negatives} did not); the activity lead score needs "
        f"at least {MIN_FINISHED_LEADS}, with at least {MIN_PER_CLASS} of each. Wait for more leads to finish, or "
        "pass a shorter --horizon-days"
    )


def open_leads_frame(
    session: PulsoSession, params: ActivityParams, now: datetime, inputs: LeadInputs | None = None
) -> pd.DataFrame:
    """The leads still open at ``now``, with features as of ``min(started_at + window, now)``; one row each."""
    frame = lead_frame(session, LeadFrameParams(now, tenant_timezone(session), params.window, params.horizon), inputs)
    return _with_age(frame[frame["converted"].isna()]).reset_index()


def _with_age(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out[AGE_COLUMN] = (out["as_of"] - out[TIME_COLUMN]).dt.total_seconds() / 3600
    for column in ROUNDED:
        out[column] = out[column].astype(float).round(2)
    return out


def train_activity(
    session: PulsoSession,
    *,
    now: datetime | None = None,
    params: ActivityParams | None = None,
    random_state: int = 0,
) -> SavedTraining:
    """Train on the tenant's finished leads (landmark rows), save the version and make it active."""
    now = now or utcnow()
    params = params or ActivityParams()
    frame = training_frame(session, params, now, random_state=random_state)
    return train_on_frame(session, frame, params, now, random_state=random_state)


def train_on_frame(
    session: PulsoSession, frame: pd.DataFrame, params: ActivityParams, now: datetime, *, random_state: int = 0
) -> SavedTraining:
    result = train_leads(frame, TARGET, time_column=TIME_COLUMN, drop=BOOKKEEPING, random_state=random_state)
    saved = {
        "source": SOURCE,
        "target": TARGET,
        "exclude": [],
        "time_column": TIME_COLUMN,
        **params.as_json(),
        "landmark_hours": params.landmark_hours,
        "trained_as_of": now.isoformat(),
        "leads": int(frame["contact_id"].nunique()),
        "random_state": random_state,
    }
    return SavedTraining(result, save_trained(session, result, saved), TIME_COLUMN)


def active_activity_version(session: PulsoSession) -> ModelVersion:
    """The active lead-score version; refuses one trained on imported attributes (it scores contacts instead)."""
    version = registry.active_version(session)
    if not is_activity(version):
        raise InvalidInputError(
            f"model {version.version}: trained on imported attributes (--target {version.params.get('target')}), "
            "not on activity; score it with pulso score leads, or train on activity with pulso train leads"
        )
    return version


def score_open_leads(session: PulsoSession, *, now: datetime | None = None) -> ScoringRun:
    """Score every open lead with the active activity model: one ``lead_scores`` row each."""
    now = now or utcnow()
    version = active_activity_version(session)
    frame = open_leads_frame(session, ActivityParams.of(version), now)
    return ScoringRun(version, *write_scores(session, version, frame, now))


def write_scores(
    session: PulsoSession, version: ModelVersion, frame: pd.DataFrame, now: datetime
) -> tuple[int, dict[str, int]]:
    """Append one ``lead_scores`` row per row of ``frame`` (reasons included); returns rows and grade counts."""
    rows = score_rows(session, version, frame, now)
    if rows:
        session.execute(insert(LeadScore), rows)
    model_grades = version.metrics.get("grades")
    grades = assign_grades(np.array([row["score"] for row in rows]), model_grades) if model_grades else np.array([])
    return len(rows), {g: int(np.sum(grades == g)) for g in ("A", "B", "C")} if rows else {}


def score_rows(
    session: PulsoSession, version: ModelVersion, frame: pd.DataFrame, now: datetime
) -> list[dict[str, Any]]:
    """The ``lead_scores`` rows (score and reasons) of the leads of ``frame``, not yet written."""
    if frame.empty:
        return []
    model: TrainedLeadModel = registry.load_model(version)
    features = model.builder.transform(frame)
    probability = model.scorer.predict_proba(features)[:, 1]
    explained = reasons(model.scorer.contributions(features), frame, model.builder)
    values = {c: frame[c].to_numpy(dtype=object) for c in frame.columns if words.known(str(c))}
    return [
        {
            "tenant_id": session.tenant_id,
            "contact_id": int(contact_id),
            "model_version_id": version.id,
            "score": float(p),
            "reasons": [
                {**r, "text": _worded(r, values, row, direction), "direction": direction}
                for direction in ("raises", "lowers")
                for r in why[direction]
            ],
            "scored_at": now,
        }
        for row, (contact_id, p, why) in enumerate(zip(frame["contact_id"], probability, explained, strict=True))
    ]


def _worded(reason: dict[str, Any], values: dict[str, np.ndarray], row: int, direction: str) -> str:
    """The reason in a salesperson's words (:mod:`pulso.ml.leads.words`) when its column has them."""
    column = reason["column"]
    if column not in values:
        return str(reason["text"])
    return f"{words.phrase(column, values[column][row])} ({direction})"


def _days(span: timedelta) -> float:
    return round(span.total_seconds() / 86400, 4)
