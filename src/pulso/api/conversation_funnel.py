"""``/api/v1/analytics/conversion-funnel``, ``/abandonment-analysis`` and ``/time-to-conversion``: the conversation
funnel (conversations -> qualified leads -> scheduled visits -> customers) as JSON or CSV, for a read API key.

The stage rules are the tenant's (``settings.conversation_funnel``; defaults in pulso.metrics.funnel_rules); every
answer states them next to the definitions.
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
from pulso.metrics.conversation_funnel import (
    HISTOGRAM,
    UNITS,
    ConversationFunnelParams,
    FunnelGroup,
    abandonment,
    conversation_funnel,
    time_to_conversion,
)
from pulso.metrics.conversation_stages import BREAKDOWNS
from pulso.metrics.filters import Filters
from pulso.metrics.funnel_rules import FunnelRules

router = APIRouter(prefix="/api/v1/analytics", tags=["analytics"])

UnitQuery = Annotated[str, Query(description="conversations (every conversation) or people (each contact once)")]
BreakdownQuery = Annotated[str, Query(description=f"one of {', '.join(BREAKDOWNS)}")]
RULES_NOTE = (
    " Stage rules: the tenant's `settings.conversation_funnel` (labels, attributes, AI interest, orders, lifecycle; "
    "see docs/metrics.md), echoed in `rules`; definitions in `definitions`."
)


def _params(scope: Scope, start: str | None, end: str | None, unit: str, breakdown: str, filters: Filters) -> Any:
    try:
        rules = FunnelRules.from_settings(scope.settings)
    except ValueError as exc:
        raise InvalidInputError(f"tenant {exc}") from None
    return ConversationFunnelParams(
        date_range(scope, start, end),
        scope.timezone,
        rules=rules,
        unit=choice("unit", unit, UNITS),  # type: ignore[arg-type]
        breakdown=choice("breakdown", breakdown, BREAKDOWNS),  # type: ignore[arg-type]
        filters=filters,
    )


def _head(params: ConversationFunnelParams) -> dict[str, Any]:
    return {
        "unit": params.unit,
        "breakdown": params.breakdown,
        "filters": params.filters.active,
        "rules": params.rules.described(),
    }


def _funnel_group(group: FunnelGroup) -> dict[str, Any]:
    return {
        "key": group.key,
        "stages": [asdict(stage) for stage in group.stages],
        "lead_rate": group.lead_rate,
        "customer_rate": group.customer_rate,
    }


@router.get(
    "/conversion-funnel",
    summary="Conversation funnel: conversations -> qualified leads -> scheduled visits -> customers",
    description=(
        "Conversations created in the range (unit=people: each contact once, at its furthest stage), how many "
        "reached each stage (a later stage implies the earlier ones), conversion from the top and from the previous "
        "stage, lead rate (qualified / conversations) and customer rate (customers / conversations)." + RULES_NOTE
    ),
)
def conversion_funnel_endpoint(
    scope: ScopeDep,
    session: SessionDep,
    filters: FiltersDep,
    start: Start = None,
    end: End = None,
    unit: UnitQuery = "conversations",
    breakdown: BreakdownQuery = "none",
    output: Format = "json",
) -> Response:
    choice("format", output, ("json", "csv"))
    params = _params(scope, start, end, unit, breakdown, filters)
    result = conversation_funnel(session, params)
    if output == "csv":
        groups = result.rows or [result.total]
        rows = [
            [group.key or "", s.stage, s.count, s.from_top, s.from_previous] for group in groups for s in group.stages
        ]
        return csv_response([params.breakdown, "stage", params.unit, "from_top", "from_previous"], rows, "funnel")
    return answer(
        result,
        **_head(params),
        total=_funnel_group(result.total),
        rows=[_funnel_group(row) for row in result.rows],
        definitions=result.definitions,
    )


@router.get(
    "/abandonment-analysis",
    summary="Conversations that stopped at each funnel stage, by who sent the last message",
    description=(
        "Per stage before customer: conversations whose furthest stage it is, split into the contact waiting for us "
        "(the contact spoke last), us waiting for the contact, and no messages; rate = stopped / reached. Counted "
        "per conversation." + RULES_NOTE
    ),
)
def abandonment_endpoint(
    scope: ScopeDep,
    session: SessionDep,
    filters: FiltersDep,
    start: Start = None,
    end: End = None,
    breakdown: BreakdownQuery = "none",
    output: Format = "json",
) -> Response:
    choice("format", output, ("json", "csv"))
    params = _params(scope, start, end, "conversations", breakdown, filters)
    result = abandonment(session, params)
    fields = ["stage", "reached", "stopped", "rate", "contact_waiting", "awaiting_contact", "no_messages"]

    def described(row: Any) -> dict[str, Any]:
        return {"key": row.key, **{name: getattr(row, name) for name in fields}}

    if output == "csv":
        rows = [[row.key or "", *(getattr(row, name) for name in fields)] for row in (result.rows or result.total)]
        return csv_response([params.breakdown, *fields], rows, "abandonment")
    return answer(
        result,
        **_head(params),
        total=[described(row) for row in result.total],
        rows=[described(row) for row in result.rows],
        definitions=result.definitions,
    )


@router.get(
    "/time-to-conversion",
    summary="Time from conversation start to becoming a customer: mean, median, P90, P95, P99 and histogram",
    description=(
        "Seconds from the conversation's creation (unit=people: the contact's first conversation in the range) to "
        "the earliest dated evidence of the customer stage (a matching order, became_customer_at); customers "
        "without a date are counted in `undated`." + RULES_NOTE
    ),
)
def time_to_conversion_endpoint(
    scope: ScopeDep,
    session: SessionDep,
    filters: FiltersDep,
    start: Start = None,
    end: End = None,
    unit: UnitQuery = "conversations",
    breakdown: BreakdownQuery = "none",
    output: Format = "json",
) -> Response:
    choice("format", output, ("json", "csv"))
    params = _params(scope, start, end, unit, breakdown, filters)
    result = time_to_conversion(session, params)
    groups = result.rows or [result.total]
    if output == "csv":
        stats = ["count", "mean", "median", "p90", "p95", "p99"]
        header = [params.breakdown, *stats, *(label for label, _ in HISTOGRAM)]
        rows = [
            [g.key or "", *(getattr(g.stats, name) for name in stats), *(n for _, n in g.histogram)] for g in groups
        ]
        return csv_response(header, rows, "time-to-conversion")

    def described(group: Any) -> dict[str, Any]:
        histogram = [{"bin": label, "count": n} for label, n in group.histogram]
        return {**asdict(group.stats), "key": group.key, "histogram": histogram}

    return answer(
        result,
        **_head(params),
        unit_of_time="seconds",
        undated=result.undated,
        total=described(result.total),
        rows=[described(row) for row in result.rows],
        definitions=result.definitions,
    )
