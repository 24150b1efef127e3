"""Support timing from the per-conversation facts: first response, reply and resolution times, and SLA compliance.

Query objects (STYLE.md point 7): :class:`TimingParams` -> :class:`TimingResult` and :class:`SlaParams` ->
:class:`SlaResult`, each carrying the resolved range and the definitions used. Everything is computed in SQL on
both databases, percentiles included: values are ranked with window functions and only the one or two ranks each
percentile needs come back, to be interpolated linearly (PostgreSQL's ``percentile_cont``, numpy's default).

The range selects conversations by their creation time in the tenant's time zone; the hour and weekday breakdowns
use that same local creation time. Times are in seconds, wall-clock or, with ``business_hours``, counted only inside
the inbox's working hours (conversations of inboxes without working hours have no business-hours values).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import Float, Integer, case, cast, func, literal, or_, select, true

from pulso.metrics.filters import Filters
from pulso.metrics.overview import DateRange
from pulso.store.models import Conversation, ConversationFactsRow
from pulso.store.session import PulsoSession
from pulso.store.sqltime import local_part

Metric = Literal["first_response", "reply", "resolution"]
METRICS: tuple[Metric, ...] = ("first_response", "reply", "resolution")
Breakdown = Literal["none", "agent", "inbox", "team", "hour", "weekday"]
BREAKDOWNS: tuple[Breakdown, ...] = ("none", "agent", "inbox", "team", "hour", "weekday")
# each percentile as a fraction num/den, so rank arithmetic stays in integers on every database
PERCENTILES = {"median": (1, 2), "p90": (9, 10), "p95": (19, 20), "p99": (99, 100)}

DEFINITIONS = {
    "first_response": (
        "Seconds from the conversation's creation, or from the last bot hand-off or reopen before it, to the first "
        "human, non-private outgoing reply (bot time excluded); one value per conversation. Per agent: the agent who "
        "gave that reply."
    ),
    "reply": (
        "Seconds a contact waited for each later human reply (Chatwoot's reply time, replayed from the timeline); "
        "several values per conversation. Per agent: the conversation's assignee."
    ),
    "resolution": (
        "Seconds from creation to the conversation's last resolve, for resolved conversations. Per agent: the "
        "conversation's assignee."
    ),
    "percentiles": "Linear interpolation between ranks (PostgreSQL's percentile_cont; numpy's default).",
    "hour": "The conversation's local creation hour, 0-23, in the tenant's time zone.",
    "weekday": "The conversation's local creation weekday, 1 (Monday) to 7 (Sunday).",
}


@dataclass(frozen=True)
class TimingParams:
    date_range: DateRange
    timezone: str
    breakdown: Breakdown = "none"
    business_hours: bool = False
    inbox_ids: tuple[int, ...] = ()
    agent_ids: tuple[int, ...] = ()  # the conversation's assignee
    team_ids: tuple[int, ...] = ()
    filters: Filters = field(default_factory=Filters)  # the other global filters (channel, campaign, status...)

    def __post_init__(self) -> None:
        if self.breakdown not in BREAKDOWNS:
            raise ValueError(f"breakdown must be one of {', '.join(BREAKDOWNS)}, got {self.breakdown!r}")
        ZoneInfo(self.timezone)  # raises for an unknown zone


@dataclass(frozen=True)
class TimingStats:
    """One metric over one group, in seconds (None when nothing was measured)."""

    key: str | None
    count: int
    mean: float | None
    median: float | None
    p90: float | None
    p95: float | None
    p99: float | None


@dataclass(frozen=True)
class TimingResult:
    params: TimingParams
    start_utc: datetime
    end_utc: datetime
    totals: dict[Metric, TimingStats]
    rows: dict[Metric, list[TimingStats]]  # per group of the breakdown (empty without one), in key order
    definitions: dict[str, str] = field(default_factory=lambda: dict(DEFINITIONS))


@dataclass(frozen=True)
class HeatmapCell:
    weekday: int  # 1 Monday .. 7 Sunday
    hour: int
    conversations: int
    median_first_response: float | None


def support_timing(session: PulsoSession, params: TimingParams) -> TimingResult:
    start, end = params.date_range.utc_bounds(params.timezone)
    totals: dict[Metric, TimingStats] = {}
    rows: dict[Metric, list[TimingStats]] = {}
    for metric in METRICS:
        values = _values(session, params, metric, start, end)
        totals[metric] = percentile_stats(session, values, grouped=False)[0]
        rows[metric] = percentile_stats(session, values, grouped=True) if params.breakdown != "none" else []
    return TimingResult(params, start, end, totals, rows)


def heatmap(session: PulsoSession, params: TimingParams) -> list[HeatmapCell]:
    """Conversations and median first response per local (weekday, hour): the cells that have conversations."""
    start, end = params.date_range.utc_bounds(params.timezone)
    weekday = local_part(session, ConversationFactsRow.created_at, params.timezone, "isodow")
    hour = local_part(session, ConversationFactsRow.created_at, params.timezone, "hour")
    cell = (weekday * 100 + hour).label("g")  # one group key: 100 * weekday + hour
    counts: dict[Any, Any] = dict(
        session.execute(
            select(cell, func.count())
            .select_from(ConversationFactsRow)
            .join(Conversation, Conversation.id == ConversationFactsRow.conversation_id)
            .where(*_scope(params, start, end))
            .group_by(cell)
        ).all()
    )
    values = _values(session, params, "first_response", start, end, key=cell)
    medians = {s.key: s.median for s in percentile_stats(session, values, grouped=True, only=("median",))}
    return [
        HeatmapCell(int(g) // 100, int(g) % 100, int(n), medians.get(str(g)))
        for g, n in sorted(counts.items(), key=lambda item: int(item[0]))
    ]


def _scope(params: TimingParams, start: datetime, end: datetime) -> list[Any]:
    found = [ConversationFactsRow.created_at >= start, ConversationFactsRow.created_at < end]
    if params.inbox_ids:
        found.append(Conversation.inbox_id.in_(params.inbox_ids))
    if params.agent_ids:
        found.append(Conversation.assignee_agent_id.in_(params.agent_ids))
    if params.team_ids:
        found.append(Conversation.team_id.in_(params.team_ids))
    return found + params.filters.conversation_conditions()


def _group_key(session: PulsoSession, params: TimingParams, metric: Metric) -> Any:
    facts = ConversationFactsRow
    if params.breakdown == "agent":
        return facts.first_response_agent_id if metric == "first_response" else Conversation.assignee_agent_id
    if params.breakdown == "inbox":
        return Conversation.inbox_id
    if params.breakdown == "team":
        return Conversation.team_id
    if params.breakdown in ("hour", "weekday"):
        return local_part(
            session, facts.created_at, params.timezone, "hour" if params.breakdown == "hour" else "isodow"
        )
    return literal(None)


def _values(
    session: PulsoSession, params: TimingParams, metric: Metric, start: datetime, end: datetime, key: Any = None
) -> Any:
    """A subquery of (g, v): the metric's values with their group key, one row per measurement."""
    facts = ConversationFactsRow
    group = (key if key is not None else _group_key(session, params, metric)).label("g")
    base = select(group).select_from(facts).join(Conversation, Conversation.id == facts.conversation_id)
    base = base.where(*_scope(params, start, end))
    if metric == "first_response":
        value = facts.first_response_business_seconds if params.business_hours else facts.first_response_seconds
        return base.add_columns(value.label("v")).where(value.is_not(None)).subquery()
    if metric == "resolution":
        value = facts.resolution_business_seconds if params.business_hours else facts.resolution_seconds
        resolved = Conversation.status == "resolved"
        return base.add_columns(value.label("v")).where(value.is_not(None), resolved).subquery()
    index = 1 if params.business_hours else 0  # reply_times holds [seconds, business seconds] pairs
    reply: Any
    if session.get_bind().dialect.name == "postgresql":
        element = func.jsonb_array_elements(facts.reply_times).table_valued("value").render_derived()  # AS x(value)
        reply = cast(element.c.value.op("->>")(index), Integer)
    else:
        element = func.json_each(facts.reply_times).table_valued("value")  # json_each names its columns itself
        reply = cast(func.json_extract(element.c.value, f"$[{index}]"), Integer)
    return base.add_columns(reply.label("v")).join(element, true()).where(reply.is_not(None)).subquery()


def percentile_stats(
    session: PulsoSession, values: Any, *, grouped: bool, only: tuple[str, ...] = tuple(PERCENTILES)
) -> list[TimingStats]:
    """Count, mean and percentiles of ``values`` (a subquery with columns g, the group, and v, the value) per group
    or over all, in one pass: each value is ranked within its group, and only the first rank (which carries the
    group's count and mean) and the ranks the percentiles need come back. Shared by every metric with percentiles."""
    group = values.c.g if grouped else literal(0)
    ranked = select(
        group.label("g"),
        values.c.v,
        func.row_number().over(partition_by=group, order_by=values.c.v).label("rn"),
        func.count().over(partition_by=group).label("n"),
        func.avg(cast(values.c.v, Float)).over(partition_by=group).label("mean"),
    ).subquery()
    needed = [ranked.c.rn == 1]
    for name in only:
        num, den = PERCENTILES[name]
        low = (ranked.c.n - 1) * num // den + 1  # integer division: the rank at or below the percentile
        needed.append(or_(ranked.c.rn == low, ranked.c.rn == low + 1))
    picked: dict[Any, dict[int, float]] = defaultdict(dict)
    summary: dict[Any, tuple[int, float | None]] = {}
    query = select(ranked.c.g, ranked.c.v, ranked.c.rn, ranked.c.n, ranked.c.mean).where(or_(*needed))
    for g, v, rn, n, mean in session.execute(query).all():
        picked[g][int(rn)] = float(v)
        summary[g] = (int(n), float(mean) if mean is not None else None)
    stats = []
    for g in sorted(summary, key=lambda key: (key is None, key if key is not None else 0)):
        n, mean = summary[g]
        percentiles = {name: interpolate(picked[g], n, *PERCENTILES[name]) for name in only}
        key = None if not grouped or g is None else str(g)
        stats.append(
            TimingStats(
                key,
                n,
                mean,
                percentiles.get("median"),
                percentiles.get("p90"),
                percentiles.get("p95"),
                percentiles.get("p99"),
            )
        )
    if not grouped and not stats:
        stats.append(TimingStats(None, 0, None, None, None, None, None))
    return stats


def interpolate(ranks: dict[int, float], n: int, num: int, den: int) -> float:
    """The percentile num/den of n sorted values, from the values at ranks (1-based) floor(p(n-1))+1 and the next."""
    position = (n - 1) * num / den
    low = int((n - 1) * num // den)
    fraction = position - low
    value = ranks[low + 1]
    return value + fraction * (ranks[low + 2] - value) if fraction else value


# ---------------------------------------------------------------- SLA compliance


@dataclass(frozen=True)
class SlaThresholds:
    """Tenant targets in seconds; None leaves that metric out. Read from ``tenants.settings['sla']``."""

    first_response: int | None = 300
    next_response: int | None = None
    resolution: int | None = None

    @classmethod
    def from_settings(cls, settings: dict[str, Any] | None) -> SlaThresholds:
        sla = (settings or {}).get("sla") or {}
        unknown = set(sla) - {"first_response", "next_response", "resolution"}
        if unknown:
            raise ValueError(f"settings.sla: unknown keys {', '.join(sorted(unknown))}")
        found = {}
        for name in ("first_response", "next_response", "resolution"):
            if name in sla:
                value = sla[name]
                if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value <= 0):
                    raise ValueError(f"settings.sla.{name}: a positive number of seconds or null, got {value!r}")
                found[name] = value
        return cls(**found)

    def targets(self) -> dict[Metric, int]:
        named: dict[Metric, int | None] = {
            "first_response": self.first_response,
            "reply": self.next_response,
            "resolution": self.resolution,
        }
        return {metric: seconds for metric, seconds in named.items() if seconds is not None}


@dataclass(frozen=True)
class SlaRow:
    key: str | None
    measured: int
    breached: int

    @property
    def within(self) -> int:
        return self.measured - self.breached

    @property
    def compliance(self) -> float | None:
        return self.within / self.measured if self.measured else None


@dataclass(frozen=True)
class SlaBreach:
    conversation_id: int
    external_id: str
    metric: Metric
    seconds: int  # the worst value of the conversation for that metric
    threshold: int


@dataclass(frozen=True)
class SlaResult:
    params: TimingParams
    thresholds: SlaThresholds
    start_utc: datetime
    end_utc: datetime
    totals: dict[Metric, SlaRow]
    rows: dict[Metric, list[SlaRow]]
    breaches: list[SlaBreach]  # the worst first, at most ``limit``
    definition: str = (
        "A measurement is within the SLA when it is at most the tenant's threshold (first response: each "
        "conversation's first response; next response: every reply time; resolution: each resolved conversation). "
        "Compliance = within / measured."
    )


def sla_compliance(
    session: PulsoSession, params: TimingParams, thresholds: SlaThresholds, *, limit: int = 100
) -> SlaResult:
    if params.breakdown not in ("none", "agent", "team", "inbox"):
        raise ValueError(f"SLA compliance breaks down by agent, team or inbox, not {params.breakdown!r}")
    start, end = params.date_range.utc_bounds(params.timezone)
    totals: dict[Metric, SlaRow] = {}
    rows: dict[Metric, list[SlaRow]] = {}
    breaches: list[SlaBreach] = []
    for metric, threshold in thresholds.targets().items():
        values = _values(session, params, metric, start, end)
        over = func.coalesce(func.sum(case((values.c.v > threshold, 1), else_=0)), 0)
        grouped = session.execute(select(values.c.g, func.count(), over).group_by(values.c.g)).all()
        found = [SlaRow(None if g is None else str(g), int(n), int(b)) for g, n, b in grouped]
        found.sort(key=lambda row: (row.key is None, int(row.key) if row.key else 0))
        totals[metric] = SlaRow(None, sum(r.measured for r in found), sum(r.breached for r in found))
        rows[metric] = found if params.breakdown != "none" else []
        breaches += _breaches(session, params, metric, threshold, start, end, limit)
    breaches.sort(key=lambda b: b.seconds - b.threshold, reverse=True)
    return SlaResult(params, thresholds, start, end, totals, rows, breaches[:limit])


def _breaches(
    session: PulsoSession,
    params: TimingParams,
    metric: Metric,
    threshold: int,
    start: datetime,
    end: datetime,
    limit: int,
) -> list[SlaBreach]:
    facts = ConversationFactsRow
    keyed = _values(session, params, metric, start, end, key=facts.conversation_id)
    worst = func.max(keyed.c.v)
    query = (
        select(keyed.c.g, Conversation.external_id, worst)
        .join(Conversation, Conversation.id == keyed.c.g)
        .where(keyed.c.v > threshold)
        .group_by(keyed.c.g, Conversation.external_id)
        .order_by(worst.desc())
        .limit(limit)
    )
    return [SlaBreach(int(c), str(e), metric, int(s), threshold) for c, e, s in session.execute(query).all()]
