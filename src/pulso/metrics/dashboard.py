"""The executive dashboard's numbers: a KPI summary against the previous period, the live state, daily trends.

Query objects (STYLE.md point 7). Without filters the counts come from the gold ``daily_metrics`` (one row per
tenant, local day and metric), so a summary reads a few hundred rows whatever the tenant's size; with filters
they are counted on silver, because daily aggregates cannot be filtered by inbox, agent or campaign. Both paths
share the definitions below, and a test holds them equal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, literal, select

from pulso.metrics.calendar import period_start
from pulso.metrics.filters import Filters
from pulso.metrics.overview import DateRange, change
from pulso.metrics.support_timing import percentile_stats
from pulso.pipeline.gold.daily_metrics import local_day_totals
from pulso.store.models import (
    Agent,
    Campaign,
    CampaignSpend,
    Contact,
    Conversation,
    ConversationFactsRow,
    DailyMetric,
    Event,
    Feedback,
    Message,
    Order,
)
from pulso.store.models.silver import REVENUE_STATUSES
from pulso.store.session import PulsoSession

Unit = Literal["count", "ratio", "seconds", "money", "score"]
SERIES = ("conversations", "messages", "leads", "customers", "revenue", "spend")
Interval = Literal["day", "week", "month"]
INTERVALS: tuple[Interval, ...] = ("day", "week", "month")

DEFINITIONS: dict[str, str] = {
    "conversations": "Conversations created in the range (local days of the tenant's time zone).",
    "messages": "Messages (in, out and private notes) created in the range.",
    "leads": "Contacts whose became_lead_at is in the range.",
    "customers": "Contacts whose became_customer_at is in the range (new customers).",
    "lead_conversion": "Of the leads created in the range, the share that are customers now (became_customer_at set).",
    "revenue": f"Sum of the amounts of orders in status {', '.join(REVENUE_STATUSES)} ordered in the range.",
    "spend": "Campaign spend on the days of the range (campaign_spend.day).",
    "roi": "(revenue - spend) / spend over the range; none without spend.",
    "median_first_response": (
        "Median first response in seconds (gold conversation_facts: the first human reply, bot time excluded) over "
        "the conversations created in the range."
    ),
    "csat": (
        "Chatwoot's CSAT: CSAT ratings 4-5 over CSAT ratings x 100, answered in the range; with conversation "
        "filters, the answers of the conversations that pass them."
    ),
    "people": "Contacts merged into another by identity resolution are left out (their history moved).",
    "filters": (
        "Without filters, counts come from gold daily_metrics; with filters, from silver: conversations and messages "
        "by the conversation filters, leads, customers and revenue by the contact filters, spend by campaign (name) "
        "and channel (the campaign's channel)."
    ),
}
HIGHER_IS_BETTER = {"median_first_response": False}


@dataclass(frozen=True)
class SummaryParams:
    date_range: DateRange
    timezone: str
    filters: Filters = field(default_factory=Filters)

    def __post_init__(self) -> None:
        ZoneInfo(self.timezone)


@dataclass(frozen=True)
class SummaryKpi:
    key: str
    unit: Unit
    value: float | None
    previous: float | None

    @property
    def change(self) -> float | None:
        return change(self.value, self.previous, in_points=self.unit in ("ratio", "score"))

    @property
    def higher_is_better(self) -> bool:
        return HIGHER_IS_BETTER.get(self.key, True)


@dataclass(frozen=True)
class SummaryResult:
    params: SummaryParams
    start_utc: datetime
    end_utc: datetime
    previous_range: DateRange
    source: Literal["gold", "silver"]
    kpis: tuple[SummaryKpi, ...]
    definitions: dict[str, str] = field(default_factory=lambda: dict(DEFINITIONS))

    def kpi(self, key: str) -> SummaryKpi:
        return next(k for k in self.kpis if k.key == key)


def summary(session: PulsoSession, params: SummaryParams) -> SummaryResult:
    """The KPIs for the range and for the period of equal length before it."""
    current, previous = params.date_range, params.date_range.previous()
    now = _period(session, params, current)
    before = _period(session, params, previous)
    units: dict[str, Unit] = {
        "conversations": "count",
        "messages": "count",
        "leads": "count",
        "customers": "count",
        "lead_conversion": "ratio",
        "revenue": "money",
        "spend": "money",
        "roi": "ratio",
        "median_first_response": "seconds",
        "csat": "score",
    }
    kpis = tuple(SummaryKpi(key, unit, now.get(key), before.get(key)) for key, unit in units.items())
    start, end = current.utc_bounds(params.timezone)
    source: Literal["gold", "silver"] = "silver" if params.filters.active else "gold"
    return SummaryResult(params, start, end, previous, source, kpis)


def _period(session: PulsoSession, params: SummaryParams, days: DateRange) -> dict[str, float | None]:
    start, end = days.utc_bounds(params.timezone)
    counts = _counts(session, params.filters, days, start, end)
    spend, revenue = counts["spend"], counts["revenue"]
    lead_rows = session.execute(
        select(func.count(), func.count(Contact.became_customer_at)).where(
            Contact.became_lead_at >= start, Contact.became_lead_at < end, *_contact_conditions(params.filters)
        )
    ).one()
    facts = ConversationFactsRow
    answered = select(literal(0).label("g"), facts.first_response_seconds.label("v")).where(
        facts.created_at >= start, facts.created_at < end, facts.first_response_seconds.is_not(None)
    )
    if params.filters.active:  # conversations are joined only for the global filters
        answered = answered.join(Conversation, Conversation.id == facts.conversation_id)
        answered = answered.where(*params.filters.conversation_conditions())
    median = percentile_stats(session, answered.subquery(), grouped=False, only=("median",))[0].median
    csat_answers, satisfied = session.execute(
        select(func.count(), func.count().filter(Feedback.score >= 4)).where(
            Feedback.kind == "csat",
            Feedback.answered_at >= start,
            Feedback.answered_at < end,
            *_feedback_conditions(params.filters),
        )
    ).one()
    return {
        **counts,
        "lead_conversion": lead_rows[1] / lead_rows[0] if lead_rows[0] else None,
        "roi": (revenue - spend) / spend if spend else None,
        "median_first_response": median,
        "csat": satisfied * 100 / csat_answers if csat_answers else None,
    }


def _counts(
    session: PulsoSession, filters: Filters, days: DateRange, start: datetime, end: datetime
) -> dict[str, float]:
    spend = _spend(session, filters, days.start, days.end)
    if not filters.active:
        rows = session.execute(
            select(DailyMetric.metric, func.sum(DailyMetric.value))
            .where(DailyMetric.day >= days.start, DailyMetric.day <= days.end)
            .where(DailyMetric.metric.in_(("conversations", "messages", "leads", "customers", "revenue")))
            .group_by(DailyMetric.metric)
        ).all()
        found = {metric: float(value) for metric, value in rows}
        return {name: found.get(name, 0.0) for name in SERIES[:-1]} | {"spend": spend}
    conversations = session.scalar(
        select(func.count())
        .select_from(Conversation)
        .where(Conversation.created_at >= start, Conversation.created_at < end, *filters.conversation_conditions())
    )
    messages = session.scalar(
        select(func.count())
        .select_from(Message)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(Message.created_at >= start, Message.created_at < end, *filters.conversation_conditions())
    )
    contact = _contact_conditions(filters)
    leads = session.scalar(
        select(func.count()).where(Contact.became_lead_at >= start, Contact.became_lead_at < end, *contact)
    )
    customers = session.scalar(
        select(func.count()).where(Contact.became_customer_at >= start, Contact.became_customer_at < end, *contact)
    )
    revenue = session.scalar(
        select(func.coalesce(func.sum(Order.amount), 0)).where(
            Order.ordered_at >= start, Order.ordered_at < end, *_order_conditions(filters)
        )
    )
    return {
        "conversations": float(conversations or 0),
        "messages": float(messages or 0),
        "leads": float(leads or 0),
        "customers": float(customers or 0),
        "revenue": float(revenue or 0),
        "spend": spend,
    }


def _contact_conditions(filters: Filters) -> list[ColumnElement[bool]]:
    """People as the filters select them, leaving out contacts merged into another (their history moved)."""
    return [Contact.merged_into_id.is_(None), *filters.contact_conditions()]


def _feedback_conditions(filters: Filters) -> list[ColumnElement[bool]]:
    """Answers of the conversations that pass the conversation filters (answers without one pass no filter)."""
    conversation = filters.conversation_conditions()
    if not conversation:
        return []
    return [Feedback.conversation_id.in_(select(Conversation.id).where(*conversation))]


def _order_conditions(filters: Filters) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = [Order.status.in_(REVENUE_STATUSES)]
    contact = filters.contact_conditions()
    if contact:
        found.append(Order.contact_id.in_(select(Contact.id).where(*contact)))
    return found


def _spend_conditions(filters: Filters) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if filters.campaigns:
        found.append(Campaign.name.in_(filters.campaigns))
    if filters.channels:
        found.append(Campaign.channel.in_(filters.channels))
    return found


def _spend(session: PulsoSession, filters: Filters, first: date, last: date) -> float:
    total = session.scalar(
        select(func.coalesce(func.sum(CampaignSpend.cost), 0))
        .join(Campaign, Campaign.id == CampaignSpend.campaign_id)
        .where(CampaignSpend.day >= first, CampaignSpend.day <= last, *_spend_conditions(filters))
    )
    return float(total or 0)


# ---------------------------------------------------------------- trends


@dataclass(frozen=True)
class TrendsParams:
    date_range: DateRange
    timezone: str
    interval: Interval = "day"
    filters: Filters = field(default_factory=Filters)

    def __post_init__(self) -> None:
        if self.interval not in INTERVALS:
            raise ValueError(f"interval must be one of {', '.join(INTERVALS)}, got {self.interval!r}")
        ZoneInfo(self.timezone)


@dataclass(frozen=True)
class TrendsResult:
    params: TrendsParams
    start_utc: datetime
    end_utc: datetime
    source: Literal["gold", "silver"]
    periods: tuple[date, ...]  # the first local day of each interval (weeks start on Monday)
    series: dict[str, tuple[float, ...]]
    previous_totals: dict[str, float]  # the same metrics over the period of equal length before the range
    definitions: dict[str, str] = field(default_factory=lambda: {k: DEFINITIONS[k] for k in (*SERIES, "filters")})

    @property
    def totals(self) -> dict[str, float]:
        return {name: sum(values) for name, values in self.series.items()}


def trends(session: PulsoSession, params: TrendsParams) -> TrendsResult:
    """Each series per day, week or month of the range, with the previous period's totals to compare."""
    daily = _daily(session, params, params.date_range)
    previous = _daily(session, params, params.date_range.previous())
    periods = sorted({period_start(day, params.interval) for day in params.date_range.dates()})
    index = {start: i for i, start in enumerate(periods)}
    series: dict[str, tuple[float, ...]] = {}
    for name in SERIES:
        sums = [0.0] * len(periods)
        for day, value in daily[name].items():
            sums[index[period_start(day, params.interval)]] += value
        series[name] = tuple(sums)
    start, end = params.date_range.utc_bounds(params.timezone)
    source: Literal["gold", "silver"] = "silver" if params.filters.active else "gold"
    totals = {name: sum(values.values()) for name, values in previous.items()}
    return TrendsResult(params, start, end, source, tuple(periods), series, totals)


def _daily(session: PulsoSession, params: TrendsParams, days: DateRange) -> dict[str, dict[date, float]]:
    """Each series per local day of ``days`` (days without a value are left out)."""
    inside: dict[str, dict[date, float]] = {name: {} for name in SERIES}
    spend_rows = session.execute(
        select(CampaignSpend.day, func.sum(CampaignSpend.cost))
        .join(Campaign, Campaign.id == CampaignSpend.campaign_id)
        .where(CampaignSpend.day >= days.start, CampaignSpend.day <= days.end, *_spend_conditions(params.filters))
        .group_by(CampaignSpend.day)
    ).all()
    inside["spend"] = {day: float(cost) for day, cost in spend_rows}
    if not params.filters.active:
        rows = session.execute(
            select(DailyMetric.day, DailyMetric.metric, DailyMetric.value).where(
                DailyMetric.day >= days.start, DailyMetric.day <= days.end, DailyMetric.metric.in_(SERIES[:-1])
            )
        ).all()
        for day, metric, value in rows:
            inside[metric][day] = float(value)
        return inside
    zone = ZoneInfo(params.timezone)
    start, end = days.utc_bounds(params.timezone)
    conversation = params.filters.conversation_conditions()
    contact = _contact_conditions(params.filters)
    in_conversation = Message.conversation_id.in_(select(Conversation.id).where(*conversation))
    sources: dict[str, tuple[Any, Any, list[Any]]] = {
        "conversations": (Conversation.created_at, func.count(), conversation),
        "messages": (Message.created_at, func.count(), [in_conversation] if conversation else []),
        "leads": (Contact.became_lead_at, func.count(), contact),
        "customers": (Contact.became_customer_at, func.count(), contact),
        "revenue": (Order.ordered_at, func.coalesce(func.sum(Order.amount), 0), _order_conditions(params.filters)),
    }
    for name, (column, aggregate, conditions) in sources.items():
        totals = local_day_totals(session, column, aggregate, [*conditions, column < end], start, zone)
        inside[name] = {day: value for day, value in totals.items() if days.start <= day <= days.end}
    return inside


# ---------------------------------------------------------------- realtime


@dataclass(frozen=True)
class RealtimeResult:
    as_of: datetime
    open_conversations: int
    unassigned_open: int
    waiting_first_response: int  # open, no reply yet
    oldest_wait_seconds: float | None  # the longest of those waits so far
    conversations_today: int  # created since local midnight
    messages_last_hour: int
    incoming_last_hour: int
    events_last_hour: int
    agents_active_last_hour: int  # humans who sent a reply in the last hour
    definitions: dict[str, str] = field(
        default_factory=lambda: {
            "now": "The state as of `as_of` (UTC); conversations today count from the tenant's local midnight.",
            "waiting_first_response": "Open conversations with no first reply yet; oldest_wait_seconds is the "
            "longest time one of them has waited so far.",
            "agents_active_last_hour": "Human agents who sent a non-private outgoing message in the last hour.",
        }
    )


def realtime(session: PulsoSession, timezone: str, *, now: datetime | None = None) -> RealtimeResult:
    """What is happening now: open work, waits, and the last hour's traffic."""
    now = now or datetime.now(UTC)
    zone = ZoneInfo(timezone)
    midnight = datetime.combine(now.astimezone(zone).date(), datetime.min.time(), tzinfo=zone).astimezone(UTC)
    hour_ago = now - timedelta(hours=1)
    is_open = Conversation.status == "open"
    open_rows = session.execute(
        select(
            func.count(),
            func.count().filter(Conversation.assignee_agent_id.is_(None)),
            func.count().filter(Conversation.first_reply_at.is_(None)),
            func.min(Conversation.created_at).filter(Conversation.first_reply_at.is_(None)),
        ).where(is_open)
    ).one()
    oldest = open_rows[3]
    if isinstance(oldest, str):  # an aggregate over a UTC column comes back as text on SQLite
        oldest = datetime.fromisoformat(oldest)
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    today = session.scalar(select(func.count()).select_from(Conversation).where(Conversation.created_at >= midnight))
    message_rows = session.execute(
        select(func.count(), func.count().filter(Message.direction == "incoming")).where(Message.created_at >= hour_ago)
    ).one()
    events = session.scalar(select(func.count()).select_from(Event).where(Event.occurred_at >= hour_ago))
    agents = session.scalar(
        select(func.count(func.distinct(Message.agent_id)))
        .join(Agent, Agent.id == Message.agent_id)
        .where(
            Message.created_at >= hour_ago,
            Message.direction == "outgoing",
            Message.is_private.is_(False),
            Agent.kind == "human",
        )
    )
    return RealtimeResult(
        as_of=now,
        open_conversations=int(open_rows[0]),
        unassigned_open=int(open_rows[1]),
        waiting_first_response=int(open_rows[2]),
        oldest_wait_seconds=max(0.0, (now - oldest).total_seconds()) if oldest is not None else None,
        conversations_today=int(today or 0),
        messages_last_hour=int(message_rows[0]),
        incoming_last_hour=int(message_rows[1]),
        events_last_hour=int(events or 0),
        agents_active_last_hour=int(agents or 0),
    )
