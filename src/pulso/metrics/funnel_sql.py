"""The SQL of :mod:`pulso.metrics.funnels`: the candidate rows of a funnel, read as numpy columns.

The database selects the rows a funnel can use (step and exclusion events in the range plus the conversion
window, or the contacts' lifecycle moments), with the contact filters applied, the time as integer milliseconds and
one bit per step and exclusion each row matches; :mod:`pulso.metrics.funnel_match` matches them. The events' index
on (tenant, name, time, type, contact, anonymous id) covers the read, so it never touches the table's rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import (
    BigInteger,
    Integer,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
)

from pulso.metrics.columns import fetch_columns
from pulso.metrics.funnel_match import Rows
from pulso.store.models import Contact, Event
from pulso.store.session import PulsoSession
from pulso.store.sqltime import epoch_ms

if TYPE_CHECKING:
    from pulso.metrics.funnels import FunnelParams

ANONYMOUS = "anon:"  # person key prefix of events without a contact


@dataclass(frozen=True)
class Candidates:
    """The rows in (person, time, tie-break) order, with each row's contact (-1: none), anonymous id (where there
    is no contact) and breakdown value (property breakdowns: the step-1 event's; lifecycle: the contact's)."""

    rows: Rows
    contact: np.ndarray
    anonymous: np.ndarray
    value: np.ndarray | None


def text(json_value: Any) -> Any:
    return cast(json_value.as_string(), String)


def read(session: PulsoSession, params: FunnelParams, start: datetime, end: datetime) -> Candidates:
    query = (
        _lifecycle(session, params, start, end)
        if params.source == "lifecycle"
        else _events(session, params, start, end)
    )
    kinds = {"contact": "int64", "anonymous": "object", "ts": "int64", "tiebreak": "int64", "bits": "int64"}
    with_value = params.breakdown.startswith("property:") or (
        params.source == "lifecycle" and params.breakdown != "none"
    )
    if with_value:
        kinds["value"] = "object"
    columns = fetch_columns(session, query, kinds)
    contact, anonymous = columns["contact"], columns["anonymous"]
    person = contact.copy()
    nameless = contact < 0
    if nameless.any():  # anonymous people get codes after every contact id
        _, codes = np.unique(anonymous[nameless].astype(str), return_inverse=True)
        person[nameless] = max(int(contact.max()), 0) + 1 + codes
    rows, order = Rows.sorted(person, columns["ts"], columns["tiebreak"], columns["bits"])
    value = columns["value"][order] if with_value else None
    return Candidates(rows, contact[order], anonymous[order], value)


def contact_values(session: PulsoSession, params: FunnelParams, contact_ids: np.ndarray) -> dict[int, str]:
    """The breakdown value of these contacts (first touch channel or campaign, or a contact attribute as text)."""
    value = (
        text(Contact.attributes[params.breakdown_key])
        if params.breakdown.startswith("attribute:")
        else getattr(Contact, params.breakdown)
    )
    wanted = np.unique(contact_ids[contact_ids >= 0])
    if not len(wanted):
        return {}
    query = select(Contact.id.label("id"), value.label("value")).where(value.is_not(None))
    if len(wanted) <= 1000:
        query = query.where(Contact.id.in_([int(x) for x in wanted]))
    columns = fetch_columns(session, query, {"id": "int64", "value": "object"})
    return dict(zip(columns["id"].tolist(), columns["value"].tolist(), strict=True))


def contact_details(session: PulsoSession, contact_ids: list[int]) -> dict[int, tuple[str | None, str | None]]:
    if not contact_ids:
        return {}
    rows = session.execute(select(Contact.id, Contact.name, Contact.email).where(Contact.id.in_(contact_ids)))
    return {int(i): (name, email) for i, name, email in rows.all()}


def _bits(flags: list[Any]) -> Any:
    """One integer with bit i set where ``flags[i]`` holds."""
    terms = [case((flag, literal(1 << i, BigInteger)), else_=literal(0, BigInteger)) for i, flag in enumerate(flags)]
    total: Any = terms[0]
    for term in terms[1:]:
        total = total + term
    return total


def _events(session: PulsoSession, params: FunnelParams, start: datetime, end: datetime) -> Any:
    e = Event
    flags = [
        and_(e.name == step.event, *(text(e.properties[k]) == v for k, v in step.properties)) for step in params.steps
    ]
    flags += [e.name == exclusion.event for exclusion in params.exclusions]
    columns = [
        func.coalesce(e.contact_id, -1).label("contact"),
        case((e.contact_id.is_(None), e.anonymous_id)).label("anonymous"),
        epoch_ms(session, e.occurred_at).label("ts"),
        e.id.label("tiebreak"),
        _bits(flags).label("bits"),
    ]
    if params.breakdown.startswith("property:"):
        columns.append(case((e.name == params.steps[0].event, text(e.properties[params.breakdown_key]))).label("value"))
    conditions = [
        e.tenant_id == session.tenant_id,  # the index's first column, stated for the planner
        e.type == "track",
        e.occurred_at >= start,
        e.occurred_at < end + params.conversion_window,
        or_(e.contact_id.is_not(None), e.anonymous_id.is_not(None)),
    ]
    if params.order != "strict":  # strict needs every track event, to know which one came next
        names = {step.event for step in params.steps} | {x.event for x in params.exclusions}
        conditions.append(e.name.in_(sorted(names)))
    if params.filters.active:
        conditions.append(e.contact_id.in_(select(Contact.id).where(*params.filters.contact_conditions())))
    return select(*columns).where(*conditions)


def _lifecycle(session: PulsoSession, params: FunnelParams, start: datetime, end: datetime) -> Any:
    from pulso.metrics.funnels import LIFECYCLE_STEPS

    c = Contact
    value: Any = cast(null(), String)
    if params.breakdown.startswith("attribute:"):
        value = text(c.attributes[params.breakdown_key])
    elif params.breakdown != "none":
        value = getattr(c, params.breakdown)
    parts = []
    for index, step in enumerate(params.steps):
        moment = getattr(c, LIFECYCLE_STEPS[step.event])
        parts.append(
            select(
                c.id.label("contact"),
                cast(null(), String).label("anonymous"),
                epoch_ms(session, moment).label("ts"),
                literal(index, Integer).label("tiebreak"),
                literal(1 << index, BigInteger).label("bits"),
                value.label("value"),
            ).where(
                moment.is_not(None),
                moment >= start,
                moment < end + params.conversion_window,
                c.merged_into_id.is_(None),
                *params.filters.contact_conditions(),
            )
        )
    return select(union_all(*parts).subquery("moments"))
