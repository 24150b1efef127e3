"""``/api/v1/analytics/churn-risk``: the ranked at-risk customers of the latest churn scoring run, or one
customer's churn score with its history, for a read API key.

The endpoint parses and calls :func:`pulso.ml.churn.at_risk.at_risk`; the ranking rules and definitions are
there (and in docs/models.md, "Churn risk"). No scoring run yet, or a contact without a score, is a 404 that
says so; a bad parameter is a 400 naming it.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from pulso.api.common import SessionDep, plain
from pulso.ml.churn.at_risk import MAX_LIMIT, SORTS, AtRiskParams, at_risk

router = APIRouter(prefix="/api/v1/analytics", tags=["churn"])


@router.get(
    "/churn-risk",
    summary="Customers ranked by churn risk, with P(alive), reasons, last purchase and model version",
    description=(
        "The latest scoring run (job gold.churn_risk, daily, or `pulso score churn`). churn_risk = calibrated "
        "probability of no purchase in the model's horizon; p_alive = BG/NBD probability that the customer is "
        "still active; value_at_risk = churn_risk x total_value. sort: risk (highest first), value_at_risk "
        "(highest first) or p_alive (lowest first). `total` counts the customers at or above min_risk. With "
        "contact_id: that customer's latest score and its history. See the `definitions` object of the answer."
    ),
)
def churn_risk_endpoint(
    session: SessionDep,
    limit: Annotated[int, Query(description=f"customers per page, 1..{MAX_LIMIT}")] = 50,
    offset: Annotated[int, Query(description="customers skipped")] = 0,
    min_risk: Annotated[float, Query(description="only customers with churn_risk >= this (0..1)")] = 0.0,
    sort: Annotated[str, Query(description=" or ".join(SORTS))] = "risk",
    contact_id: Annotated[int | None, Query(description="one customer: latest score and history")] = None,
) -> JSONResponse:
    params = AtRiskParams(limit=limit, offset=offset, min_risk=min_risk, sort=sort, contact_id=contact_id)
    page = at_risk(session, params)
    customers = [asdict(row) for row in page.rows]
    if contact_id is not None:
        return JSONResponse(plain({"customer": customers[0], "history": page.history, "definitions": page.definitions}))
    return JSONResponse(
        plain(
            {
                "scored_at": page.scored_at,
                "total": page.total,
                "limit": params.limit,
                "offset": params.offset,
                "min_risk": params.min_risk,
                "sort": params.sort,
                "customers": customers,
                "definitions": page.definitions,
            }
        )
    )
