"""``/api/v1/analytics/lead-score``: a lead's latest score with its grade, tier, reasons, model and history, or the
open leads ranked by score, for a read API key. Scores are written by the score updater (``gold.lead_scores``)
and ``pulso score leads``; docs/models.md ("Lead score updater") defines them."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from pulso.api.common import SessionDep, plain
from pulso.ml.leads.scores import LeadScoreRead, RankedLeads, ScoreRead, lead_score, ranked_open_leads
from pulso.store.types import utcnow

router = APIRouter(prefix="/api/v1/analytics", tags=["analytics"])

MAX_LIMIT = 1000
LeadId = Annotated[
    int | None, Query(ge=1, le=2**63 - 1, description="The lead (contact id); without it, the ranked open leads")
]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"Open leads listed (1-{MAX_LIMIT})")]


@router.get(
    "/lead-score",
    summary="Lead score: one lead's latest score, grade, tier, reasons and history, or the open leads ranked",
    description=(
        "With lead_id: the latest score (calibrated probability of becoming a customer within the model's "
        "horizon), its grade (A Alto, B Médio, C Baixo) and quartile tier (1 = top quarter) by the thresholds of "
        "the version that produced it, the reasons that raise and lower it, the model version, and every score "
        "the lead had (oldest first). 404 for an unknown lead or one never scored. Without lead_id: the open "
        "leads (not customers, horizon not over) with a score, highest latest score first, at most `limit`, and "
        "`total`. Definitions: docs/models.md, 'Lead score updater'."
    ),
)
def lead_score_endpoint(session: SessionDep, lead_id: LeadId = None, limit: Limit = 50) -> JSONResponse:
    now = utcnow()
    if lead_id is not None:
        return JSONResponse(plain(_lead(lead_score(session, lead_id, now))))
    return JSONResponse(plain(_ranked(ranked_open_leads(session, now, limit), limit, now)))


def _latest(score: ScoreRead) -> dict[str, Any]:
    return {k: v for k, v in asdict(score).items() if k != "version"}


def _lead(read: LeadScoreRead) -> dict[str, Any]:
    return {
        "lead_id": read.lead_id,
        "name": read.name,
        "open": read.open,
        **_latest(read.latest),
        "reasons": read.reasons,
        "model": asdict(read.model) if read.model else None,
        "history": [{"score": s.score, "scored_at": s.scored_at, "version": s.version} for s in read.history],
    }


def _ranked(ranked: RankedLeads, limit: int, now: Any) -> dict[str, Any]:
    return {
        "as_of": now,
        "horizon_days": ranked.horizon_days,
        "total": ranked.total,
        "limit": limit,
        "leads": [
            {"lead_id": lead.lead_id, "name": lead.name, **asdict(lead.latest), "reasons": lead.reasons}
            for lead in ranked.leads
        ],
    }
