"""What every ``/api/v1`` metric endpoint shares: read-key authentication, the tenant's session, the date range,
the filters, parameter checks and the JSON / CSV answers."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import Field

from pulso.api.deps import engine_of
from pulso.api.errors import DomainError, InvalidInputError
from pulso.metrics.filters import Filters
from pulso.metrics.overview import DEFAULT_PERIOD_DAYS, DateRange, today_in
from pulso.security.api_keys import authenticate
from pulso.store.models import Tenant
from pulso.store.session import PulsoSession, platform_session, tenant_session

MAX_DAYS = 731


class KeyRequiredError(DomainError):
    status_code = 401
    code = "read_key_required"
    message = "A read API key is required: send it as 'Authorization: Bearer pk_read_...'."


@dataclass(frozen=True)
class Scope:
    tenant_id: int
    timezone: str
    settings: dict[str, Any]


def read_scope(request: Request) -> Scope:
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise KeyRequiredError()
    identity = authenticate(key.strip(), "read")
    if identity is None:
        raise KeyRequiredError("invalid read key: unknown, revoked or not a read key")
    with platform_session(engine=engine_of(request)) as session:
        tenant = session.get_one(Tenant, identity.tenant_id)
        if not tenant.is_active:
            raise KeyRequiredError("the key's tenant is deactivated")
        return Scope(tenant.id, tenant.timezone, dict(tenant.settings or {}))


ScopeDep = Annotated[Scope, Depends(read_scope)]


def scoped_session(request: Request, scope: ScopeDep) -> Iterator[PulsoSession]:
    with tenant_session(scope.tenant_id, engine=engine_of(request)) as session:
        yield session


SessionDep = Annotated[PulsoSession, Depends(scoped_session)]


def _day(name: str, value: str | None) -> date | None:
    if value is None or value == "":
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInputError(f"{name}: not a date (YYYY-MM-DD): {value!r}") from None


def date_range(scope: Scope, start: str | None, end: str | None) -> DateRange:
    last = _day("end", end) or today_in(scope.timezone)
    first = _day("start", start) or DateRange.last_days(DEFAULT_PERIOD_DAYS, today=last).start
    if first > last:
        raise InvalidInputError(f"start: {first} is after end {last}")
    if (last - first).days >= MAX_DAYS:
        raise InvalidInputError(f"start: the range may span at most {MAX_DAYS} days")
    return DateRange(first, last)


def choice(name: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise InvalidInputError(f"{name}: must be one of {', '.join(allowed)}, got {value!r}")
    return value


def plain(value: Any) -> Any:
    """Dataclasses, dates and tuples as JSON values."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def answer(result: Any, **fields: Any) -> JSONResponse:
    """A metric's JSON answer: the resolved range (local days and UTC instants), then ``fields``."""
    params = result.params
    window = {"start": params.date_range.start, "end": params.date_range.end, "timezone": params.timezone}
    head = {"range": window, "start_utc": result.start_utc, "end_utc": result.end_utc}
    return JSONResponse(plain({**head, **fields}))


def csv_response(header: list[str], rows: list[list[Any]], filename: str) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    disposition = f'attachment; filename="{filename}.csv"'
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers={"Content-Disposition": disposition})


Start = Annotated[str | None, Query(description="First local day, YYYY-MM-DD (default: 29 days before end)")]
End = Annotated[str | None, Query(description="Last local day, YYYY-MM-DD, included (default: today)")]
# inbox, agent and team ids are 32-bit integer columns: a larger number was a 500 from the driver, not a 422
Id = Annotated[int, Field(ge=-(2**31), le=2**31 - 1)]
Inboxes = Annotated[list[Id] | None, Query(alias="inbox", description="Only these inbox ids (repeatable)")]
Agents = Annotated[list[Id] | None, Query(alias="agent", description="Only these agent ids (repeatable)")]
Teams = Annotated[list[Id] | None, Query(alias="team", description="Only these team ids (repeatable)")]
Format = Annotated[str, Query(alias="format", description="json or csv")]


def filters(
    inbox: Inboxes = None,
    channel: Annotated[
        list[str] | None,
        Query(description="Only these channels (repeatable): a conversation's inbox type, a contact's first touch"),
    ] = None,
    agent: Agents = None,
    team: Teams = None,
    campaign: Annotated[list[str] | None, Query(description="Only contacts first touched by these campaigns")] = None,
    status: Annotated[list[str] | None, Query(description="Only conversations in these statuses (repeatable)")] = None,
    ai_class: Annotated[
        list[str] | None, Query(description="Only conversations an analyzer classed Alto, Médio or Baixo")
    ] = None,
) -> Filters:
    """The global filters from the query string; an unknown status is refused naming the parameter."""
    try:
        return Filters(
            inbox_ids=tuple(inbox or ()),
            channels=tuple(c.strip().lower() for c in channel or () if c.strip()),
            agent_ids=tuple(agent or ()),
            team_ids=tuple(team or ()),
            campaigns=tuple(c.strip() for c in campaign or () if c.strip()),
            statuses=tuple(status or ()),
            ai_classes=tuple(ai_class or ()),
        )
    except ValueError as exc:
        raise InvalidInputError(str(exc)) from None


FiltersDep = Annotated[Filters, Depends(filters)]
