"""Revenue and acquisition return per first-touch channel or campaign: spend, leads, customers, revenue, ROI, ROAS,
CPA, CAC, LTV, LTV:CAC and payback; and the tenant's revenue per local day.

Query objects (STYLE.md point 7): :class:`RoiParams` -> :class:`RoiResult`, :class:`RevenueParams` ->
:class:`RevenueResult`, each with the resolved range and the definitions used. Counting and summing run in SQL
on both databases; Python only adds up the per-campaign spend and derives the ratios. Attribution (first touch,
spend through the campaign name, unmatched spend, unattributed revenue): :mod:`pulso.metrics.attribution`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select

from pulso.metrics.attribution import (
    ATTRIBUTION,
    BREAKDOWNS,
    Breakdown,
    CampaignCost,
    campaign_costs,
    contact_key,
    fold,
    in_range,
    live_contacts,
    periods_elapsed,
    ratio,
)
from pulso.metrics.filters import Filters
from pulso.metrics.overview import DateRange
from pulso.store.models import Contact, Order
from pulso.store.models.silver import REVENUE_STATUSES
from pulso.store.session import PulsoSession
from pulso.store.sqltime import local_day, local_day_key

DEFINITIONS = {
    "attribution": ATTRIBUTION,
    "spend": "campaign_spend.cost of the local days of the range.",
    "new_leads": "Contacts whose became_lead_at is in the range.",
    "new_customers": "Contacts whose became_customer_at is in the range (whenever they became leads).",
    "conversions": "Of the new leads, those with became_customer_at set (converted by now).",
    "conversion_rate": "conversions / new_leads.",
    "revenue": f"Orders with status in {REVENUE_STATUSES} and ordered_at in the range.",
    "average_value_per_conversion": (
        "Revenue to date (every such order before as_of) of the range's conversions / conversions."
    ),
    "roi": "(revenue - spend) / spend.",
    "roas": "revenue / spend.",
    "cpa": "spend / conversions.",
    "cac": "spend / new_customers.",
    "ltv": (
        "Observed lifetime value: revenue to date (every such order before as_of, whenever the range ends) of the "
        "customers acquired in the range / new_customers."
    ),
    "ltv_to_cac": "ltv / cac.",
    "payback_months": (
        "The smallest m such that the revenue per acquired customer in their first m whole months since becoming a "
        "customer (orders before as_of) reaches cac; None when never reached, or when cac is missing or zero."
    ),
    "ratios": "A ratio whose denominator is zero or missing is None.",
    "unmatched_spend": "Spend of campaigns no contact carries as first-touch campaign: in the totals, in no row.",
    "unattributed_revenue": (
        "Revenue of orders without a contact: in the totals, in no row; left out when a filter is in use."
    ),
}


@dataclass(frozen=True)
class RoiParams:
    date_range: DateRange
    timezone: str
    breakdown: Breakdown = "channel"
    filters: Filters = field(default_factory=Filters)
    as_of: datetime | None = None  # revenue "to date" counts orders before this instant (default: now)

    def __post_init__(self) -> None:
        if self.breakdown not in BREAKDOWNS:
            raise ValueError(f"breakdown must be one of {', '.join(BREAKDOWNS)}, got {self.breakdown!r}")
        ZoneInfo(self.timezone)  # raises for an unknown zone
        if self.as_of is not None and self.as_of.tzinfo is None:
            raise ValueError("as_of must be timezone-aware")


@dataclass(frozen=True)
class RoiRow:
    """One first-touch group (or the total, key None and ``is_total``); money as floats in the tenant's currency."""

    key: str | None
    spend: float = 0.0
    new_leads: int = 0
    conversions: int = 0
    new_customers: int = 0
    revenue: float = 0.0
    customer_revenue_to_date: float = 0.0  # of the customers acquired in the range: the LTV numerator
    conversion_revenue_to_date: float = 0.0  # of the range's conversions
    payback_months: int | None = None
    is_total: bool = False

    @property
    def conversion_rate(self) -> float | None:
        return ratio(self.conversions, self.new_leads)

    @property
    def average_value_per_conversion(self) -> float | None:
        return ratio(self.conversion_revenue_to_date, self.conversions)

    @property
    def roi(self) -> float | None:
        return ratio(self.revenue - self.spend, self.spend)

    @property
    def roas(self) -> float | None:
        return ratio(self.revenue, self.spend)

    @property
    def cpa(self) -> float | None:
        return ratio(self.spend, self.conversions)

    @property
    def cac(self) -> float | None:
        return ratio(self.spend, self.new_customers)

    @property
    def ltv(self) -> float | None:
        return ratio(self.customer_revenue_to_date, self.new_customers)

    @property
    def ltv_to_cac(self) -> float | None:
        return ratio(self.ltv, self.cac)

    def described(self) -> dict[str, Any]:
        """Counts and every derived figure, as the API and CSV show them."""
        return {name: getattr(self, name) for name in ROI_FIELDS}


ROI_FIELDS = (
    "key", "spend", "new_leads", "conversions", "conversion_rate", "new_customers", "revenue",
    "average_value_per_conversion", "roi", "roas", "cpa", "cac", "ltv", "ltv_to_cac", "payback_months",
    "customer_revenue_to_date", "conversion_revenue_to_date",
)  # fmt: skip


@dataclass(frozen=True)
class RoiResult:
    params: RoiParams
    start_utc: datetime
    end_utc: datetime
    as_of: datetime
    rows: list[RoiRow]  # in key order, no first touch (None) last
    total: RoiRow  # every row plus unmatched spend and unattributed revenue
    unmatched_spend: list[CampaignCost]
    unattributed_revenue: float
    definitions: dict[str, str] = field(default_factory=lambda: dict(DEFINITIONS))


def roi_by_channel(session: PulsoSession, params: RoiParams) -> RoiResult:
    start, end = params.date_range.utc_bounds(params.timezone)
    as_of = params.as_of or datetime.now(UTC)
    key = contact_key(params.breakdown)
    scope = [live_contacts(), *params.filters.contact_conditions()]
    lead_in_range = in_range(Contact.became_lead_at, start, end)
    customer_in_range = in_range(Contact.became_customer_at, start, end)
    converted = lead_in_range & Contact.became_customer_at.is_not(None)

    def count(condition: Any) -> Any:
        return func.sum(case((condition, 1), else_=0))

    people = fold(
        session.execute(
            select(key, count(lead_in_range), count(converted), count(customer_in_range))
            .where(*scope, lead_in_range | customer_in_range)
            .group_by(key)
        ).all(),
        3,
    )

    def amount(condition: Any) -> Any:
        return func.sum(case((condition, Order.amount), else_=0))

    to_date = Order.ordered_at < as_of
    paid = [Order.status.in_(REVENUE_STATUSES), *scope]
    money = fold(
        session.execute(
            select(
                key,
                amount(in_range(Order.ordered_at, start, end)),
                amount(customer_in_range & to_date),
                amount(converted & to_date),
            )
            .select_from(Order)
            .join(Contact, Contact.id == Order.contact_id)
            .where(*paid, in_range(Order.ordered_at, start, end) | customer_in_range | lead_in_range)
            .group_by(key)
        ).all(),
        3,
    )
    months = periods_elapsed(session, Order.ordered_at, Contact.became_customer_at, "month")
    by_month = session.execute(
        select(key, months, func.sum(Order.amount))
        .select_from(Order)
        .join(Contact, Contact.id == Order.contact_id)
        .where(*paid, customer_in_range, to_date)
        .group_by(key, months)
    ).all()
    costs = campaign_costs(session, params.date_range.start, params.date_range.end, params.filters)
    spend: dict[Any, float] = {}
    for cost in costs:
        if cost.matched:
            spend[cost.key(params.breakdown)] = spend.get(cost.key(params.breakdown), 0.0) + float(cost.cost)
    unmatched = [cost for cost in costs if not cost.matched]
    unattributed = 0.0 if params.filters.active else _unattributed(session, start, end)

    rows = []
    for group in sorted(set(people) | set(money) | set(spend), key=lambda k: (k is None, k or "")):
        counted, summed = people.get(group, [0.0] * 3), money.get(group, [0.0] * 3)
        row = RoiRow(
            group,
            spend=spend.get(group, 0.0),
            new_leads=int(counted[0]),
            conversions=int(counted[1]),
            new_customers=int(counted[2]),
            revenue=summed[0],
            customer_revenue_to_date=summed[1],
            conversion_revenue_to_date=summed[2],
        )
        monthly = {int(n): float(v) for g, n, v in by_month if g == group}
        rows.append(_with_payback(row, monthly))
    all_months: dict[int, float] = {}
    for _, n, value in by_month:
        all_months[int(n)] = all_months.get(int(n), 0.0) + float(value)
    total = RoiRow(
        None,
        sum(r.spend for r in rows) + sum(float(c.cost) for c in unmatched),
        sum(r.new_leads for r in rows),
        sum(r.conversions for r in rows),
        sum(r.new_customers for r in rows),
        sum(r.revenue for r in rows) + unattributed,
        sum(r.customer_revenue_to_date for r in rows),
        sum(r.conversion_revenue_to_date for r in rows),
        is_total=True,
    )
    return RoiResult(params, start, end, as_of, rows, _with_payback(total, all_months), unmatched, unattributed)


def _with_payback(row: RoiRow, revenue_by_month: dict[int, float]) -> RoiRow:
    """The row with payback_months from the acquired customers' revenue per whole month since acquisition."""
    cac = row.cac
    if not cac or not row.new_customers or not revenue_by_month:
        return row
    cumulative = 0.0
    for month in range(max(revenue_by_month) + 1):
        cumulative += revenue_by_month.get(month, 0.0)
        if cumulative / row.new_customers >= cac:
            return RoiRow(**{**row.__dict__, "payback_months": month + 1})
    return row


def _unattributed(session: PulsoSession, start: datetime, end: datetime) -> float:
    total = session.scalar(
        select(func.sum(Order.amount)).where(
            Order.contact_id.is_(None), Order.status.in_(REVENUE_STATUSES), in_range(Order.ordered_at, start, end)
        )
    )
    return float(total or 0)


# ---------------------------------------------------------------- revenue per day


REVENUE_DEFINITIONS = {
    "revenue": f"Sum of orders.amount with status in {REVENUE_STATUSES} and ordered_at in the range.",
    "orders": "Those orders, counted.",
    "paying_customers": "Distinct contacts among those orders (orders without a contact not counted).",
    "average_order_value": "revenue / orders.",
    "unattributed_revenue": "The part of revenue from orders without a contact.",
    "days": "Local days of the tenant's time zone; every day of the range, zero when nothing was sold.",
    "filters": "A contact filter keeps the orders of contacts passing it (orders without a contact pass none).",
}


@dataclass(frozen=True)
class RevenueParams:
    date_range: DateRange
    timezone: str
    filters: Filters = field(default_factory=Filters)

    def __post_init__(self) -> None:
        ZoneInfo(self.timezone)


@dataclass(frozen=True)
class RevenueDay:
    day: date
    revenue: float
    orders: int


@dataclass(frozen=True)
class RevenueResult:
    params: RevenueParams
    start_utc: datetime
    end_utc: datetime
    revenue: float
    orders: int
    paying_customers: int
    unattributed_revenue: float
    days: list[RevenueDay]
    definitions: dict[str, str] = field(default_factory=lambda: dict(REVENUE_DEFINITIONS))

    @property
    def average_order_value(self) -> float | None:
        return ratio(self.revenue, self.orders)


def revenue(session: PulsoSession, params: RevenueParams) -> RevenueResult:
    start, end = params.date_range.utc_bounds(params.timezone)
    conditions = [Order.status.in_(REVENUE_STATUSES), in_range(Order.ordered_at, start, end)]
    if params.filters.active:
        contacts = select(Contact.id).where(live_contacts(), *params.filters.contact_conditions())
        conditions.append(Order.contact_id.in_(contacts))
    bucket = local_day_key(session, Order.ordered_at, params.timezone).label("bucket")
    no_contact = case((Order.contact_id.is_(None), Order.amount), else_=0)
    buckets = session.execute(
        select(bucket, func.sum(Order.amount), func.count(), func.sum(no_contact)).where(*conditions).group_by(bucket)
    ).all()
    customers = session.scalar(select(func.count(func.distinct(Order.contact_id))).where(*conditions)) or 0
    zone = ZoneInfo(params.timezone)
    per_day = fold([(local_day(key, zone), *numbers) for key, *numbers in buckets], 3)
    days = [
        RevenueDay(day, per_day[day][0], int(per_day[day][1])) if day in per_day else RevenueDay(day, 0.0, 0)
        for day in params.date_range.dates()
    ]
    return RevenueResult(
        params,
        start,
        end,
        revenue=sum(d.revenue for d in days),
        orders=sum(d.orders for d in days),
        paying_customers=int(customers),
        unattributed_revenue=sum(values[2] for values in per_day.values()),
        days=days,
    )
