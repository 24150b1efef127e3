"""Product and procedure trends (orders and revenue per product per week or month, change vs the previous period,
top growing and declining) and the seasonal index (current period over a baseline of earlier periods x 100).

Query objects (STYLE.md point 7): :class:`TrendsParams` -> :class:`TrendsResult`, :class:`SeasonalParams` ->
:class:`SeasonalResult`, with the resolved periods and the definitions. Orders are completed orders
(``REVENUE_STATUSES``) dated when ordered, grouped by ``orders.product`` (a clinic's procedure is its product);
counts and sums per product and period run in SQL on both databases over a table of local periods.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, select

from pulso.metrics.calendar import PeriodSpan, period_start, period_table, shift, span, spans
from pulso.metrics.filters import Filters
from pulso.metrics.overview import DateRange
from pulso.store.models import Contact, Order
from pulso.store.models.silver import REVENUE_STATUSES
from pulso.store.session import PulsoSession

TrendPeriod = Literal["week", "month"]
TREND_PERIODS: tuple[TrendPeriod, ...] = ("week", "month")
Measure = Literal["orders", "revenue"]
MEASURES: tuple[Measure, ...] = ("orders", "revenue")
Baseline = Literal["previous_years", "previous_periods"]
BASELINES: tuple[Baseline, ...] = ("previous_years", "previous_periods")

DEFINITIONS = {
    "orders": "Completed orders (status in REVENUE_STATUSES) placed in the period, by orders.product.",
    "revenue": "The sum of their amounts.",
    "periods": "Whole local periods (ISO weeks from Monday, or months) holding a day of the range.",
    "change": "Relative change of the measure vs the previous period: (this - previous) / previous; None from 0.",
    "growing": "Products whose measure rose from the range's next-to-last period to its last, the largest rise first.",
    "declining": "Products whose measure fell from the next-to-last period to the last, the largest fall first.",
    "seasonal_index": (
        "Measure of the current period (the week or month holding as_of) / baseline x 100, baseline = the mean of "
        "the measure over the K baseline periods (a period without orders counts as 0): previous_years = the same "
        "month K years back (for weeks: 52 x k weeks back), previous_periods = the K periods just before. 100 is "
        "a usual period; None when the baseline is 0. A period still running is compared whole."
    ),
}


def _order_conditions(filters: Filters, kinds: tuple[str, ...], since: datetime, until: datetime) -> list[Any]:
    found = [Order.status.in_(REVENUE_STATUSES), Order.ordered_at >= since, Order.ordered_at < until]
    if kinds:
        found.append(Order.kind.in_(kinds))
    if people := filters.contact_conditions():
        found.append(Order.contact_id.in_(select(Contact.id).where(*people)))
    return found


def _per_period(
    session: PulsoSession, periods: list[PeriodSpan], filters: Filters, kinds: tuple[str, ...]
) -> list[tuple[str | None, int, int, float]]:
    """(product, period index, orders, revenue) for every product and period that has orders."""
    table = period_table(periods, "product_periods")
    query = (
        select(Order.product, table.c.idx, func.count(), func.sum(Order.amount))
        .join(table, and_(Order.ordered_at >= table.c.start_utc, Order.ordered_at < table.c.end_utc))
        .where(*_order_conditions(filters, kinds, periods[0].start_utc, periods[-1].end_utc))
        .group_by(Order.product, table.c.idx)
    )
    return [(p, int(i), int(n), round(float(s or 0), 2)) for p, i, n, s in session.execute(query).all()]


# ---------------------------------------------------------------- trends


@dataclass(frozen=True)
class TrendsParams:
    date_range: DateRange
    timezone: str
    period: TrendPeriod = "month"
    measure: Measure = "revenue"
    top: int = 5
    kinds: tuple[str, ...] = ()  # orders.kind (purchase, booking...); empty: all
    filters: Filters = field(default_factory=Filters)

    def __post_init__(self) -> None:
        if self.period not in TREND_PERIODS:
            raise ValueError(f"period must be one of {', '.join(TREND_PERIODS)}, got {self.period!r}")
        if self.measure not in MEASURES:
            raise ValueError(f"measure must be one of {', '.join(MEASURES)}, got {self.measure!r}")
        if not 1 <= self.top <= 100:
            raise ValueError(f"top must be between 1 and 100, got {self.top}")
        ZoneInfo(self.timezone)  # raises for an unknown zone


@dataclass(frozen=True)
class TrendPoint:
    first_day: date
    orders: int
    revenue: float
    change: float | None  # of the measure vs the previous period


@dataclass(frozen=True)
class ProductTrend:
    product: str | None
    points: list[TrendPoint]  # one per period of the range
    last_change: float  # measure of the last period minus the one before (absolute)

    @property
    def orders(self) -> int:
        return sum(p.orders for p in self.points)

    @property
    def revenue(self) -> float:
        return round(sum(p.revenue for p in self.points), 2)


@dataclass(frozen=True)
class TrendsResult:
    params: TrendsParams  # its date_range widened to whole periods
    start_utc: datetime
    end_utc: datetime
    periods: list[date]
    products: list[ProductTrend]  # the most revenue first
    growing: list[ProductTrend]
    declining: list[ProductTrend]
    definitions: dict[str, str] = field(default_factory=lambda: dict(DEFINITIONS))


def product_trends(session: PulsoSession, params: TrendsParams) -> TrendsResult:
    first = period_start(params.date_range.start, params.period)
    last = period_start(params.date_range.end, params.period)
    count = 2  # the period before the range (for the first change), then the range's
    while shift(first, params.period, count - 2) < last:
        count += 1
    periods = spans(shift(first, params.period, -1), count, params.period, params.timezone)
    found: dict[str | None, dict[int, tuple[int, float]]] = {}
    for product, index, orders, revenue in _per_period(session, periods, params.filters, params.kinds):
        found.setdefault(product, {})[index] = (orders, revenue)
    measure = 0 if params.measure == "orders" else 1
    products = []
    for product, by_period in found.items():
        values = [by_period.get(i, (0, 0.0)) for i in range(len(periods))]
        points = []
        for i in range(1, len(periods)):
            before, now = values[i - 1][measure], values[i][measure]
            change = (now - before) / before if before else None
            points.append(TrendPoint(periods[i].first_day, values[i][0], values[i][1], change))
        if any(p.orders for p in points):
            products.append(ProductTrend(product, points, round(values[-1][measure] - values[-2][measure], 2)))
    products.sort(key=lambda p: (-p.revenue, p.product or ""))
    ranked = sorted(products, key=lambda p: (-abs(p.last_change), p.product or ""))
    growing = [p for p in ranked if p.last_change > 0][: params.top]
    declining = [p for p in ranked if p.last_change < 0][: params.top]
    widened = DateRange(periods[1].first_day, shift(last, params.period, 1) - timedelta(days=1))
    shown = periods[1:]
    return TrendsResult(
        replace(params, date_range=widened), shown[0].start_utc, shown[-1].end_utc, [p.first_day for p in shown],
        products, growing, declining,
    )  # fmt: skip


# ---------------------------------------------------------------- seasonal index


@dataclass(frozen=True)
class SeasonalParams:
    as_of: date  # the current period is the one holding this day
    timezone: str
    period: TrendPeriod = "month"
    baseline: Baseline = "previous_years"
    baseline_periods: int = 3  # K
    measure: Measure = "orders"
    kinds: tuple[str, ...] = ()
    filters: Filters = field(default_factory=Filters)

    def __post_init__(self) -> None:
        if self.period not in TREND_PERIODS:
            raise ValueError(f"period must be one of {', '.join(TREND_PERIODS)}, got {self.period!r}")
        if self.baseline not in BASELINES:
            raise ValueError(f"baseline must be one of {', '.join(BASELINES)}, got {self.baseline!r}")
        if self.measure not in MEASURES:
            raise ValueError(f"measure must be one of {', '.join(MEASURES)}, got {self.measure!r}")
        if not 1 <= self.baseline_periods <= 52:
            raise ValueError(f"baseline_periods must be between 1 and 52, got {self.baseline_periods}")
        ZoneInfo(self.timezone)  # raises for an unknown zone

    def periods(self) -> list[PeriodSpan]:
        """The current period (index 0), then the K baseline periods (1..K)."""
        current = period_start(self.as_of, self.period)
        step = (12 if self.period == "month" else 52) if self.baseline == "previous_years" else 1
        starts = [current] + [shift(current, self.period, -step * k) for k in range(1, self.baseline_periods + 1)]
        return [span(i, day, self.period, self.timezone) for i, day in enumerate(starts)]


@dataclass(frozen=True)
class SeasonalRow:
    product: str | None  # None in the total row, and for orders without a product
    current_orders: int
    current_revenue: float
    baseline_orders: float  # mean per baseline period
    baseline_revenue: float
    measure: Measure

    @property
    def index(self) -> float | None:
        current, baseline = (
            (self.current_orders, self.baseline_orders)
            if self.measure == "orders"
            else (self.current_revenue, self.baseline_revenue)
        )
        return current / baseline * 100 if baseline else None


@dataclass(frozen=True)
class SeasonalResult:
    params: SeasonalParams
    current: PeriodSpan
    baseline: list[PeriodSpan]
    total: SeasonalRow
    products: list[SeasonalRow]  # by product name
    definitions: dict[str, str] = field(default_factory=lambda: dict(DEFINITIONS))


def seasonal_index(session: PulsoSession, params: SeasonalParams) -> SeasonalResult:
    periods = params.periods()
    table = period_table(periods, "seasonal_periods")
    current = table.c.idx == 0
    k = params.baseline_periods

    def total(condition: Any, value: Any) -> Any:
        return func.coalesce(func.sum(case((condition, value), else_=0)), 0)

    since, until = min(p.start_utc for p in periods), max(p.end_utc for p in periods)
    query = (
        select(
            Order.product,
            total(current, 1),
            total(current, Order.amount),
            total(~current, 1),
            total(~current, Order.amount),
        )
        .join(table, and_(Order.ordered_at >= table.c.start_utc, Order.ordered_at < table.c.end_utc))
        .where(*_order_conditions(params.filters, params.kinds, since, until))
        .group_by(Order.product)
    )
    rows = [
        SeasonalRow(product, int(n), round(float(s), 2), int(bn) / k, round(float(bs), 2) / k, params.measure)
        for product, n, s, bn, bs in session.execute(query).all()
    ]
    rows.sort(key=lambda row: (row.product is None, row.product or ""))
    everything = SeasonalRow(
        None,
        sum(r.current_orders for r in rows),
        round(sum(r.current_revenue for r in rows), 2),
        sum(r.baseline_orders for r in rows),
        sum(r.baseline_revenue for r in rows),
        params.measure,
    )
    return SeasonalResult(params, periods[0], periods[1:], everything, rows)
