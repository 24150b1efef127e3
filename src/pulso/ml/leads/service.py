"""Lead scoring for one tenant: read its contacts, train and register a model, score and store the scores.

The generic path reads each contact's profile columns and its imported ``attributes`` (one column per key) into
a frame; the target and the excluded columns are named as in the imported file (``Lead Source``) or as stored
(``lead_source``). The time that orders the leads is ``first_seen_at`` when most contacts have it, otherwise
``created_at`` (which, for an import of a static file, spans seconds: the split then says it fell back).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import numpy as np
import pandas as pd
from sqlalchemy import Table, select

from pulso.collect.imports.fields import normalise
from pulso.errors import InvalidInputError
from pulso.ml.leads import registry
from pulso.ml.leads.evaluate import assign_grades
from pulso.ml.leads.model import LeadScorer
from pulso.ml.leads.reasons import Reasons
from pulso.ml.leads.train import TrainedLeadModel, TrainingResult, train_leads
from pulso.store import bulk
from pulso.store.models import Contact, LeadScore, ModelVersion
from pulso.store.session import PulsoSession
from pulso.store.types import utcnow

PROFILE_COLUMNS = (
    "city",
    "state",
    "first_touch_channel",
    "first_touch_source",
    "first_touch_medium",
    "first_touch_campaign",
)
BOOKKEEPING = ("contact_id", "created_at", "first_seen_at")


def contacts_frame(session: PulsoSession) -> pd.DataFrame:
    """One row per contact: id, times, profile columns, then one column per attribute key."""
    columns = [Contact.id, Contact.created_at, Contact.first_seen_at, Contact.attributes]
    columns += [getattr(Contact, name) for name in PROFILE_COLUMNS]
    rows = session.execute(select(*columns).order_by(Contact.id)).all()
    base = pd.DataFrame(
        [(r[0], r[1], r[2], *r[4:]) for r in rows], columns=[*BOOKKEEPING, *PROFILE_COLUMNS], dtype=object
    )
    base = base.drop(columns=[c for c in PROFILE_COLUMNS if base[c].isna().all()])  # not collected: no column
    attributes = pd.DataFrame([r[3] or {} for r in rows], dtype=object)
    attributes = attributes[[c for c in attributes.columns if c not in base.columns]]
    return pd.concat([base, attributes.set_index(base.index)], axis=1)


def resolve(frame: pd.DataFrame, name: str, option: str) -> str:
    """A column of ``frame`` named as given or as the import stored it (``Lead Source`` -> ``lead_source``)."""
    if name in frame.columns:
        return name
    if normalise(name) in frame.columns:
        return normalise(name)
    listing = ", ".join(str(c) for c in frame.columns if c not in BOOKKEEPING)
    raise InvalidInputError(f"{option}: no column {name!r}; the tenant's contacts have {listing}")


def default_time_column(frame: pd.DataFrame) -> str:
    return "first_seen_at" if frame["first_seen_at"].notna().mean() >= 0.5 else "created_at"


@dataclass(frozen=True)
class SavedTraining:
    result: TrainingResult
    version: ModelVersion
    time_column: str


def train_tenant(
    session: PulsoSession,
    target: str,
    *,
    exclude: Sequence[str] = (),
    time_column: str | None = None,
    random_state: int = 0,
) -> SavedTraining:
    """Train on the tenant's contacts, save the version and make it active."""
    frame = contacts_frame(session)
    if frame.empty:
        raise InvalidInputError("contacts: the tenant has none; import some first (pulso import contacts)")
    target = resolve(frame, target, "--target")
    excluded = [resolve(frame, name, "--exclude") for name in exclude]
    chosen_time = resolve(frame, time_column, "--time-column") if time_column else default_time_column(frame)
    drop = [c for c in BOOKKEEPING if c != chosen_time]
    result = train_leads(frame, target, exclude=excluded, time_column=chosen_time, drop=drop, random_state=random_state)
    params = {"target": target, "exclude": excluded, "time_column": chosen_time, "random_state": random_state}
    return SavedTraining(result, save_trained(session, result, params), chosen_time)


def scorer_params(scorer: LeadScorer) -> dict[str, Any]:
    """What the registry records of a fitted scorer: the candidate chosen, its calibration and its settings."""
    return {"chosen": scorer.chosen_, "calibration": scorer.calibration_, "scorer": scorer.get_params()}


def save_trained(session: PulsoSession, result: TrainingResult, params: dict[str, Any]) -> ModelVersion:
    """Save a trained lead model as the active lead-score version: ``params`` plus :func:`scorer_params`, its
    features, validation metrics, training window and data hash."""
    trained = result.model
    return registry.save_version(
        session,
        trained,
        params={**params, **scorer_params(trained.scorer)},
        features=list(trained.builder.feature_names_),
        metrics=result.metrics,
        training_start=as_datetime(result.split.training_start),
        training_end=as_datetime(result.split.training_end),
        data_hash=result.data_hash,
    )


def as_datetime(stamp: Any) -> datetime | None:
    """A timestamp (pandas, numpy or Python) as a Python datetime; None for a missing one."""
    return None if stamp is None or pd.isna(stamp) else pd.Timestamp(stamp).to_pydatetime()


@dataclass(frozen=True)
class ScoringRun:
    version: ModelVersion
    scored: int
    grades: dict[str, int]


def score_tenant(session: PulsoSession, *, open_only: bool = False) -> ScoringRun:
    """Score the tenant's contacts with the active model; appends one ``lead_scores`` row per contact."""
    version = registry.active_version(session)
    model: TrainedLeadModel = registry.load_model(version)
    frame = contacts_frame(session)
    if open_only and model.target in frame.columns:
        frame = frame[frame[model.target].isna() | (frame[model.target].astype(str).str.strip() == "")]
    for column in (plan.name for plan in model.builder.columns_):
        if column not in frame.columns:
            frame[column] = None  # a column no contact has any more: every row is "missing"
    if frame.empty:
        return ScoringRun(version, 0, {})
    probability, why = model.score_with_reasons(frame)
    grades = assign_grades(probability, model.grades)
    rows = lead_score_rows(session.tenant_id, version.id, frame["contact_id"].tolist(), probability, why, utcnow())
    write_lead_scores(session, rows)
    counts = {g: int(np.sum(grades == g)) for g in ("A", "B", "C")}
    return ScoringRun(version, len(frame), counts)


def lead_score_rows(
    tenant_id: int,
    version_id: int,
    contact_ids: Sequence[Any],
    probability: np.ndarray,
    why: Reasons,
    scored_at: datetime,
) -> list[dict[str, Any]]:
    """One ``lead_scores`` row per lead (as dicts for :func:`write_lead_scores`)."""
    with _collector_paused():
        return _rows(tenant_id, version_id, contact_ids, probability, why, scored_at)


def _rows(
    tenant_id: int,
    version_id: int,
    contact_ids: Sequence[Any],
    probability: np.ndarray,
    why: Reasons,
    scored_at: datetime,
) -> list[dict[str, Any]]:
    return [
        {
            "tenant_id": tenant_id,
            "contact_id": int(contact_id),
            "model_version_id": version_id,
            "score": p,
            "reasons": stored,
            "scored_at": scored_at,
        }
        for contact_id, p, stored in zip(contact_ids, probability.tolist(), why.stored(), strict=True)
    ]


def write_lead_scores(session: PulsoSession, rows: list[dict[str, Any]]) -> None:
    """Append the rows in a few statements (PostgreSQL: COPY into a staging table; SQLite: one executemany)."""
    with _collector_paused():
        bulk.append(session, cast(Table, LeadScore.__table__), rows)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while millions of small dicts are built (they hold no cycles): the collector
    would otherwise walk every one of them again and again, a third of the time at a million leads."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
