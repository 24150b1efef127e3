"""``/api/v1/analytics/*`` for cohorts and segments: retention, RFM, seasonal index, procedure trends, active users
and the playbook matrix, as JSON or CSV, for a read API key.

Endpoints parse, authorize and call the metric query objects; definitions travel in each answer's ``definitions``
and in docs/metrics.md ("Cohorts and segments"). Ranges are whole local days of the tenant's time zone.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response

from pulso.api.common import (
    End,
    FiltersDep,
    Format,
    Scope,
    ScopeDep,
    SessionDep,
    Start,
    answer,
    choice,
    csv_response,
    date_range,
    plain,
)
from pulso.api.errors import InvalidInputError
from pulso.metrics.active_users import ActiveUsersParams, active_users
from pulso.metrics.activity import Action
from pulso.metrics.calendar import PERIODS
from pulso.metrics.cohorts import MAX_PERIOD, RETENTION_TYPES, RetentionParams, retention
from pulso.metrics.overview import today_in
from pulso.metrics.playbook import PlaybookParams, playbook
from pulso.metrics.rfm import SEGMENTS, RfmParams, rfm, rfm_customers
from pulso.metrics.trends import (
    BASELINES,
    MEASURES,
    TREND_PERIODS,
    SeasonalParams,
    TrendsParams,
    product_trends,
    seasonal_index,
)

router = APIRouter(prefix="/api/v1/analytics", tags=["cohorts and segments"])
SEE_DEFINITIONS = " Definitions: the `definitions` of the answer and docs/metrics.md, Cohorts and segments."

AsOf = Annotated[str | None, Query(description="The local day the numbers are taken at, YYYY-MM-DD (default: today)")]
Kinds = Annotated[list[str] | None, Query(alias="kind", description="Only orders of these kinds (repeatable)")]
Measure = Annotated[str, Query(description="orders or revenue")]


def _formats(output: str) -> None:
    choice("format", output, ("json", "csv"))


def _between(name: str, value: int, low: int, high: int) -> int:
    if not low <= value <= high:
        raise InvalidInputError(f"{name}: must be between {low} and {high}, got {value}")
    return value


def _as_of(scope: Scope, value: str | None) -> date:
    if not value:
        return today_in(scope.timezone)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInputError(f"as_of: not a date (YYYY-MM-DD): {value!r}") from None


def _action(name: str, value: str) -> Action:
    try:
        return Action.parse(value)
    except ValueError as exc:
        raise InvalidInputError(f"{name}: {exc}") from None


def _dated(as_of: date, scope: Scope, start_utc: datetime | None, end_utc: datetime, **fields: Any) -> JSONResponse:
    """The JSON answer of an as-of metric: the day, the zone and the UTC span of the rows counted, then ``fields``."""
    head = {"as_of": as_of, "timezone": scope.timezone, "start_utc": start_utc, "end_utc": end_utc}
    return JSONResponse(plain({**head, **fields}))


@router.get(
    "/retention",
    summary="Retention cohorts (first-time or recurring) by day, week or month: size, retained and rate per period N",
    description=(
        "Cohorts of contacts by the local period of a start action (`order`, `message` or `event:<name>`); retained "
        "in period N = did the return action N periods later. `first_time`: the period of the first-ever start "
        "action; `recurring`: every period with one. The `average` row weights cohorts by size." + SEE_DEFINITIONS
    ),
)
def retention_endpoint(
    scope: ScopeDep,
    session: SessionDep,
    filters: FiltersDep,
    start: Start = None,
    end: End = None,
    period: Annotated[str, Query(description="day, week or month")] = "week",
    retention_type: Annotated[str, Query(alias="type", description="first_time or recurring")] = "first_time",
    start_action: Annotated[str, Query(description="order, message or event:<name>")] = "order",
    return_action: Annotated[str | None, Query(description="order, message or event:<name> (default: start)")] = None,
    max_period: Annotated[int, Query(description=f"last period N shown, 0..{MAX_PERIOD}")] = 8,
    output: Format = "json",
) -> Response:
    _formats(output)
    params = RetentionParams(
        date_range(scope, start, end),
        scope.timezone,
        period=choice("period", period, PERIODS),  # type: ignore[arg-type]
        retention_type=choice("type", retention_type, RETENTION_TYPES),  # type: ignore[arg-type]
        start_action=_action("start_action", start_action),
        return_action=_action("return_action", return_action) if return_action else None,
        max_period=_between("max_period", max_period, 0, MAX_PERIOD),
        observed_until=today_in(scope.timezone),
        filters=filters,
    )
    result = retention(session, params)
    if output == "csv":
        rows = [
            [cohort.first_day.isoformat(), cohort.size, n, retained, cohort.rates[n]]
            for cohort in result.cohorts
            for n, retained in enumerate(cohort.retained)
        ]
        rows += [["average", cell.size, cell.period, cell.retained, cell.rate] for cell in result.average]
        return csv_response(["cohort", "size", "period", "retained", "rate"], rows, "retention")
    return answer(
        result,
        period=params.period,
        type=params.retention_type,
        start_action=str(params.start_action),
        return_action=str(params.returning),
        filters=filters.active,
        cohorts=[
            {"cohort": c.first_day, "size": c.size, "retained": c.retained, "rates": c.rates} for c in result.cohorts
        ],
        average=[{**asdict(cell), "rate": cell.rate} for cell in result.average],
        definitions=result.definitions,
    )


@router.get(
    "/rfm",
    summary="RFM segments: customers, revenue and mean recency, frequency and monetary value per segment",
    description=(
        "Customers with completed orders up to `as_of`; R, F, M scored 1-5 by rank quintiles (equal values share a "
        "score), FM = round half up of (F + M) / 2, segment from the R x FM grid in the answer." + SEE_DEFINITIONS
    ),
)
def rfm_endpoint(
    scope: ScopeDep, session: SessionDep, filters: FiltersDep, as_of: AsOf = None, output: Format = "json"
) -> Response:
    _formats(output)
    params = RfmParams(_as_of(scope, as_of), scope.timezone, filters=filters)
    result = rfm(session, params)
    if output == "csv":
        header = ["segment", "customers", "revenue", "mean_recency", "mean_frequency", "mean_monetary"]
        rows = [[getattr(s, name) for name in header] for s in result.segments]
        return csv_response(header, rows, "rfm")
    return _dated(
        params.as_of,
        scope,
        result.start_utc,
        result.end_utc,
        filters=filters.active,
        customers=result.customers,
        segments=[asdict(s) for s in result.segments],
        grid={f"R{r}": {f"FM{fm + 1}": name for fm, name in enumerate(row)} for r, row in result.grid.items()},
        definitions=result.definitions,
    )


@router.get(
    "/rfm/customers",
    summary="RFM customer list (paged): recency, frequency, monetary, scores and segment, highest spenders first",
    description="`total` counts every matching customer; page with `limit` and `offset`." + SEE_DEFINITIONS,
)
def rfm_customers_endpoint(
    scope: ScopeDep,
    session: SessionDep,
    filters: FiltersDep,
    as_of: AsOf = None,
    segment: Annotated[str | None, Query(description=f"one of: {', '.join(SEGMENTS)}")] = None,
    limit: Annotated[int, Query(description="customers per page, 1..1000")] = 100,
    offset: Annotated[int, Query(description="customers skipped")] = 0,
    output: Format = "json",
) -> Response:
    _formats(output)
    if segment is not None:
        choice("segment", segment, SEGMENTS)
    _between("limit", limit, 1, 1000)
    _between("offset", offset, 0, 10**9)
    params = RfmParams(_as_of(scope, as_of), scope.timezone, filters=filters)
    page = rfm_customers(session, params, segment=segment, limit=limit, offset=offset)
    rows = [asdict(c) for c in page.customers]
    if output == "csv":
        header = ["contact_id", "name", "recency", "frequency", "monetary", "r", "f", "m", "fm", "segment"]
        return csv_response(header, [[row[name] for name in header] for row in rows], "rfm-customers")
    return _dated(
        params.as_of,
        scope,
        None,
        page.end_utc,
        segment=segment,
        filters=filters.active,
        total=page.total,
        limit=limit,
        offset=offset,
        customers=rows,
    )


def _kinds(kind: list[str] | None) -> tuple[str, ...]:
    return tuple(k.strip() for k in kind or () if k.strip())


@router.get(
    "/seasonal-index",
    summary="Seasonal index per product or procedure: current week or month / baseline x 100",
    description=(
        "Completed orders (or revenue) of the period holding `as_of`, over the mean of the same period in the "
        "`baseline_periods` previous years (`previous_years`; weeks: 52 weeks back each) or of the "
        "`baseline_periods` periods just before (`previous_periods`), x 100. 100 = a usual period; null when the "
        "baseline is 0." + SEE_DEFINITIONS
    ),
)
def seasonal_index_endpoint(
    scope: ScopeDep,
    session: SessionDep,
    filters: FiltersDep,
    as_of: AsOf = None,
    period: Annotated[str, Query(description="week or month")] = "month",
    baseline: Annotated[str, Query(description="previous_years or previous_periods")] = "previous_years",
    baseline_periods: Annotated[int, Query(description="K, the baseline periods, 1..52")] = 3,
    measure: Measure = "orders",
    kind: Kinds = None,
    output: Format = "json",
) -> Response:
    _formats(output)
    params = SeasonalParams(
        _as_of(scope, as_of),
        scope.timezone,
        period=choice("period", period, TREND_PERIODS),  # type: ignore[arg-type]
        baseline=choice("baseline", baseline, BASELINES),  # type: ignore[arg-type]
        baseline_periods=_between("baseline_periods", baseline_periods, 1, 52),
        measure=choice("measure", measure, MEASURES),  # type: ignore[arg-type]
        kinds=_kinds(kind),
        filters=filters,
    )
    result = seasonal_index(session, params)
    fields = ["product", "current_orders", "current_revenue", "baseline_orders", "baseline_revenue"]

    def described(row: Any) -> dict[str, Any]:
        return {**{name: getattr(row, name) for name in fields}, "index": row.index}

    if output == "csv":
        rows = [list(described(row).values()) for row in [*result.products, result.total]]
        rows[-1][0] = "(all)"
        return csv_response([*fields, "index"], rows, "seasonal-index")
    return _dated(
        params.as_of,
        scope,
        result.current.start_utc,
        result.current.end_utc,
        period=params.period,
        measure=params.measure,
        baseline=params.baseline,
        current_period=result.current.first_day,
        baseline_period_starts=[p.first_day for p in result.baseline],
        filters=filters.active,
        total=described(result.total),
        products=[described(row) for row in result.products],
        definitions={k: result.definitions[k] for k in ("orders", "revenue", "seasonal_index")},
    )


@router.get(
    "/procedure-trends",
    summary="Orders and revenue per product or procedure per week or month, change vs the previous period, top "
    "growing and declining",
    description=(
        "Completed orders by `orders.product`, in whole local periods holding the range (widened; the answer's "
        "range is the widened one). Change = (this - previous) / previous of `measure`; growing and declining "
        "compare the range's last period with the one before." + SEE_DEFINITIONS
    ),
)
def procedure_trends_endpoint(
    scope: ScopeDep,
    session: SessionDep,
    filters: FiltersDep,
    start: Start = None,
    end: End = None,
    period: Annotated[str, Query(description="week or month")] = "month",
    measure: Measure = "revenue",
    top: Annotated[int, Query(description="products listed as growing and as declining, 1..100")] = 5,
    kind: Kinds = None,
    output: Format = "json",
) -> Response:
    _formats(output)
    params = TrendsParams(
        date_range(scope, start, end),
        scope.timezone,
        period=choice("period", period, TREND_PERIODS),  # type: ignore[arg-type]
        measure=choice("measure", measure, MEASURES),  # type: ignore[arg-type]
        top=_between("top", top, 1, 100),
        kinds=_kinds(kind),
        filters=filters,
    )
    result = product_trends(session, params)
    if output == "csv":
        rows = [
            [p.product, point.first_day.isoformat(), point.orders, point.revenue, point.change]
            for p in result.products
            for point in p.points
        ]
        return csv_response(["product", "period", "orders", "revenue", "change"], rows, "procedure-trends")

    def described(trend: Any) -> dict[str, Any]:
        points = [asdict(point) for point in trend.points]
        return {"product": trend.product, "orders": trend.orders, "revenue": trend.revenue,
                "last_change": trend.last_change, "periods": points}  # fmt: skip

    return answer(
        result,
        period=params.period,
        measure=params.measure,
        periods=result.periods,
        filters=filters.active,
        products=[described(p) for p in result.products],
        growing=[{"product": p.product, "last_change": p.last_change} for p in result.growing],
        declining=[{"product": p.product, "last_change": p.last_change} for p in result.declining],
        definitions=result.definitions,
    )


@router.get(
    "/active-users",
    summary="DAU, MAU (trailing 30 days) and stickiness (DAU / MAU) per local day",
    description=(
        "Active = sent an incoming message, did a tracked event attributed to them, or placed an order (any "
        "status) that local day. MAU counts distinct people over the 30 local days ending on the day." + SEE_DEFINITIONS
    ),
)
def active_users_endpoint(
    scope: ScopeDep,
    session: SessionDep,
    filters: FiltersDep,
    start: Start = None,
    end: End = None,
    output: Format = "json",
) -> Response:
    _formats(output)
    result = active_users(session, ActiveUsersParams(date_range(scope, start, end), scope.timezone, filters=filters))
    rows = [{"day": d.day, "dau": d.dau, "mau": d.mau, "stickiness": d.stickiness} for d in result.days]
    if output == "csv":
        header = ["day", "dau", "mau", "stickiness"]
        return csv_response(header, [[plain(row[name]) for name in header] for row in rows], "active-users")
    return answer(
        result,
        filters=filters.active,
        mean_dau=result.mean_dau,
        mean_mau=result.mean_mau,
        stickiness=result.stickiness,
        days=rows,
        definitions=result.definitions,
    )


@router.get(
    "/playbook",
    summary="Playbook matrix: intent x score -> CONVERT, PUSH, NURTURE or DISCARD, with the contacts per action",
    description=(
        "Per contact with an insight on a conversation created in the range: the latest insight's intent and the "
        "latest lead score (else the insight's score, 0-100, bands high >= 70, medium >= 40, low, unscored); the "
        "action comes from the `rules` table of the answer." + SEE_DEFINITIONS
    ),
)
def playbook_endpoint(
    scope: ScopeDep,
    session: SessionDep,
    filters: FiltersDep,
    start: Start = None,
    end: End = None,
    limit: Annotated[int, Query(description="contacts listed per action, 0..1000")] = 100,
    output: Format = "json",
) -> Response:
    _formats(output)
    params = PlaybookParams(
        date_range(scope, start, end), scope.timezone, filters=filters,
        contacts_per_action=_between("limit", limit, 0, 1000),
    )  # fmt: skip
    result = playbook(session, params)
    if output == "csv":
        header = ["action", "contact_id", "name", "intent", "score", "band"]
        rows = [
            [c.action, c.contact_id, c.name, c.intent, c.score, c.band] for cs in result.contacts.values() for c in cs
        ]
        return csv_response(header, rows, "playbook")
    return answer(
        result,
        filters=filters.active,
        actions=result.actions,
        cells=[asdict(cell) for cell in result.cells],
        contacts={action: [asdict(c) for c in rows] for action, rows in result.contacts.items()},
        rules=[{"intent_group": g, "band": b, "action": a} for (g, b), a in result.rules.items()],
        purchase_intents=params.purchase_intents,
        definitions=result.definitions,
    )
