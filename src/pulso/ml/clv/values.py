"""The latest ``gold.customer_value`` run of a tenant: per customer, and summed per first-touch channel, first-touch
campaign or RFM segment. One data function per answer, for the API and anything else that shows CLV."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import func, select

from pulso.errors import InvalidInputError, NotFoundError
from pulso.metrics.columns import fetch_columns, fetch_frame
from pulso.metrics.rfm import RfmParams, customer_segments
from pulso.ml.purchases import NO_VALUE
from pulso.store.models import Contact, CustomerValue, ModelVersion
from pulso.store.session import PulsoSession

Breakdown = Literal["channel", "campaign", "segment"]
BREAKDOWNS: Final = ("channel", "campaign", "segment")
GROUP_FIELDS: Final = (
    "key", "customers", "clv_total", "clv_mean", "p_alive_mean", "expected_purchases_total", "expected_purchases_mean",
)  # fmt: skip
DEFINITIONS: Final = {
    "clv": (
        "Discounted customer lifetime value over the horizon: each month's expected purchases (BG/NBD) times the "
        "expected order value (Gamma-Gamma), discounted at the monthly rate to the run's time."
    ),
    "p_alive": "BG/NBD probability that the customer has not dropped out, at the run's time.",
    "expected_purchases": "BG/NBD expected purchases (distinct purchase days) in the horizon after the run.",
    "customers": "Contacts with a completed order up to the run (merged contacts count as their survivor).",
    "channel": "The customer's first-touch channel; (none) when unknown.",
    "campaign": "The customer's first-touch campaign; (none) when unknown.",
    "segment": "The customer's RFM segment as of the run's local day (see /api/v1/analytics/rfm).",
    "run": "The latest run of the daily job gold.customer_value; model: the clv model version it used.",
}


@dataclass(frozen=True)
class CLVRun:
    computed_at: datetime
    horizon_days: int
    model_version: str | None
    model_params: dict[str, Any]
    model_metrics: dict[str, Any]
    training_start: datetime | None
    training_end: datetime | None


@dataclass(frozen=True)
class CustomerCLV:
    contact_id: int
    name: str
    first_touch_channel: str | None
    first_touch_campaign: str | None
    clv: float
    p_alive: float | None
    expected_purchases: float | None


@dataclass(frozen=True)
class CLVPage:
    run: CLVRun | None  # None: no run yet
    total: int  # customers in the run, over all pages
    limit: int
    offset: int
    customers: list[CustomerCLV]


@dataclass(frozen=True)
class CLVGroup:
    key: str
    customers: int
    clv_total: float
    clv_mean: float | None
    p_alive_mean: float | None
    expected_purchases_total: float
    expected_purchases_mean: float | None


@dataclass(frozen=True)
class CLVBreakdown:
    run: CLVRun | None
    by: Breakdown
    rows: list[CLVGroup]  # largest total CLV first
    total: CLVGroup
    definitions: dict[str, str] = field(default_factory=lambda: dict(DEFINITIONS))


def latest_run(session: PulsoSession) -> CLVRun | None:
    computed_at = session.scalar(select(func.max(CustomerValue.computed_at)))
    if computed_at is None:
        return None
    version_id, horizon = session.execute(
        select(CustomerValue.model_version_id, CustomerValue.horizon_days)
        .where(CustomerValue.computed_at == computed_at)
        .limit(1)
    ).one()
    version = session.get(ModelVersion, version_id) if version_id is not None else None
    if version is None:
        return CLVRun(computed_at, int(horizon), None, {}, {}, None, None)
    return CLVRun(
        computed_at,
        int(horizon),
        version.version,
        dict(version.params),
        dict(version.metrics),
        version.training_start,
        version.training_end,
    )


def clv_customers(
    session: PulsoSession, *, limit: int = 100, offset: int = 0, contact_id: int | None = None
) -> CLVPage:
    """One page of the latest run's customers, highest CLV first; or the one customer ``contact_id``."""
    if not 1 <= limit <= 1000 or offset < 0:
        raise InvalidInputError(f"limit must be 1..1000 and offset at least 0, got {limit} and {offset}")
    run = latest_run(session)
    if run is None:
        if contact_id is not None:
            raise NotFoundError("contact_id: no lifetime value computed yet (the daily job gold.customer_value)")
        return CLVPage(None, 0, limit, offset, [])
    chosen = [CustomerValue.computed_at == run.computed_at]
    if contact_id is not None:
        chosen.append(CustomerValue.contact_id == contact_id)
    total = session.scalar(select(func.count()).select_from(CustomerValue).where(*chosen)) or 0
    if contact_id is not None and total == 0:
        raise NotFoundError(f"contact_id: contact {contact_id} has no lifetime value (not a customer, or merged)")
    query = (
        select(
            CustomerValue.contact_id,
            Contact.name,
            Contact.first_touch_channel,
            Contact.first_touch_campaign,
            CustomerValue.clv,
            CustomerValue.p_alive,
            CustomerValue.expected_purchases,
        )
        .join(Contact, Contact.id == CustomerValue.contact_id)
        .where(*chosen)
        .order_by(CustomerValue.clv.desc(), CustomerValue.contact_id)
        .limit(limit)
        .offset(offset)
    )
    customers = [
        CustomerCLV(int(row[0]), row[1] or "", row[2], row[3], float(row[4] or 0.0), row[5], row[6])
        for row in session.execute(query).all()
    ]
    return CLVPage(run, int(total), limit, offset, customers)


def clv_by(session: PulsoSession, by: Breakdown, timezone: str) -> CLVBreakdown:
    """The latest run's customers grouped by first-touch channel, campaign or RFM segment (``timezone``: the
    tenant's, for the segment's local day): customers, total and mean CLV, mean P(alive), expected purchases."""
    if by not in BREAKDOWNS:
        raise InvalidInputError(f"by: must be one of {', '.join(BREAKDOWNS)}, got {by!r}")
    run = latest_run(session)
    if run is None:
        empty = pd.DataFrame({name: pd.Series(dtype="float64") for name in ("clv", "p_alive", "expected_purchases")})
        return CLVBreakdown(None, by, [], _group("(total)", empty))
    values = _values(session, run.computed_at)
    labels = _labels(session, by, run, timezone).reindex(values.index).fillna(NO_VALUE)
    rows = [_group(str(key), group) for key, group in values.groupby(labels.to_numpy(), sort=True)]
    rows.sort(key=lambda row: (-row.clv_total, row.key))
    return CLVBreakdown(run, by, rows, _group("(total)", values))


def _values(session: PulsoSession, computed_at: datetime) -> pd.DataFrame:
    query = select(
        CustomerValue.contact_id, CustomerValue.clv, CustomerValue.p_alive, CustomerValue.expected_purchases
    ).where(CustomerValue.computed_at == computed_at)
    kinds = {"contact_id": "int64", "clv": "float64", "p_alive": "float64", "expected_purchases": "float64"}
    return fetch_frame(session, query, kinds).set_index("contact_id")


def _labels(session: PulsoSession, by: Breakdown, run: CLVRun, timezone: str) -> pd.Series:
    """Each contact's group label (missing: no label)."""
    if by == "segment":
        day = run.computed_at.astimezone(ZoneInfo(timezone)).date()
        segments = customer_segments(session, RfmParams(day, timezone))
        return pd.Series(segments, dtype="object")
    column = Contact.first_touch_channel if by == "channel" else Contact.first_touch_campaign
    found = fetch_columns(session, select(Contact.id.label("id"), column.label("g")), {"id": "int64", "g": "object"})
    return pd.Series(found["g"], index=found["id"], dtype="object")


def _group(key: str, values: pd.DataFrame) -> CLVGroup:
    count = len(values)
    return CLVGroup(
        key,
        count,
        float(values["clv"].sum()),
        float(values["clv"].mean()) if count else None,
        float(values["p_alive"].mean()) if count else None,
        float(values["expected_purchases"].sum()),
        float(values["expected_purchases"].mean()) if count else None,
    )
