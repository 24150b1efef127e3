"""Reading stored lead scores: one lead's latest score with its history, and the open leads ranked by score.

Grades and quartile tiers are not stored: they are read off the thresholds saved with the version that produced
each score (``metrics.grades`` and ``metrics.quartile_cuts``), so a score keeps the grade its model meant. A lead
is open while it is not a customer, not merged into another contact, and its horizon (the active activity
version's, else 90 days) has not passed since it started (``became_lead_at``, else its first conversation) — the
same rule as :mod:`pulso.ml.lead_frame`; imported contacts with neither date count as open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, func, or_, select

from pulso.errors import NotFoundError
from pulso.ml.leads.evaluate import GRADE_NAMES, assign_grades, assign_tiers
from pulso.ml.leads.registry import LEAD_KIND
from pulso.store.models import Contact, Conversation, LeadScore, ModelVersion
from pulso.store.session import PulsoSession

DEFAULT_HORIZON = timedelta(days=90)


@dataclass(frozen=True)
class ModelRead:
    version: str
    source: str  # activity | imported
    chosen: str
    roc_auc: float | None
    trained_at: datetime


@dataclass(frozen=True)
class ScoreRead:
    score: float
    grade: str | None
    grade_name: str | None
    tier: int | None
    scored_at: datetime
    version: str | None


@dataclass(frozen=True)
class LeadScoreRead:
    lead_id: int
    name: str
    open: bool
    latest: ScoreRead
    reasons: dict[str, list[dict[str, Any]]]
    model: ModelRead | None
    history: list[ScoreRead]  # oldest first, the latest included


@dataclass(frozen=True)
class RankedLead:
    lead_id: int
    name: str
    latest: ScoreRead
    reasons: dict[str, list[dict[str, Any]]]


@dataclass(frozen=True)
class RankedLeads:
    total: int
    horizon_days: float
    leads: list[RankedLead]


def lead_score(session: PulsoSession, lead_id: int, now: datetime) -> LeadScoreRead:
    """The lead's latest score, grade, tier, reasons and model, and every score it had; 404 when none."""
    contact = session.scalar(select(Contact).where(Contact.id == lead_id))
    if contact is None:
        raise NotFoundError(f"lead_id: no lead {lead_id} in this tenant")
    rows = session.execute(
        select(LeadScore, ModelVersion)
        .outerjoin(ModelVersion, ModelVersion.id == LeadScore.model_version_id)
        .where(LeadScore.contact_id == lead_id)
        .order_by(LeadScore.id)
    ).all()
    if not rows:
        raise NotFoundError(
            f"lead_id: lead {lead_id} has no score yet (open leads are scored by the gold.lead_scores job or "
            "pulso score leads once a lead score is trained)"
        )
    history = [_score(row, version) for row, version in rows]
    last, version = rows[-1]
    still_open = session.scalar(
        select(func.count()).select_from(Contact).where(Contact.id == lead_id, _is_open(session, now))
    )
    return LeadScoreRead(
        lead_id, contact.name, bool(still_open), history[-1], split_reasons(last.reasons), _model(version), history
    )


def ranked_open_leads(session: PulsoSession, now: datetime, limit: int) -> RankedLeads:
    """The open leads with a score, highest latest score first (ties by id), and how many there are."""
    latest = select(func.max(LeadScore.id).label("id")).group_by(LeadScore.contact_id).subquery()
    scored_open = (
        select(LeadScore, ModelVersion, Contact.name)
        .join(latest, latest.c.id == LeadScore.id)
        .join(Contact, Contact.id == LeadScore.contact_id)
        .outerjoin(ModelVersion, ModelVersion.id == LeadScore.model_version_id)
        .where(_is_open(session, now))
    )
    total = session.scalar(select(func.count()).select_from(scored_open.subquery())) or 0
    rows = session.execute(scored_open.order_by(LeadScore.score.desc(), LeadScore.contact_id).limit(limit)).all()
    leads = [
        RankedLead(row.contact_id, name, _score(row, version), split_reasons(row.reasons))
        for row, version, name in rows
    ]
    return RankedLeads(int(total), horizon(session).total_seconds() / 86400, leads)


def horizon(session: PulsoSession) -> timedelta:
    """The active activity version's horizon; 90 days without one."""
    version = session.scalar(select(ModelVersion).where(ModelVersion.kind == LEAD_KIND, ModelVersion.is_active))
    if version is None or version.params.get("source") != "activity":
        return DEFAULT_HORIZON
    return timedelta(days=float(version.params["horizon_days"]))


def _is_open(session: PulsoSession, now: datetime) -> ColumnElement[bool]:
    first_conversation = (
        select(func.min(Conversation.created_at)).where(Conversation.contact_id == Contact.id).scalar_subquery()
    )
    started = func.coalesce(Contact.became_lead_at, first_conversation)
    return (
        Contact.merged_into_id.is_(None)
        & Contact.became_customer_at.is_(None)
        & or_(started.is_(None), started > now - horizon(session))
    )


def split_reasons(stored: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Stored reasons (one list with ``direction``) as ``{raises: [...], lowers: [...]}``, strongest first."""
    out: dict[str, list[dict[str, Any]]] = {"raises": [], "lowers": []}
    for reason in stored or []:
        out.setdefault(reason.get("direction", ""), []).append(
            {"column": reason.get("column"), "text": reason.get("text"), "log_odds": reason.get("log_odds")}
        )
    return {key: out[key] for key in ("raises", "lowers")}


def _score(row: LeadScore, version: ModelVersion | None) -> ScoreRead:
    grade, tier = grade_and_tier(row.score, version)
    return ScoreRead(
        row.score, grade, GRADE_NAMES.get(grade or ""), tier, row.scored_at, version.version if version else None
    )


def grade_and_tier(score: float, version: ModelVersion | None) -> tuple[str | None, int | None]:
    """The grade (A/B/C) and quartile tier (1 best .. 4) of ``score`` by the thresholds of the version behind it."""
    metrics = version.metrics if version is not None else {}
    grades, cuts = metrics.get("grades"), metrics.get("quartile_cuts")
    grade = str(assign_grades(np.array([score]), grades)[0]) if grades else None
    tier = int(assign_tiers(np.array([score]), cuts)[0]) if cuts else None
    return grade, tier


def _model(version: ModelVersion | None) -> ModelRead | None:
    if version is None:
        return None
    source = "activity" if version.params.get("source") == "activity" else "imported"
    auc = version.metrics.get("roc_auc")
    return ModelRead(version.version, source, str(version.params.get("chosen", "")), auc, version.created_at)
