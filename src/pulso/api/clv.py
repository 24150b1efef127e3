"""``/api/v1/analytics/clv``: customer lifetime value from the latest run of the daily job ``gold.customer_value``,
per customer (paged, highest first, or one contact) or summed per first-touch channel, campaign or RFM segment, as
JSON or CSV for a read API key. The numbers come from :mod:`pulso.ml.clv.values` (docs/models.md, "CLV for a
tenant")."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response

from pulso.api.common import Format, ScopeDep, SessionDep, choice, csv_response, plain
from pulso.api.errors import InvalidInputError
from pulso.ml.clv.values import BREAKDOWNS, DEFINITIONS, GROUP_FIELDS, CLVRun, clv_by, clv_customers

router = APIRouter(prefix="/api/v1/analytics", tags=["clv"])
FORMATS = ("json", "csv")
CUSTOMER_FIELDS = (
    "contact_id", "name", "first_touch_channel", "first_touch_campaign", "clv", "p_alive", "expected_purchases",
)  # fmt: skip
NOT_YET = "no lifetime value computed yet: the daily job gold.customer_value needs enough repeat buyers"


@router.get(
    "/clv",
    summary="Customer lifetime value per customer (paged, highest first) or per first-touch channel, campaign or "
    "RFM segment",
    description=(
        "From the latest run of the daily job gold.customer_value: BG/NBD expected purchases and P(alive), "
        "Gamma-Gamma expected order value, CLV discounted monthly over the horizon (docs/models.md, 'CLV for a "
        "tenant'). Without `by`: customers by CLV, highest first, paged with `limit` and `offset` (`total` counts "
        "them all), or the one customer `contact_id`. With `by`: customers, total and mean CLV, mean P(alive) and "
        "expected purchases per group, largest total first, and the total over every customer."
    ),
)
def clv_endpoint(
    scope: ScopeDep,
    session: SessionDep,
    by: Annotated[str | None, Query(description="channel, campaign or segment (RFM); none: per customer")] = None,
    contact_id: Annotated[int | None, Query(ge=1, le=2**63 - 1, description="Only this customer")] = None,
    limit: Annotated[int, Query(description="customers per page, 1..1000")] = 100,
    offset: Annotated[int, Query(description="customers skipped")] = 0,
    output: Format = "json",
) -> Response:
    choice("format", output, FORMATS)
    if by is not None:
        if contact_id is not None:
            raise InvalidInputError("contact_id: not with by (a breakdown sums every customer)")
        breakdown = clv_by(session, choice("by", by, BREAKDOWNS), scope.timezone)  # type: ignore[arg-type]
        rows = [asdict(row) for row in [*breakdown.rows, breakdown.total]]
        if output == "csv":
            return csv_response([by, *GROUP_FIELDS[1:]], [[row[name] for name in GROUP_FIELDS] for row in rows], "clv")
        return _answer(breakdown.run, by=by, rows=rows[:-1], total=rows[-1])
    if not 1 <= limit <= 1000:
        raise InvalidInputError(f"limit: must be between 1 and 1000, got {limit}")
    if not 0 <= offset <= 10**9:
        raise InvalidInputError(f"offset: must be between 0 and {10**9}, got {offset}")
    page = clv_customers(session, limit=limit, offset=offset, contact_id=contact_id)
    customers = [asdict(c) for c in page.customers]
    if output == "csv":
        return csv_response(list(CUSTOMER_FIELDS), [[c[name] for name in CUSTOMER_FIELDS] for c in customers], "clv")
    return _answer(page.run, total=page.total, limit=limit, offset=offset, customers=customers)


def _answer(run: CLVRun | None, **fields: Any) -> JSONResponse:
    head: dict[str, Any] = {"run": _run(run)}
    if run is None:
        head["note"] = NOT_YET
    return JSONResponse(plain({**head, **fields, "definitions": DEFINITIONS}))


def _run(run: CLVRun | None) -> dict[str, Any] | None:
    if run is None:
        return None
    model = {
        "kind": "clv",
        "version": run.model_version,
        "params": run.model_params,
        "metrics": run.model_metrics,
        "training_start": run.training_start,
        "training_end": run.training_end,
    }
    return {"computed_at": run.computed_at, "horizon_days": run.horizon_days, "model": model}
