"""The ranked at-risk list: the latest scoring run's customers, riskiest first, and one customer's score history.

One data function feeds the API and the CLI. The ranking (``sort``):

- ``risk`` (default): the calibrated churn risk, highest first;
- ``value_at_risk``: churn risk x the customer's purchases to date, highest first: the money behind the
  customers most likely to go, so a valuable customer at 60% ranks above a one-off buyer at 90%;
- ``p_alive``: BG/NBD's P(alive), lowest first (customers the purchase model already thinks gone; missing last).

Ties are broken by contact id, so pages are stable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from pulso.errors import InvalidInputError, NotFoundError
from pulso.metrics.columns import Query
from pulso.store.models import ChurnScore, Contact, ModelVersion
from pulso.store.session import PulsoSession

SORTS = ("risk", "value_at_risk", "p_alive")
MAX_LIMIT = 1000
MAX_OFFSET = 10**9
HISTORY_LIMIT = 100
DEFINITIONS = {
    "churn_risk": "Calibrated probability that the customer makes no purchase in the model's horizon (days).",
    "p_alive": "BG/NBD probability that the customer is still active (repeat purchases per distinct day).",
    "value_at_risk": "churn_risk x total_value.",
    "total_value": "Sum of the customer's purchases before the scoring run.",
    "last_purchase_at": "The customer's last purchase before the scoring run (UTC).",
    "reasons": "The features that raised or lowered this customer's risk most, strongest first.",
}
VALUE_AT_RISK = ChurnScore.churn_risk * func.coalesce(ChurnScore.total_value, 0.0)
ORDER: dict[str, tuple[Any, ...]] = {
    "risk": (ChurnScore.churn_risk.desc(), ChurnScore.contact_id),
    "value_at_risk": (VALUE_AT_RISK.desc(), ChurnScore.contact_id),
    "p_alive": (ChurnScore.p_alive.asc().nulls_last(), ChurnScore.contact_id),
}


@dataclass(frozen=True)
class AtRiskParams:
    limit: int = 50
    offset: int = 0
    min_risk: float = 0.0
    sort: str = "risk"
    contact_id: int | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= MAX_LIMIT:
            raise InvalidInputError(f"limit: between 1 and {MAX_LIMIT}, got {self.limit}")
        if not 0 <= self.offset <= MAX_OFFSET:
            raise InvalidInputError(f"offset: between 0 and {MAX_OFFSET}, got {self.offset}")
        if not 0.0 <= self.min_risk <= 1.0:
            raise InvalidInputError(f"min_risk: a probability between 0 and 1, got {self.min_risk}")
        if self.sort not in SORTS:
            raise InvalidInputError(f"sort: must be one of {', '.join(SORTS)}, got {self.sort!r}")
        if self.contact_id is not None and not 1 <= self.contact_id < 2**63:
            raise InvalidInputError(f"contact_id: a positive contact id, got {self.contact_id}")


@dataclass(frozen=True)
class AtRiskCustomer:
    contact_id: int
    name: str | None
    churn_risk: float
    p_alive: float | None
    value_at_risk: float
    total_value: float | None
    last_purchase_at: datetime | None
    reasons: list[dict[str, Any]]
    model_version: str | None
    scored_at: datetime


@dataclass(frozen=True)
class AtRiskPage:
    scored_at: datetime
    total: int  # customers in the run with churn_risk >= min_risk
    params: AtRiskParams
    rows: list[AtRiskCustomer]
    history: list[dict[str, Any]] = field(default_factory=list)  # one customer's earlier runs, newest first
    definitions: dict[str, str] = field(default_factory=lambda: dict(DEFINITIONS))


def _rows(session: PulsoSession, query: Query) -> list[AtRiskCustomer]:
    return [
        AtRiskCustomer(
            contact_id=score.contact_id,
            name=name or None,
            churn_risk=score.churn_risk,
            p_alive=score.p_alive,
            value_at_risk=score.churn_risk * (score.total_value or 0.0),
            total_value=score.total_value,
            last_purchase_at=score.last_purchase_at,
            reasons=list(score.reasons or []),
            model_version=version,
            scored_at=score.scored_at,
        )
        for score, version, name in session.execute(query).all()
    ]


def _scores() -> Query:
    return (
        select(ChurnScore, ModelVersion.version, Contact.name)
        .outerjoin(ModelVersion, ModelVersion.id == ChurnScore.model_version_id)
        .outerjoin(Contact, Contact.id == ChurnScore.contact_id)
    )


def at_risk(session: PulsoSession, params: AtRiskParams) -> AtRiskPage:
    """The latest run's customers at or above ``min_risk``, ranked by ``sort``, one page; or, with
    ``contact_id``, that customer's latest score and its history."""
    if params.contact_id is not None:
        return _one(session, params)
    latest = session.scalar(select(func.max(ChurnScore.scored_at)))
    if latest is None:
        raise NotFoundError("churn scores: none yet; run `pulso score churn --tenant SLUG` or the gold.churn_risk job")
    where = (ChurnScore.scored_at == latest, ChurnScore.churn_risk >= params.min_risk)
    total = session.scalar(select(func.count()).select_from(ChurnScore).where(*where)) or 0
    query = _scores().where(*where).order_by(*ORDER[params.sort]).limit(params.limit).offset(params.offset)
    return AtRiskPage(latest, total, params, _rows(session, query))


def _one(session: PulsoSession, params: AtRiskParams) -> AtRiskPage:
    query = _scores().where(ChurnScore.contact_id == params.contact_id)
    found = _rows(session, query.order_by(ChurnScore.scored_at.desc(), ChurnScore.id.desc()).limit(HISTORY_LIMIT))
    if not found:
        raise NotFoundError(
            f"contact_id: {params.contact_id} has no churn score (not a customer with a purchase, or not scored yet)"
        )
    history = [
        {"scored_at": r.scored_at, "churn_risk": r.churn_risk, "p_alive": r.p_alive, "model_version": r.model_version}
        for r in found
    ]
    return AtRiskPage(found[0].scored_at, 1, params, found[:1], history)
