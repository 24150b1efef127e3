"""``/api/v1/metrics/dashboard/*``: the executive dashboard's summary, live state and trends, for a read API key.

The endpoints parse and call :mod:`pulso.metrics.dashboard`; the definitions travel in every answer.
"""

from __future__ import annotations

import re
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response

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
    plain,
)
from pulso.api.errors import InvalidInputError
from pulso.metrics.dashboard import INTERVALS, SummaryParams, TrendsParams, realtime, summary, trends
from pulso.metrics.overview import DateRange, today_in

router = APIRouter(prefix="/api/v1/metrics/dashboard", tags=["dashboard"])
PERIOD = re.compile(r"^(\d{1,3})d$")


@router.get(
    "/summary",
    summary="KPIs for the range against the previous period of equal length",
    description=(
        "Conversations, messages, leads, new customers, lead conversion, revenue, spend, ROI = (revenue - spend) / "
        "spend, median first response and CSAT, each with the previous period's value and the change (ratios and "
        "scores in points, the rest relatively). Unfiltered answers read gold daily aggregates; with filters, "
        "silver. Each definition is in the answer's `definitions`."
    ),
)
def summary_endpoint(
    scope: ScopeDep,
    session: SessionDep,
    filters: FiltersDep,
    start: Start = None,
    end: End = None,
    output: Format = "json",
) -> Response:
    choice("format", output, ("json", "csv"))
    result = summary(session, SummaryParams(date_range(scope, start, end), scope.timezone, filters))
    kpis = [{**asdict(k), "change": k.change, "higher_is_better": k.higher_is_better} for k in result.kpis]
    if output == "csv":
        header = ["key", "unit", "value", "previous", "change"]
        return csv_response(header, [[k[name] for name in header] for k in kpis], "summary")
    previous = {"start": result.previous_range.start, "end": result.previous_range.end}
    return answer(
        result,
        previous_range=previous,
        source=result.source,
        filters=filters.active,
        kpis=kpis,
        definitions=result.definitions,
    )


@router.get(
    "/realtime",
    summary="Open conversations, waits for a first reply, and the last hour's traffic, as of now",
    description="Definitions: see the answer's `definitions`.",
)
def realtime_endpoint(scope: ScopeDep, session: SessionDep) -> Response:
    result = realtime(session, scope.timezone)
    return JSONResponse(plain({**asdict(result), "timezone": scope.timezone}))


def _last_days(timezone: str, period: str) -> DateRange:
    match = PERIOD.match(period.strip())
    if not match or not 1 <= int(match.group(1)) <= 365:
        raise InvalidInputError(f"period: expected a number of days from 1d to 365d, got {period!r}")
    return DateRange.last_days(int(match.group(1)), today=today_in(timezone))


@router.get(
    "/trends",
    summary="Conversations, messages, leads, customers, revenue and spend per day, week or month",
    description=(
        "`period=30d` (1d-365d) ends today in the tenant's time zone; `start`/`end` override it. Weeks start on "
        "Monday; months on the 1st (the first and last may be partial). Also the totals of the previous period of "
        "equal length, to compare."
    ),
)
def trends_endpoint(
    scope: ScopeDep,
    session: SessionDep,
    filters: FiltersDep,
    period: Annotated[str, Query(description="the last N days, as Nd (1d-365d)")] = "30d",
    interval: Annotated[str, Query(description=f"one of {', '.join(INTERVALS)}")] = "day",
    start: Start = None,
    end: End = None,
    output: Format = "json",
) -> Response:
    choice("format", output, ("json", "csv"))
    chosen = choice("interval", interval, INTERVALS)
    days = _last_days(scope.timezone, period)
    if start or end:  # an explicit range wins over the period
        days = date_range(scope, start, end)
    result = trends(session, TrendsParams(days, scope.timezone, chosen, filters))  # type: ignore[arg-type]
    if output == "csv":
        names = list(result.series)
        rows = [[p.isoformat(), *(result.series[n][i] for n in names)] for i, p in enumerate(result.periods)]
        return csv_response(["period", *names], rows, "trends")
    return answer(
        result,
        interval=chosen,
        source=result.source,
        filters=filters.active,
        periods=result.periods,
        series=result.series,
        totals=result.totals,
        previous_totals=result.previous_totals,
        definitions=result.definitions,
    )
