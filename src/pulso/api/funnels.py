"""``/api/v1/analytics/funnel`` and ``/funnel/dropped``: funnels over events or lifecycle moments, JSON or CSV.

Endpoints only parse the query string into :class:`~pulso.metrics.funnels.FunnelParams` and call the query
object; every bad parameter answers 400 naming it. Step syntax: ``name`` or ``name[key=value][key2=value2]``
(property equalities on the event); windows ``14d``, ``12h`` or ``30m``; exclusions ``event:from:to``.
"""

from __future__ import annotations

import re
from dataclasses import asdict
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

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
    plain,
)
from pulso.api.common import date_range as resolve_range
from pulso.api.errors import InvalidInputError
from pulso.metrics.filters import Filters
from pulso.metrics.funnels import (
    COUNTS,
    LIFECYCLE_STEPS,
    ORDERS,
    SOURCES,
    Exclusion,
    FunnelParams,
    FunnelSeries,
    FunnelStep,
    dropped,
    funnel,
)

router = APIRouter(prefix="/api/v1/analytics", tags=["analytics"])

_STEP = re.compile(r"^([^\[\]]+)((?:\[[^\[\]=]+=[^\[\]]*\])*)$")
_PROPERTY = re.compile(r"\[([^\[\]=]+)=([^\[\]]*)\]")
_WINDOW = re.compile(r"^(\d{1,6})([dhm])$")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}

Steps = Annotated[
    list[str] | None,
    Query(
        alias="steps",
        description=(
            "Repeatable, in order, 2 to 10: an event name, optionally with property equalities as "
            "`name[key=value][key2=value2]`; with source=lifecycle: first_seen, lead, customer (default all three)"
        ),
    ),
]
Window = Annotated[str, Query(description="Conversion window from step 1: `Nd`, `Nh` or `Nm` (default 14d)")]
StepWindows = Annotated[
    list[str] | None,
    Query(alias="step_window", description="Repeatable, one per step after the first: `Nd`/`Nh`/`Nm`, or `-`"),
]
Excludes = Annotated[
    list[str] | None,
    Query(alias="exclude", description="Repeatable `event:from:to`: the exclusion event between steps from and to"),
]
OrderQuery = Annotated[str, Query(alias="order", description="sequential, strict or any")]
CountQuery = Annotated[str, Query(alias="count", description="uniques (people) or totals (every entry)")]
Breakdown = Annotated[
    str,
    Query(description="none, first_touch_channel, first_touch_campaign, property:<key> or attribute:<key>"),
]
BreakdownLimit = Annotated[int, Query(description="breakdown values shown before the rest is summed as '(other)'")]
SourceQuery = Annotated[str, Query(alias="source", description="events or lifecycle")]

DEFINITION = (
    "Per step: count, conversion from step 1 and from the previous step, drop-off, median time from the previous "
    "step; time to convert (median, P90, histogram). The exact definitions are in the answer's `definitions` and in "
    "docs/metrics.md (Funnels)."
)


def _window(name: str, value: str) -> timedelta:
    found = _WINDOW.match(value.strip())
    if not found:
        raise InvalidInputError(f"{name}: a whole number of days, hours or minutes like 14d, 12h, 30m; got {value!r}")
    return timedelta(**{_UNITS[found.group(2)]: int(found.group(1))})


def _step(value: str) -> FunnelStep:
    found = _STEP.match(value.strip())
    if not found:
        raise InvalidInputError(f"steps: an event name, optionally with [key=value] filters; got {value!r}")
    properties = tuple((key.strip(), val) for key, val in _PROPERTY.findall(found.group(2)))
    return FunnelStep(found.group(1).strip(), properties)


def _exclusion(value: str) -> Exclusion:
    event, _, bounds = value.rpartition(":")
    event, _, first = event.rpartition(":")
    if not event or not first.isdigit() or not bounds.isdigit():
        raise InvalidInputError(f"exclude: event:from:to with step numbers, like cancelled:1:3; got {value!r}")
    return Exclusion(event, int(first), int(bounds))


def funnel_params(
    scope: Scope,
    start: str | None,
    end: str | None,
    steps: list[str] | None,
    window: str,
    step_window: list[str] | None,
    order: str,
    exclude: list[str] | None,
    count: str,
    breakdown: str,
    breakdown_limit: int,
    source: str,
    filters: Filters,
) -> FunnelParams:
    """The query string as FunnelParams; any problem is a 400 naming the parameter."""
    choice("source", source, SOURCES)
    choice("order", order, ORDERS)
    choice("count", count, COUNTS)
    names = steps or (list(LIFECYCLE_STEPS) if source == "lifecycle" else [])
    parsed_steps = tuple(_step(value) for value in names)
    step_windows = tuple(None if value.strip() == "-" else _window("step_window", value) for value in step_window or ())
    try:
        return FunnelParams(
            resolve_range(scope, start, end),
            scope.timezone,
            parsed_steps,
            source=source,  # type: ignore[arg-type]
            conversion_window=_window("window", window),
            step_windows=step_windows,
            order=order,  # type: ignore[arg-type]
            exclusions=tuple(_exclusion(value) for value in exclude or ()),
            count=count,  # type: ignore[arg-type]
            breakdown=breakdown,
            breakdown_limit=breakdown_limit,
            filters=filters,
        )
    except ValueError as exc:
        raise InvalidInputError(str(exc)) from None


def _series(series: FunnelSeries) -> dict[str, Any]:
    return {
        "value": series.label,
        "other": series.other,
        "steps": [asdict(step) for step in series.steps],
        "time_to_convert": asdict(series.time_to_convert),
    }


@router.get(
    "/funnel",
    summary="Funnel over track events or lifecycle moments: per-step conversion, drop-off, time to convert",
    description=DEFINITION,
)
def funnel_endpoint(
    scope: ScopeDep,
    session: SessionDep,
    filters: FiltersDep,
    start: Start = None,
    end: End = None,
    steps: Steps = None,
    window: Window = "14d",
    step_window: StepWindows = None,
    order: OrderQuery = "sequential",
    exclude: Excludes = None,
    count: CountQuery = "uniques",
    breakdown: Breakdown = "none",
    breakdown_limit: BreakdownLimit = 10,
    source: SourceQuery = "events",
    output: Format = "json",
) -> Response:
    choice("format", output, ("json", "csv"))
    params = funnel_params(
        scope,
        start,
        end,
        steps,
        window,
        step_window,
        order,
        exclude,
        count,
        breakdown,
        breakdown_limit,
        source,
        filters,
    )
    result = funnel(session, params)
    groups = [result.total, *result.breakdown]
    if output == "csv":
        header = ["group", "step", "name", "count", "conversion_from_first", "conversion_from_previous", "dropped"]
        header += ["drop_off_rate", "median_seconds_from_previous", "time_to_convert_median", "time_to_convert_p90"]
        rows = []
        for index, series in enumerate(groups):
            label = "(all)" if index == 0 else series.label
            timing = series.time_to_convert
            for step in series.steps:
                last = step.step == len(series.steps)
                rows.append(
                    [label, step.step, step.name, step.count, step.conversion_from_first]
                    + [step.conversion_from_previous, step.dropped, step.drop_off_rate]
                    + [step.median_seconds_from_previous]
                    + ([timing.median_seconds, timing.p90_seconds] if last else [None, None])
                )
        return csv_response(header, rows, "funnel")
    return answer(
        result,
        source=params.source,
        order=params.order,
        count=params.count,
        conversion_window_seconds=params.conversion_window.total_seconds(),
        step_windows_seconds=[w.total_seconds() if w else None for w in params.step_windows],
        exclusions=[asdict(x) for x in params.exclusions],
        breakdown=params.breakdown,
        filters=params.filters.active,
        histogram_edges_seconds=result.histogram_edges_seconds,
        total=_series(result.total),
        breakdown_values=[_series(series) for series in result.breakdown],
        definitions=result.definitions,
    )


@router.get(
    "/funnel/dropped",
    summary="The people who reached a funnel step but not the next one, the newest first",
    description=(
        "Takes the /funnel parameters plus `step` (1 .. steps - 1) and `limit`. Each person once, by their best "
        "attempt (furthest step, then earliest entry); `reached_at` is when they reached `step`."
    ),
)
def funnel_dropped_endpoint(
    scope: ScopeDep,
    session: SessionDep,
    filters: FiltersDep,
    start: Start = None,
    end: End = None,
    steps: Steps = None,
    window: Window = "14d",
    step_window: StepWindows = None,
    order: OrderQuery = "sequential",
    exclude: Excludes = None,
    count: CountQuery = "uniques",
    breakdown: Breakdown = "none",
    source: SourceQuery = "events",
    step: Annotated[str | None, Query(description="the step they reached (1-based); not step + 1")] = None,
    limit: Annotated[int, Query(description="people listed at most, 1 to 1000")] = 100,
    output: Format = "json",
) -> Response:
    choice("format", output, ("json", "csv"))
    if not 1 <= limit <= 1000:
        raise InvalidInputError(f"limit: from 1 to 1000, got {limit}")
    params = funnel_params(
        scope, start, end, steps, window, step_window, order, exclude, count, breakdown, 10, source, filters
    )
    if step is None or not step.strip().isdigit():
        raise InvalidInputError(f"step: the number of a step (1 .. {len(params.steps) - 1}), got {step!r}")
    try:
        result = dropped(session, params, int(step), limit)
    except ValueError as exc:
        raise InvalidInputError(str(exc)) from None
    fields = ["contact_id", "anonymous_id", "name", "email", "reached_at"]
    if output == "csv":
        rows = [[getattr(person, name) for name in fields] for person in result.people]
        return csv_response(fields, [[plain(value) for value in row] for row in rows], "dropped")
    return answer(
        result,
        step=result.step,
        step_name=params.steps[result.step - 1].label,
        next_step_name=params.steps[result.step].label,
        people=[asdict(person) for person in result.people],
        definition=result.definition,
    )
