"""``/api/v1/analytics``: revenue, return on spend per channel or campaign, acquisition cohorts and conversion per
segment, as JSON or CSV for a read API key.

Endpoints parse and call the query objects of :mod:`pulso.metrics.revenue` and :mod:`pulso.metrics.acquisition`;
every answer carries the resolved range and the definitions used (docs/metrics.md, "Revenue and acquisition").
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from pulso.api.common import (
    End,
    FiltersDep,
    Format,
    ScopeDep,
    SessionDep,
    Start,
    answer,
    choice,
    csv_response,
    date_range,
)
from pulso.api.errors import InvalidInputError
from pulso.metrics.acquisition import (
    COHORT_BREAKDOWNS,
    SEGMENTS,
    CohortParams,
    ConversionParams,
    acquisition_cohorts,
    conversion_rate,
)
from pulso.metrics.attribution import BREAKDOWNS, PERIODS
from pulso.metrics.revenue import ROI_FIELDS, RevenueParams, RoiParams, revenue, roi_by_channel

router = APIRouter(prefix="/api/v1/analytics", tags=["revenue"])
FORMATS = ("json", "csv")


@router.get(
    "/roi-by-channel",
    summary="Spend, leads, customers, revenue, ROI, ROAS, CPA, CAC, LTV, LTV:CAC and payback per first touch",
    description=(
        "Per first-touch channel or campaign over the range: ROI = (revenue - spend) / spend, ROAS = revenue / "
        "spend, CPA = spend / conversions, CAC = spend / new customers, LTV = revenue to date per customer acquired "
        "in the range, payback = months until revenue per acquired customer reaches the CAC. Spend reaches "
        "contacts through the campaign name; unmatched spend and unattributed revenue are listed apart and counted "
        "in the total. Division by zero gives null. Full definitions: the `definitions` object of the answer."
    ),
)
def roi_endpoint(
    scope: ScopeDep,
    session: SessionDep,
    filters: FiltersDep,
    start: Start = None,
    end: End = None,
    breakdown: Annotated[str, Query(description="channel or campaign (the contact's first touch)")] = "channel",
    output: Format = "json",
) -> Response:
    choice("format", output, FORMATS)
    chosen = choice("breakdown", breakdown, BREAKDOWNS)
    params = RoiParams(date_range(scope, start, end), scope.timezone, chosen, filters)  # type: ignore[arg-type]
    result = roi_by_channel(session, params)
    if output == "csv":
        rows = [[row.described()[name] for name in ROI_FIELDS] for row in [*result.rows, result.total]]
        for row in rows[-1:]:
            row[0] = "(total)"
        unmatched = [
            [f"(unmatched spend: {c.channel} / {c.campaign})", float(c.cost)] + [None] * (len(ROI_FIELDS) - 2)
            for c in result.unmatched_spend
        ]
        return csv_response([breakdown, *ROI_FIELDS[1:]], rows + unmatched, "roi")
    return answer(
        result,
        breakdown=params.breakdown,
        as_of=result.as_of,
        rows=[row.described() for row in result.rows],
        total=result.total.described(),
        unmatched_spend=[{**asdict(c), "cost": float(c.cost)} for c in result.unmatched_spend],
        unattributed_revenue=result.unattributed_revenue,
        filters=filters.active,
        definitions=result.definitions,
    )


@router.get(
    "/acquisition-cohorts",
    summary="Each acquisition cohort's cumulative revenue per customer, period by period, beside its CAC",
    description=(
        "Cohort = customers acquired (became_customer_at) in one local month or ISO week of the range, per "
        "first-touch channel or campaign; period n = orders placed n whole months or weeks after each customer's "
        "acquisition; CAC = the cohort period's spend / its customers. See the `definitions` object of the answer."
    ),
)
def cohorts_endpoint(
    scope: ScopeDep,
    session: SessionDep,
    filters: FiltersDep,
    start: Start = None,
    end: End = None,
    period: Annotated[str, Query(description="month or week")] = "month",
    breakdown: Annotated[str, Query(description="none, channel or campaign")] = "none",
    output: Format = "json",
) -> Response:
    choice("format", output, FORMATS)
    chosen_period = choice("period", period, PERIODS)
    chosen = choice("breakdown", breakdown, COHORT_BREAKDOWNS)
    params = CohortParams(
        date_range(scope, start, end),
        scope.timezone,
        chosen_period,  # type: ignore[arg-type]
        chosen,  # type: ignore[arg-type]
        filters,
    )
    result = acquisition_cohorts(session, params)
    if output == "csv":
        header = ["cohort", breakdown, "customers", "spend", "cac", "payback_periods", "period", "revenue"]
        header += ["cumulative_revenue_per_customer", "complete"]
        rows = [
            [
                *(c.start, c.key, c.customers, c.spend, c.cac, c.payback_periods),
                *(p.period, p.revenue, p.cumulative_revenue_per_customer, p.complete),
            ]
            for c in result.cohorts
            for p in c.points
        ]
        return csv_response(header, rows, "acquisition-cohorts")

    def described(cohort: Any) -> dict[str, Any]:
        return {**asdict(cohort), "cac": cohort.cac, "payback_periods": cohort.payback_periods}

    return answer(
        result,
        period=params.period,
        breakdown=params.breakdown,
        as_of=result.as_of,
        cohorts=[described(c) for c in result.cohorts],
        unmatched_spend=result.unmatched_spend,
        filters=filters.active,
        definitions=result.definitions,
    )


@router.get(
    "/conversion-rate",
    summary="Lead -> customer conversion per segment: leads, converted, rate",
    description=(
        "Leads = contacts whose became_lead_at is in the range; converted = those with became_customer_at set; "
        "rate = converted / leads (null without leads). Segments: "
        + ", ".join(SEGMENTS)
        + " or attribute:<key> (a key of the contact's attributes)."
    ),
)
def conversion_endpoint(
    scope: ScopeDep,
    session: SessionDep,
    filters: FiltersDep,
    start: Start = None,
    end: End = None,
    segment: Annotated[str, Query(description=f"{', '.join(SEGMENTS)} or attribute:<key>")] = "first_touch_channel",
    output: Format = "json",
) -> Response:
    choice("format", output, FORMATS)
    try:
        params = ConversionParams(date_range(scope, start, end), scope.timezone, segment, filters)
    except ValueError as exc:
        raise InvalidInputError(str(exc)) from None
    result = conversion_rate(session, params)
    rows = [{"key": r.key, "leads": r.leads, "converted": r.converted, "rate": r.rate} for r in result.rows]
    if output == "csv":
        table = [[row["key"], row["leads"], row["converted"], row["rate"]] for row in rows]
        table.append(["(total)", result.total.leads, result.total.converted, result.total.rate])
        return csv_response([segment, "leads", "converted", "rate"], table, "conversion-rate")
    total = {"leads": result.total.leads, "converted": result.total.converted, "rate": result.total.rate}
    return answer(
        result, segment=segment, total=total, rows=rows, filters=filters.active, definitions=result.definitions
    )


@router.get(
    "/revenue",
    summary="Revenue, orders, paying customers and average order value, with the revenue of every local day",
    description=(
        "Revenue = completed orders (REVENUE_STATUSES) placed in the range, by local day of the tenant's time zone; "
        "average order value = revenue / orders. Contact filters keep the orders of contacts passing them. See "
        "the `definitions` object of the answer."
    ),
)
def revenue_endpoint(
    scope: ScopeDep,
    session: SessionDep,
    filters: FiltersDep,
    start: Start = None,
    end: End = None,
    output: Format = "json",
) -> Response:
    choice("format", output, FORMATS)
    result = revenue(session, RevenueParams(date_range(scope, start, end), scope.timezone, filters))
    if output == "csv":
        days = [[d.day, d.revenue, d.orders] for d in result.days]
        return csv_response(["day", "revenue", "orders"], days, "revenue")
    return answer(
        result,
        revenue=result.revenue,
        orders=result.orders,
        paying_customers=result.paying_customers,
        average_order_value=result.average_order_value,
        unattributed_revenue=result.unattributed_revenue,
        days=[asdict(d) for d in result.days],
        filters=filters.active,
        definitions=result.definitions,
    )
