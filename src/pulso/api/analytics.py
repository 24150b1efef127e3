"""``/api/v1/analytics/*``: support timing, SLA compliance, satisfaction, team and bot performance as JSON or CSV,
for a read API key.

Endpoints parse, authorize and call the metric query objects (pulso.metrics); they hold no logic of their own.
The key (``Authorization: Bearer pk_read_...``) names the tenant; every query runs in that tenant's session. The
range is whole local days in the tenant's time zone, ``start`` and ``end`` included (default: the last 30 days).
Each answer carries the resolved range in UTC and the definitions used; ``format=csv`` gives one row per metric
and group instead.
"""

from __future__ import annotations

from dataclasses import asdict, replace
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
    date_range,
)
from pulso.api.errors import InvalidInputError
from pulso.metrics.filters import Filters
from pulso.metrics.satisfaction import BREAKDOWNS as SATISFACTION_BREAKDOWNS
from pulso.metrics.satisfaction import SatisfactionParams, satisfaction
from pulso.metrics.support_timing import BREAKDOWNS as TIMING_BREAKDOWNS
from pulso.metrics.support_timing import SlaThresholds, TimingParams, sla_compliance, support_timing
from pulso.metrics.team_performance import TeamParams, TeamResult, team_performance
from pulso.store.session import PulsoSession

router = APIRouter(prefix="/api/v1/analytics", tags=["analytics"])


def _timing_params(
    scope: Scope,
    start: str | None,
    end: str | None,
    breakdown: str,
    business_hours: bool,
    filters: Filters,
) -> TimingParams:
    chosen = choice("breakdown", breakdown, TIMING_BREAKDOWNS)
    return TimingParams(
        date_range(scope, start, end),
        scope.timezone,
        breakdown=chosen,  # type: ignore[arg-type]
        business_hours=business_hours,
        inbox_ids=filters.inbox_ids,
        agent_ids=filters.agent_ids,
        team_ids=filters.team_ids,
        filters=replace(filters, inbox_ids=(), agent_ids=(), team_ids=()),
    )


@router.get(
    "/response-time-distribution",
    summary="First response, reply and resolution times: count, mean, median, P90, P95, P99",
    description="Definitions: see the `definitions` object of the answer and docs/metrics.md.",
)
def response_time_distribution(
    scope: ScopeDep,
    session: SessionDep,
    filters: FiltersDep,
    start: Start = None,
    end: End = None,
    breakdown: Annotated[str, Query(description=f"one of {', '.join(TIMING_BREAKDOWNS)}")] = "none",
    business_hours: bool = False,
    output: Format = "json",
) -> Response:
    choice("format", output, ("json", "csv"))
    params = _timing_params(scope, start, end, breakdown, business_hours, filters)
    result = support_timing(session, params)
    if output == "csv":
        rows = [
            [metric, s.key if params.breakdown != "none" else "", s.count, s.mean, s.median, s.p90, s.p95, s.p99]
            for metric in result.totals
            for s in (result.rows[metric] or [result.totals[metric]])
        ]
        header = ["metric", params.breakdown, "count", "mean", "median", "p90", "p95", "p99"]
        return csv_response(header, rows, "timing")
    return answer(
        result,
        breakdown=params.breakdown,
        business_hours=params.business_hours,
        unit="seconds",
        totals={metric: asdict(stats) for metric, stats in result.totals.items()},
        rows={metric: [asdict(s) for s in rows] for metric, rows in result.rows.items()},
        definitions=result.definitions,
    )


@router.get(
    "/sla-compliance",
    summary="SLA compliance per agent, team or inbox, with the breaches",
    description=(
        "Thresholds come from the tenant's settings (`sla`: first_response, next_response, resolution, in seconds; "
        "default 300 s first response) and may be overridden per request."
    ),
)
def sla_compliance_endpoint(
    scope: ScopeDep,
    session: SessionDep,
    filters: FiltersDep,
    start: Start = None,
    end: End = None,
    breakdown: Annotated[str, Query(description="none, agent, team or inbox")] = "none",
    business_hours: bool = False,
    first_response: Annotated[int | None, Query(gt=0, description="threshold override, seconds")] = None,
    next_response: Annotated[int | None, Query(gt=0, description="threshold override, seconds")] = None,
    resolution: Annotated[int | None, Query(gt=0, description="threshold override, seconds")] = None,
    limit: Annotated[int, Query(ge=0, le=1000, description="breaches listed at most")] = 100,
    output: Format = "json",
) -> Response:
    choice("format", output, ("json", "csv"))
    choice("breakdown", breakdown, ("none", "agent", "team", "inbox"))
    params = _timing_params(scope, start, end, breakdown, business_hours, filters)
    try:
        thresholds = SlaThresholds.from_settings(scope.settings)
    except ValueError as exc:
        raise InvalidInputError(f"tenant {exc}") from None
    overrides = {"first_response": first_response, "next_response": next_response, "resolution": resolution}
    thresholds = replace(thresholds, **{k: v for k, v in overrides.items() if v is not None})
    result = sla_compliance(session, params, thresholds, limit=limit)

    def described(row: Any) -> dict[str, Any]:
        return {**asdict(row), "within": row.within, "compliance": row.compliance}

    if output == "csv":
        keyed = params.breakdown != "none"
        rows = [
            [metric, row.key if keyed else "", row.measured, row.within, row.breached, row.compliance]
            for metric in result.totals
            for row in (result.rows[metric] or [result.totals[metric]])
        ]
        return csv_response(["metric", params.breakdown, "measured", "within", "breached", "compliance"], rows, "sla")
    return answer(
        result,
        breakdown=params.breakdown,
        thresholds_seconds=asdict(thresholds),
        totals={m: described(r) for m, r in result.totals.items()},
        rows={m: [described(r) for r in rows] for m, rows in result.rows.items()},
        breaches=[asdict(b) for b in result.breaches],
        definition=result.definition,
    )


@router.get(
    "/satisfaction",
    summary="NPS and CSAT (Chatwoot-compatible), mean rating and survey response rate",
    description="Definitions: see the `definitions` object of the answer and docs/metrics.md.",
)
def satisfaction_endpoint(
    scope: ScopeDep,
    session: SessionDep,
    filters: FiltersDep,
    start: Start = None,
    end: End = None,
    breakdown: Annotated[str, Query(description=f"one of {', '.join(SATISFACTION_BREAKDOWNS)}")] = "none",
    output: Format = "json",
) -> Response:
    choice("format", output, ("json", "csv"))
    chosen = choice("breakdown", breakdown, SATISFACTION_BREAKDOWNS)
    params = SatisfactionParams(
        date_range(scope, start, end),
        scope.timezone,
        breakdown=chosen,  # type: ignore[arg-type]
        inbox_ids=filters.inbox_ids,
        agent_ids=filters.agent_ids,  # the agent the answer names
        filters=replace(filters, inbox_ids=(), agent_ids=()),
    )
    result = satisfaction(session, params)
    groups = result.rows or [result.total]
    scores = ("nps", "nps_answers", "csat", "csat_mean", "csat_response_rate")

    def described(group: Any) -> dict[str, Any]:
        return {**asdict(group), **{name: getattr(group, name) for name in scores}}

    if output == "csv":
        header = ["key", "nps", "promoters", "passives", "detractors", "csat", "csat_mean", "csat_answers"]
        header += ["surveys_sent", "csat_response_rate"]
        rows = [[row.get(name) for name in header] for row in map(described, groups)]
        return csv_response(header, rows, "satisfaction")
    return answer(
        result,
        breakdown=params.breakdown,
        total=described(result.total),
        rows=[described(row) for row in result.rows],
        definitions=result.definitions,
    )


def _team(
    scope: Scope,
    session: PulsoSession,
    start: str | None,
    end: str | None,
    filters: Filters,
    recontact_days: int,
) -> TeamResult:
    params = TeamParams(
        date_range(scope, start, end),
        scope.timezone,
        inbox_ids=filters.inbox_ids,
        team_ids=filters.team_ids,
        recontact_days=recontact_days,
        filters=replace(filters, inbox_ids=(), team_ids=()),
    )
    return team_performance(session, params)


RecontactDays = Annotated[int, Query(ge=1, le=365, description="days after a resolve that count as a recontact")]


@router.get(
    "/team-performance",
    summary="Load, first-contact resolution and conversions per agent",
    description="Definitions: see the `definitions` object of the answer and docs/metrics.md.",
)
def team_performance_endpoint(
    scope: ScopeDep,
    session: SessionDep,
    filters: FiltersDep,
    start: Start = None,
    end: End = None,
    output: Format = "json",
) -> Response:
    choice("format", output, ("json", "csv"))
    result = _team(scope, session, start, end, filters, 7)
    fields = ["agent_id", "conversations", "open_now", "resolved", "resolved_first_contact"]
    fields += ["first_contact_resolution", "conversions", "conversions_per_day"]
    rows = [{name: getattr(agent, name) for name in fields} for agent in result.agents]
    if output == "csv":
        return csv_response(fields, [[row[name] for name in fields] for row in rows], "team")
    return answer(
        result,
        agents=rows,
        definitions={k: v for k, v in result.definitions.items() if k in fields},
    )


@router.get(
    "/bot-performance",
    summary="Bot autonomy, hand-off rate and reasons (labels), recontact rate",
    description="Definitions: see the `definitions` object of the answer and docs/metrics.md.",
)
def bot_performance_endpoint(
    scope: ScopeDep,
    session: SessionDep,
    filters: FiltersDep,
    start: Start = None,
    end: End = None,
    recontact_days: RecontactDays = 7,
) -> Response:
    result = _team(scope, session, start, end, filters, recontact_days)
    bot, recontact = result.bot, result.recontact
    return answer(
        result,
        bot={
            **asdict(bot),
            "handoff_reasons": [{"label": label, "conversations": n} for label, n in bot.handoff_reasons],
            "autonomy_rate": bot.autonomy_rate,
            "handoff_rate": bot.handoff_rate,
        },
        recontact={**asdict(recontact), "rate": recontact.rate, "days": recontact_days},
        definitions={
            k: result.definitions[k] for k in ("bot_autonomy", "handoff_rate", "handoff_reasons", "recontact_rate")
        },
    )
