"""The tenant overview: four KPIs over a date range (with the previous period) and the daily chart series.

A query object in the house style: typed parameters in (:class:`OverviewParams`), typed result out
(:class:`OverviewResult`) carrying the resolved date range and each KPI's definition, so the HTML page, a JSON
endpoint or a CSV export all show the same numbers with the same meaning. Day boundaries are the tenant's
local midnights; timestamps in the database are UTC.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select

from pulso.store.models import Agent, Contact, Conversation, DailyMetric
from pulso.store.session import PulsoSession

PERIOD_CHOICES = (7, 30, 90, 180)
DEFAULT_PERIOD_DAYS = 30
CHART_METRICS = ("conversations", "leads")

KpiKey = Literal["conversations", "leads", "lead_conversion", "median_first_response"]
KpiUnit = Literal["count", "ratio", "seconds"]

DEFINITIONS: dict[KpiKey, str] = {
    "conversations": "Conversations created in the range.",
    "leads": "Contacts whose became_lead_at is in the range (whatever their lifecycle stage is now).",
    "lead_conversion": "Of the leads created in the range, the share with became_customer_at set.",
    "median_first_response": (
        "Median of first_reply_at - created_at over the conversations created in the range that have a first "
        "reply, leaving out conversations assigned to a bot (as Chatwoot does: the team's response time, not the "
        "bot's); replies stamped before creation are ignored as clock errors."
    ),
}


@dataclass(frozen=True)
class DateRange:
    """Whole local days, ``start`` and ``end`` both included."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise ValueError(f"date range starts ({self.start}) after it ends ({self.end})")

    @classmethod
    def last_days(cls, days: int, *, today: date) -> DateRange:
        """The ``days`` days ending with ``today`` (included)."""
        if days <= 0:
            raise ValueError(f"days must be positive, got {days}")
        return cls(today - timedelta(days=days - 1), today)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> DateRange:
        """The period of equal length just before this one."""
        return DateRange(self.start - timedelta(days=self.days), self.start - timedelta(days=1))

    def dates(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range(self.days)]

    def utc_bounds(self, timezone: str) -> tuple[datetime, datetime]:
        """``[first local midnight, the local midnight after the last day)`` as UTC instants."""
        zone = ZoneInfo(timezone)
        start = datetime.combine(self.start, time.min, tzinfo=zone).astimezone(UTC)
        end = datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=zone).astimezone(UTC)
        return start, end


def today_in(timezone: str, *, now: datetime | None = None) -> date:
    """The current calendar day in a time zone."""
    return (now or datetime.now(UTC)).astimezone(ZoneInfo(timezone)).date()


@dataclass(frozen=True)
class OverviewParams:
    tenant_id: int
    date_range: DateRange
    timezone: str

    @classmethod
    def last_days(
        cls, tenant_id: int, timezone: str, days: int = DEFAULT_PERIOD_DAYS, *, today: date | None = None
    ) -> OverviewParams:
        """The default range: the last ``days`` days ending today in the tenant's time zone."""
        return cls(tenant_id, DateRange.last_days(days, today=today or today_in(timezone)), timezone)


def change(value: float | None, previous: float | None, *, in_points: bool) -> float | None:
    """From ``previous`` to ``value``: in points for ratios and scores (0.05 = five percentage points), otherwise
    relatively (none from zero)."""
    if value is None or previous is None:
        return None
    if in_points:
        return value - previous
    return (value - previous) / abs(previous) if previous else None


@dataclass(frozen=True)
class Kpi:
    """One KPI for the range and for the previous period of equal length (None: nothing to measure)."""

    key: KpiKey
    unit: KpiUnit
    value: float | None
    previous: float | None
    definition: str
    higher_is_better: bool = True
    # What the value summarises in the range: converted/leads for the conversion, answered conversations
    # for the median first response. None where the value is a plain count.
    numerator: int | None = None
    denominator: int | None = None

    @property
    def change(self) -> float | None:
        return change(self.value, self.previous, in_points=self.unit == "ratio")

    @property
    def change_is_good(self) -> bool | None:
        change = self.change
        if change is None or change == 0:
            return None
        return (change > 0) == self.higher_is_better


@dataclass(frozen=True)
class DailySeries:
    """Gold ``daily_metrics`` values per local day, zeros where the pipeline wrote no row."""

    days: tuple[date, ...]
    values: dict[str, tuple[float, ...]]


@dataclass(frozen=True)
class OverviewResult:
    params: OverviewParams
    date_range: DateRange
    previous_range: DateRange
    kpis: tuple[Kpi, ...]
    leads_by_stage: dict[str, int] = field(default_factory=dict)
    daily: DailySeries | None = None

    def kpi(self, key: KpiKey) -> Kpi:
        return next(k for k in self.kpis if k.key == key)


@dataclass(frozen=True)
class _PeriodNumbers:
    conversations: int
    leads: int
    leads_converted: int
    leads_by_stage: dict[str, int]
    first_response_seconds: list[float]

    @property
    def conversion(self) -> float | None:
        return self.leads_converted / self.leads if self.leads else None

    @property
    def median_first_response(self) -> float | None:
        return median(self.first_response_seconds)


def median(values: Sequence[float]) -> float | None:
    """The median, or None for no values; the same in Python whatever the database."""
    return float(statistics.median(values)) if values else None


class OverviewQuery:
    """Computes the overview for one tenant; run it inside that tenant's :func:`tenant_session`."""

    def __init__(self, params: OverviewParams) -> None:
        self.params = params

    def run(self, session: PulsoSession) -> OverviewResult:
        if session.tenant_id != self.params.tenant_id:
            raise ValueError(f"overview for tenant {self.params.tenant_id} run in tenant {session.tenant_id}'s session")
        current_range = self.params.date_range
        previous_range = current_range.previous()
        current = self._period(session, current_range)
        previous = self._period(session, previous_range)
        kpis = (
            Kpi("conversations", "count", current.conversations, previous.conversations, DEFINITIONS["conversations"]),
            Kpi("leads", "count", current.leads, previous.leads, DEFINITIONS["leads"]),
            Kpi(
                "lead_conversion",
                "ratio",
                current.conversion,
                previous.conversion,
                DEFINITIONS["lead_conversion"],
                numerator=current.leads_converted,
                denominator=current.leads,
            ),
            Kpi(
                "median_first_response",
                "seconds",
                current.median_first_response,
                previous.median_first_response,
                DEFINITIONS["median_first_response"],
                higher_is_better=False,
                denominator=len(current.first_response_seconds),
            ),
        )
        return OverviewResult(
            params=self.params,
            date_range=current_range,
            previous_range=previous_range,
            kpis=kpis,
            leads_by_stage=current.leads_by_stage,
            daily=self._daily(session, current_range),
        )

    def _period(self, session: PulsoSession, date_range: DateRange) -> _PeriodNumbers:
        tenant_id = self.params.tenant_id
        start, end = date_range.utc_bounds(self.params.timezone)
        created_in_range = (
            Conversation.tenant_id == tenant_id,
            Conversation.created_at >= start,
            Conversation.created_at < end,
        )
        conversations = session.scalar(select(func.count()).select_from(Conversation).where(*created_in_range)) or 0

        lead_rows = session.execute(
            select(Contact.lifecycle_stage, func.count(), func.count(Contact.became_customer_at))
            .where(Contact.tenant_id == tenant_id, Contact.became_lead_at >= start, Contact.became_lead_at < end)
            .group_by(Contact.lifecycle_stage)
        ).all()
        leads_by_stage = {stage: int(n) for stage, n, _ in lead_rows}

        replies = session.execute(
            select(Conversation.created_at, Conversation.first_reply_at)
            .outerjoin(Agent, Agent.id == Conversation.assignee_agent_id)
            .where(
                *created_in_range,
                Conversation.first_reply_at.is_not(None),
                or_(Agent.kind.is_(None), Agent.kind != "bot"),
            )
        ).all()
        durations = [
            seconds
            for created_at, first_reply_at in replies
            if first_reply_at is not None and (seconds := (first_reply_at - created_at).total_seconds()) >= 0
        ]
        return _PeriodNumbers(
            conversations=int(conversations),
            leads=sum(leads_by_stage.values()),
            leads_converted=sum(int(converted) for _, _, converted in lead_rows),
            leads_by_stage=leads_by_stage,
            first_response_seconds=durations,
        )

    def _daily(self, session: PulsoSession, date_range: DateRange) -> DailySeries | None:
        rows = session.execute(
            select(DailyMetric.day, DailyMetric.metric, DailyMetric.value).where(
                DailyMetric.tenant_id == self.params.tenant_id,
                DailyMetric.day >= date_range.start,
                DailyMetric.day <= date_range.end,
                DailyMetric.metric.in_(CHART_METRICS),
            )
        ).all()
        if not rows:
            return None
        by_key = {(day, metric): float(value) for day, metric, value in rows}
        days = date_range.dates()
        return DailySeries(
            days=tuple(days),
            values={metric: tuple(by_key.get((day, metric), 0.0) for day in days) for metric in CHART_METRICS},
        )
