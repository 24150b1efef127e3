"""RFM: recency, frequency and monetary value per customer, scored 1-5 by quintiles, and the named segments.

A query object (STYLE.md point 7): :class:`RfmParams` in, :class:`RfmResult` out with the as-of day, the definitions
and the segment grid. Scores, segments, the per-segment summary and the customer list are computed in SQL on both
databases: scores from ``RANK()`` (equal values share the lowest rank, hence one score), segments from ``CASE``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Float, case, cast, func, select

from pulso.metrics.calendar import days_between, local_date, local_midnight
from pulso.metrics.filters import Filters
from pulso.store.models import Contact, Order
from pulso.store.models.silver import REVENUE_STATUSES
from pulso.store.session import PulsoSession

SEGMENTS = (
    "Champions", "Loyal", "Potential Loyalist", "New Customers", "Promising", "Need Attention", "About to Sleep",
    "At Risk", "Can't Lose Them", "Hibernating", "Lost",
)  # fmt: skip

# The R x FM grid: rows are the recency score R (5 = most recent), columns the FM score 1..5.
GRID: dict[int, tuple[str, str, str, str, str]] = {
    5: ("New Customers", "Potential Loyalist", "Potential Loyalist", "Champions", "Champions"),
    4: ("Promising", "Potential Loyalist", "Potential Loyalist", "Loyal", "Loyal"),
    3: ("About to Sleep", "About to Sleep", "Need Attention", "Loyal", "Loyal"),
    2: ("Hibernating", "Hibernating", "At Risk", "At Risk", "Can't Lose Them"),
    1: ("Lost", "Lost", "At Risk", "At Risk", "Can't Lose Them"),
}

DEFINITIONS = {
    "customers": (
        "Contacts with at least one completed order (status in REVENUE_STATUSES) placed up to the end of as_of, a "
        "local day of the tenant's time zone."
    ),
    "recency": "Days from the local day of the customer's last completed order to as_of (0: ordered on as_of).",
    "frequency": "Completed orders up to as_of.",
    "monetary": "Sum of the amounts of those orders.",
    "scores": (
        "Quintile scores 1-5 from ranks: score = 1 + floor(5 x (rank - 1) / customers), rank = SQL RANK() from the "
        "worst value (longest recency, fewest orders, least money) up, so equal values share the lowest rank and "
        "one score, and 5 goes to the most recent, most frequent, highest spenders."
    ),
    "fm": "FM = (F + M) / 2 rounded half up: floor((F + M + 1) / 2).",
    "segment": "The cell of the R x FM grid (see grid: rows R 5..1, columns FM 1..5).",
}


@dataclass(frozen=True)
class RfmParams:
    as_of: date
    timezone: str
    filters: Filters = field(default_factory=Filters)

    def __post_init__(self) -> None:
        ZoneInfo(self.timezone)  # raises for an unknown zone


@dataclass(frozen=True)
class SegmentSummary:
    segment: str
    customers: int
    revenue: float
    mean_recency: float | None
    mean_frequency: float | None
    mean_monetary: float | None


@dataclass(frozen=True)
class RfmCustomer:
    contact_id: int
    name: str
    recency: int
    frequency: int
    monetary: float
    r: int
    f: int
    m: int
    fm: int
    segment: str


@dataclass(frozen=True)
class RfmResult:
    params: RfmParams
    start_utc: datetime | None  # the first completed order counted (None: no customer)
    end_utc: datetime  # the end of as_of
    customers: int
    segments: list[SegmentSummary]  # every segment of SEGMENTS, in that order
    definitions: dict[str, str] = field(default_factory=lambda: dict(DEFINITIONS))
    grid: dict[int, tuple[str, ...]] = field(default_factory=lambda: dict(GRID))


@dataclass(frozen=True)
class RfmPage:
    params: RfmParams
    end_utc: datetime  # the end of as_of
    segment: str | None
    total: int  # customers matching, over all pages
    limit: int
    offset: int
    customers: list[RfmCustomer]


def rfm(session: PulsoSession, params: RfmParams) -> RfmResult:
    scored, first = _scored(session, params)
    total = session.scalar(select(func.count()).select_from(scored)) or 0
    rows = session.execute(
        select(
            scored.c.segment,
            func.count(),
            func.sum(scored.c.monetary),
            func.avg(cast(scored.c.recency, Float)),
            func.avg(cast(scored.c.frequency, Float)),
            func.avg(cast(scored.c.monetary, Float)),
        ).group_by(scored.c.segment)
    ).all()
    found = {row[0]: row for row in rows}
    summaries = []
    for name in SEGMENTS:
        row = found.get(name)
        if row is None:
            summaries.append(SegmentSummary(name, 0, 0.0, None, None, None))
            continue
        _, count, revenue, recency, frequency, monetary = row
        summaries.append(
            SegmentSummary(name, int(count), _money(revenue), float(recency), float(frequency), float(monetary))
        )
    end = local_midnight(params.as_of + timedelta(days=1), params.timezone)
    return RfmResult(params, first, end, int(total), summaries)


def rfm_customers(
    session: PulsoSession, params: RfmParams, *, segment: str | None = None, limit: int = 100, offset: int = 0
) -> RfmPage:
    """One page of customers with their values, scores and segment, highest spenders first."""
    if segment is not None and segment not in SEGMENTS:
        raise ValueError(f"segment must be one of {', '.join(SEGMENTS)}, got {segment!r}")
    if not 1 <= limit <= 1000 or offset < 0:
        raise ValueError(f"limit must be 1..1000 and offset at least 0, got {limit} and {offset}")
    scored, _ = _scored(session, params)
    chosen = [scored.c.segment == segment] if segment else []
    total = session.scalar(select(func.count()).select_from(scored).where(*chosen)) or 0
    query = (
        select(scored, Contact.name)
        .join(Contact, Contact.id == scored.c.person)
        .where(*chosen)
        .order_by(scored.c.monetary.desc(), scored.c.person)
        .limit(limit)
        .offset(offset)
    )
    customers = [
        RfmCustomer(
            int(row.person),
            row.name or "",
            int(row.recency),
            int(row.frequency),
            _money(row.monetary),
            int(row.r),
            int(row.f),
            int(row.m),
            int(row.fm),
            row.segment,
        )
        for row in session.execute(query).all()
    ]
    end = local_midnight(params.as_of + timedelta(days=1), params.timezone)
    return RfmPage(params, end, segment, int(total), limit, offset, customers)


def customer_segments(session: PulsoSession, params: RfmParams) -> dict[int, str]:
    """Every customer's segment as of ``params.as_of``: contact id -> segment name (one query, no paging)."""
    scored, _ = _scored(session, params)
    return {int(person): str(segment) for person, segment in session.execute(select(scored.c.person, scored.c.segment))}


def _scored(session: PulsoSession, params: RfmParams) -> tuple[Any, datetime | None]:
    """The subquery (person, recency, frequency, monetary, r, f, m, fm, segment), and the first order counted."""
    end = local_midnight(params.as_of + timedelta(days=1), params.timezone)
    conditions = [Order.contact_id.is_not(None), Order.status.in_(REVENUE_STATUSES), Order.ordered_at < end]
    if people := params.filters.contact_conditions():
        conditions.append(Order.contact_id.in_(select(Contact.id).where(*people)))
    first = session.scalar(select(func.min(Order.ordered_at)).where(*conditions))
    day = local_date(session, Order.ordered_at, params.timezone, first or end, end)
    values = (
        select(
            Order.contact_id.label("person"),
            func.max(day).label("last_day"),
            func.count().label("frequency"),
            func.sum(Order.amount).label("monetary"),
        )
        .where(*conditions)
        .group_by(Order.contact_id)
        .subquery("rfm_values")
    )
    recency = days_between(session, params.as_of, values.c.last_day)
    customers = func.count().over()

    def score(*order: Any) -> Any:
        return 1 + (5 * (func.rank().over(order_by=order) - 1)) // customers

    ranked = select(
        values.c.person,
        recency.label("recency"),
        values.c.frequency,
        values.c.monetary,
        score(values.c.last_day).label("r"),  # the earliest last order ranks first: recency 1
        score(values.c.frequency).label("f"),
        score(values.c.monetary).label("m"),
    ).subquery("rfm_scores")
    fm = (ranked.c.f + ranked.c.m + 1) // 2
    cells = {r * 10 + column + 1: name for r, names in GRID.items() for column, name in enumerate(names)}
    segment = case(cells, value=ranked.c.r * 10 + fm)
    scored = select(ranked, fm.label("fm"), segment.label("segment")).subquery("rfm")
    return scored, first


def _money(value: Any) -> float:
    return round(float(value or 0), 2)
