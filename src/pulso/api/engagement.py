"""``/api/v1/analytics/engagement`` and ``/engagement/contacts``: response rate, messages until conversion,
re-engagement, time between messages and the engagement decay score, as JSON or CSV, for a read API key."""

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
from pulso.metrics.engagement import EngagementParams, engagement, engagement_contacts
from pulso.metrics.filters import Filters

router = APIRouter(prefix="/api/v1/analytics", tags=["analytics"])

SilenceDays = Annotated[int, Query(description="days without an incoming message that count as silence (1-365)")]
DecayDays = Annotated[float, Query(description="decay rate of the score, in days (more than 0, at most 365)")]
MAX_PAGE = 500


def _params(
    scope: Scope,
    start: str | None,
    end: str | None,
    filters: Filters,
    silence_days: int,
    decay_days: float,
    listed: int = 10,
) -> EngagementParams:
    window = date_range(scope, start, end)
    try:
        return EngagementParams(window, scope.timezone, filters, silence_days, decay_days, listed)
    except ValueError as exc:
        raise InvalidInputError(str(exc)) from None


def _contact(row: Any) -> dict[str, Any]:
    return asdict(row)


@router.get(
    "/engagement",
    summary="Engagement: response rate, messages until conversion, re-engagement, time between messages, decay",
    description=(
        "Response rate (conversations we wrote in that the contact answered afterwards), messages exchanged before "
        "becoming a customer (median, mean), re-engagement rate after silence_days without an incoming message, gaps "
        "between consecutive messages by direction (median, P90), and the decay score "
        "exp(-days_since_last_message / decay_days) at the end of the range in bands, with the top and bottom "
        "contacts. Definitions: see the `definitions` object of the answer and docs/metrics.md."
    ),
)
def engagement_endpoint(
    scope: ScopeDep,
    session: SessionDep,
    filters: FiltersDep,
    start: Start = None,
    end: End = None,
    silence_days: SilenceDays = 7,
    decay_days: DecayDays = 7.0,
    listed: Annotated[int, Query(description="contacts in the top and bottom lists (0-100)")] = 10,
    output: Format = "json",
) -> Response:
    choice("format", output, ("json", "csv"))
    params = _params(scope, start, end, filters, silence_days, decay_days, listed)
    result = engagement(session, params)
    if output == "csv":
        header = ["metric", "group", "count", "value", "mean", "median", "p90"]
        rows: list[list[Any]] = [
            ["response_rate", "", result.response.base, result.response.rate, "", "", ""],
            ["reengagement_rate", "", result.reengagement.base, result.reengagement.rate, "", "", ""],
        ]
        for metric, stats in (
            ("messages_until_conversion", result.messages_until_conversion),
            ("time_between_messages", result.time_between_messages),
        ):
            rows += [[metric, key, s.count, "", s.mean, s.median, s.p90] for key, s in stats.items()]
        rows += [["decay_band", b.band, b.contacts, b.min_score, "", "", ""] for b in result.decay_bands]
        return csv_response(header, rows, "engagement")
    return answer(
        result,
        filters=params.filters.active,
        silence_days=params.silence_days,
        decay_days=params.decay_days,
        as_of=result.as_of,
        response={**asdict(result.response), "rate": result.response.rate},
        messages_until_conversion={k: asdict(s) for k, s in result.messages_until_conversion.items()},
        reengagement={**asdict(result.reengagement), "rate": result.reengagement.rate},
        time_between_messages={k: asdict(s) for k, s in result.time_between_messages.items()},
        time_unit="seconds",
        decay_bands=[asdict(b) for b in result.decay_bands],
        top=[_contact(c) for c in result.top],
        bottom=[_contact(c) for c in result.bottom],
        definitions=result.definitions,
    )


@router.get(
    "/engagement/contacts",
    summary="Engagement decay score per contact, most engaged first (paginated)",
    description=(
        "score = exp(-days_since_last_message / decay_days), days counted from the contact's last public message "
        "before the end of the range; contacts without messages are not listed. `total` counts every scored contact."
    ),
)
def engagement_contacts_endpoint(
    scope: ScopeDep,
    session: SessionDep,
    filters: FiltersDep,
    start: Start = None,
    end: End = None,
    decay_days: DecayDays = 7.0,
    offset: Annotated[int, Query(description="contacts skipped")] = 0,
    limit: Annotated[int, Query(description=f"contacts on the page (1-{MAX_PAGE})")] = 100,
    output: Format = "json",
) -> Response:
    choice("format", output, ("json", "csv"))
    if offset < 0:
        raise InvalidInputError(f"offset: 0 or more, got {offset}")
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInputError(f"limit: between 1 and {MAX_PAGE}, got {limit}")
    params = _params(scope, start, end, filters, 7, decay_days)
    page = engagement_contacts(session, params, offset=offset, limit=limit)
    fields = ["contact_id", "name", "last_message_at", "days_since_last_message", "score"]
    if output == "csv":
        rows = [[getattr(row, name) for name in fields] for row in page.rows]
        return csv_response(fields, rows, "engagement-contacts")
    return answer(
        page,
        as_of=page.end_utc,
        decay_days=params.decay_days,
        total=page.total,
        offset=page.offset,
        limit=limit,
        contacts=[_contact(row) for row in page.rows],
    )
