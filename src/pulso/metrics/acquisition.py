"""Acquisition cohorts (each cohort's revenue curve beside what it cost to acquire) and lead -> customer
conversion per segment.

Query objects (STYLE.md point 7): :class:`CohortParams` -> :class:`CohortResult` and :class:`ConversionParams` ->
:class:`ConversionResult`, with the resolved range and the definitions used. Counting and summing run in SQL on
both databases; Python folds local days into weeks and months and accumulates the curve. Attribution rules:
:mod:`pulso.metrics.attribution`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import String, case, cast, func, select

from pulso.metrics.attribution import (
    ATTRIBUTION,
    PERIODS,
    Period,
    campaign_costs,
    contact_key,
    fold,
    in_range,
    live_contacts,
    periods_elapsed,
    ratio,
)
from pulso.metrics.calendar import period_start, shift
from pulso.metrics.filters import Filters
from pulso.metrics.overview import DateRange
from pulso.store.models import Contact, Order
from pulso.store.models.silver import REVENUE_STATUSES
from pulso.store.session import PulsoSession
from pulso.store.sqltime import local_day, local_day_key

CohortBreakdown = Literal["none", "channel", "campaign"]
COHORT_BREAKDOWNS: tuple[CohortBreakdown, ...] = ("none", "channel", "campaign")

COHORT_DEFINITIONS = {
    "attribution": ATTRIBUTION,
    "cohort": (
        "The customers whose became_customer_at falls in the range and in one local calendar month (or ISO week, "
        "Monday first) of the tenant's time zone, per first-touch channel or campaign; the range's first and last "
        "cohorts may be partial."
    ),
    "period": (
        "Period n of a customer: orders placed when n whole months (calendar, UTC) or weeks (7 days) had passed "
        "since the customer's became_customer_at; orders before it count in period 0."
    ),
    "revenue": f"Orders with status in {REVENUE_STATUSES} placed before as_of, by period.",
    "cumulative_revenue_per_customer": "Revenue of periods 0..n / the cohort's customers.",
    "complete": "Every customer of the cohort had lived the whole period n by as_of.",
    "spend": (
        "campaign_spend.cost of the cohort's days (inside the range) for its channel or campaign; without a "
        "breakdown, all spend of those days. Unmatched spend (campaigns no contact names) is in no cohort of a "
        "breakdown: see unmatched_spend."
    ),
    "cac": "spend / customers (None without customers).",
    "payback_periods": (
        "The smallest n + 1 whose cumulative revenue per customer reaches the CAC; None when not reached, or when "
        "the CAC is missing or zero."
    ),
}


@dataclass(frozen=True)
class CohortParams:
    date_range: DateRange
    timezone: str
    period: Period = "month"
    breakdown: CohortBreakdown = "none"
    filters: Filters = field(default_factory=Filters)
    as_of: datetime | None = None  # orders before this instant (default: now)

    def __post_init__(self) -> None:
        if self.period not in PERIODS:
            raise ValueError(f"period must be one of {', '.join(PERIODS)}, got {self.period!r}")
        if self.breakdown not in COHORT_BREAKDOWNS:
            raise ValueError(f"breakdown must be one of {', '.join(COHORT_BREAKDOWNS)}, got {self.breakdown!r}")
        ZoneInfo(self.timezone)
        if self.as_of is not None and self.as_of.tzinfo is None:
            raise ValueError("as_of must be timezone-aware")


@dataclass(frozen=True)
class CohortPoint:
    period: int
    revenue: float
    cumulative_revenue_per_customer: float | None  # None for a cohort without customers (spend only)
    complete: bool


@dataclass(frozen=True)
class Cohort:
    start: date  # the first local day of the month or ISO week
    key: str | None  # the first-touch channel or campaign (None: none, or no breakdown)
    customers: int
    spend: float
    points: list[CohortPoint]

    @property
    def cac(self) -> float | None:
        return ratio(self.spend, self.customers)

    @property
    def payback_periods(self) -> int | None:
        cac = self.cac
        if not cac:
            return None
        reached = (p.period + 1 for p in self.points if (p.cumulative_revenue_per_customer or 0.0) >= cac)
        return next(reached, None)


@dataclass(frozen=True)
class CohortResult:
    params: CohortParams
    start_utc: datetime
    end_utc: datetime
    as_of: datetime
    cohorts: list[Cohort]  # by start, then key (None last)
    unmatched_spend: float
    definitions: dict[str, str] = field(default_factory=lambda: dict(COHORT_DEFINITIONS))


def acquisition_cohorts(session: PulsoSession, params: CohortParams) -> CohortResult:
    start, end = params.date_range.utc_bounds(params.timezone)
    as_of = params.as_of or datetime.now(UTC)
    zone = ZoneInfo(params.timezone)
    key = contact_key(params.breakdown)
    acquired = local_day_key(session, Contact.became_customer_at, params.timezone)
    scope = [live_contacts(), *params.filters.contact_conditions(), in_range(Contact.became_customer_at, start, end)]

    def cohort_of(day_key: Any) -> date:
        return period_start(local_day(day_key, zone), params.period)

    customers = fold(
        [
            ((cohort_of(d), g), n)
            for d, g, n in session.execute(select(acquired, key, func.count()).where(*scope).group_by(acquired, key))
        ],
        1,
    )
    n_elapsed = periods_elapsed(session, Order.ordered_at, Contact.became_customer_at, params.period)
    revenue_rows = session.execute(
        select(acquired, key, n_elapsed, func.sum(Order.amount))
        .select_from(Order)
        .join(Contact, Contact.id == Order.contact_id)
        .where(*scope, Order.status.in_(REVENUE_STATUSES), Order.ordered_at < as_of)
        .group_by(acquired, key, n_elapsed)
    ).all()
    revenue = fold([((cohort_of(d), g, int(n)), v) for d, g, n, v in revenue_rows], 1)
    spend: dict[tuple[date, str | None], float] = {}
    unmatched = 0.0
    for cost in campaign_costs(session, params.date_range.start, params.date_range.end, params.filters, per_day=True):
        if cost.day is None:
            continue
        if params.breakdown != "none" and not cost.matched:
            unmatched += float(cost.cost)
            continue
        spent = (period_start(cost.day, params.period), cost.key(params.breakdown))
        spend[spent] = spend.get(spent, 0.0) + float(cost.cost)

    cohorts = []
    for cohort_start, group in sorted(set(customers) | set(spend), key=lambda c: (c[0], c[1] is None, c[1] or "")):
        count = int(customers.get((cohort_start, group), [0])[0])
        first = datetime.combine(cohort_start, time.min, zone)
        last_day = min(_period_end(cohort_start, params.period), params.date_range.end)
        after = datetime.combine(last_day + timedelta(days=1), time.min, zone)
        points, cumulative, n = [], 0.0, 0
        while _shift(first, n, params.period) <= as_of:
            earned = revenue.get((cohort_start, group, n), [0.0])[0]
            cumulative += earned
            complete = _shift(after, n + 1, params.period) <= as_of
            points.append(CohortPoint(n, earned, ratio(cumulative, count), complete))
            n += 1
        cohorts.append(Cohort(cohort_start, group, count, spend.get((cohort_start, group), 0.0), points))
    return CohortResult(params, start, end, as_of, cohorts, unmatched)


def _period_end(start: date, period: Period) -> date:
    return shift(start, period, 1) - timedelta(days=1)


def _shift(moment: datetime, periods: int, period: Period) -> datetime:
    """``moment`` plus whole weeks or calendar months (the day clamped to the month's last)."""
    if period == "week":
        return moment + timedelta(weeks=periods)
    months = moment.year * 12 + moment.month - 1 + periods
    year, month = divmod(months, 12)
    last = _period_end(date(year, month + 1, 1), "month").day
    return moment.replace(year=year, month=month + 1, day=min(moment.day, last))


# ---------------------------------------------------------------- conversion per segment


SEGMENTS = ("first_touch_channel", "first_touch_source", "first_touch_campaign", "city", "state")
ATTRIBUTE_KEY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,99}")

CONVERSION_DEFINITIONS = {
    "leads": "Contacts whose became_lead_at is in the range (merged contacts left out).",
    "converted": "Of those leads, the ones with became_customer_at set (converted by now, whenever).",
    "rate": "converted / leads.",
    "segment": (
        "The contact's column of that name, or for attribute:<key> the value of attributes[key] as text "
        "(booleans as true / false); None when empty."
    ),
}


@dataclass(frozen=True)
class ConversionParams:
    date_range: DateRange
    timezone: str
    segment: str = "first_touch_channel"
    filters: Filters = field(default_factory=Filters)

    def __post_init__(self) -> None:
        ZoneInfo(self.timezone)
        if self.segment in SEGMENTS:
            return
        name, _, attribute = self.segment.partition(":")
        if name != "attribute" or not ATTRIBUTE_KEY.fullmatch(attribute):
            raise ValueError(
                f"segment: must be one of {', '.join(SEGMENTS)} or attribute:<key> (letters, digits, _ . -), "
                f"got {self.segment!r}"
            )


@dataclass(frozen=True)
class SegmentConversion:
    key: str | None
    leads: int
    converted: int

    @property
    def rate(self) -> float | None:
        return ratio(self.converted, self.leads)


@dataclass(frozen=True)
class ConversionResult:
    params: ConversionParams
    start_utc: datetime
    end_utc: datetime
    total: SegmentConversion
    rows: list[SegmentConversion]  # most leads first, then by key (None last)
    definitions: dict[str, str] = field(default_factory=lambda: dict(CONVERSION_DEFINITIONS))


def conversion_rate(session: PulsoSession, params: ConversionParams) -> ConversionResult:
    start, end = params.date_range.utc_bounds(params.timezone)
    key = _segment_column(session, params.segment).label("segment")
    found = session.execute(
        select(key, func.count(), func.count(Contact.became_customer_at))
        .where(live_contacts(), in_range(Contact.became_lead_at, start, end), *params.filters.contact_conditions())
        .group_by(key)
    ).all()
    rows = [SegmentConversion(None if k is None or k == "" else str(k), int(n), int(c)) for k, n, c in found]
    merged: dict[str | None, SegmentConversion] = {}
    for row in rows:  # an empty text and NULL are both "none"
        seen = merged.get(row.key)
        if seen is not None:
            row = SegmentConversion(row.key, seen.leads + row.leads, seen.converted + row.converted)
        merged[row.key] = row
    ordered = sorted(merged.values(), key=lambda r: (-r.leads, r.key is None, r.key or ""))
    total = SegmentConversion(None, sum(r.leads for r in ordered), sum(r.converted for r in ordered))
    return ConversionResult(params, start, end, total, ordered)


def _segment_column(session: PulsoSession, segment: str) -> Any:
    if segment in SEGMENTS:
        return getattr(Contact, segment)
    attribute = segment.partition(":")[2]
    if session.get_bind().dialect.name == "postgresql":
        return Contact.attributes.op("->>")(attribute)
    path = f'$."{attribute}"'
    kind = func.json_type(Contact.attributes, path)
    return case((kind.in_(("true", "false")), kind), else_=cast(func.json_extract(Contact.attributes, path), String))
