"""Support timing from the per-conversation facts: first response, reply and resolution times, and SLA compliance.

Query objects (STYLE.md point 7): :class:`TimingParams` -> :class:`TimingResult`, and with :class:`SlaThresholds` ->
:class:`SlaResult`, each carrying the resolved range and the definitions used. The database selects and filters
the facts (which carry the conversation's assignee, inbox, team and status; conversations are joined only for the
global filters) and aggregates each column into one array, every metric in the same scan
(:mod:`pulso.metrics.timing_columns`); numpy ranks the values and interpolates the percentiles linearly
(:mod:`pulso.metrics.percentiles`: PostgreSQL's ``percentile_cont``, numpy's default), and counts SLA breaches.

The range selects conversations by their creation time in the tenant's time zone; the hour and weekday breakdowns
use that same local creation time. Times are in seconds, wall-clock or, with ``business_hours``, counted only inside
the inbox's working hours (conversations of inboxes without working hours have no business-hours values).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import func, select

from pulso.metrics.filters import Filters
from pulso.metrics.overview import DateRange
from pulso.metrics.percentiles import NO_KEY, order_stats, summarize
from pulso.metrics.percentiles import PERCENTILES as PERCENTILES
from pulso.metrics.percentiles import TimingStats as TimingStats
from pulso.metrics.percentiles import interpolate as interpolate
from pulso.metrics.percentiles import percentile_stats as percentile_stats
from pulso.metrics.timing_columns import KeyOf, Metric, MetricColumns, timing_columns
from pulso.store.models import Conversation, ConversationFactsRow
from pulso.store.session import PulsoSession
from pulso.store.sqltime import local_part

METRICS: tuple[Metric, ...] = ("first_response", "reply", "resolution")
Breakdown = Literal["none", "agent", "inbox", "team", "hour", "weekday"]
BREAKDOWNS: tuple[Breakdown, ...] = ("none", "agent", "inbox", "team", "hour", "weekday")

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
    keys: dict[str, KeyOf] = {}
    if params.breakdown != "none":
        keys["group"] = lambda facts, metric: _group_key(session, params, facts, metric)
    columns = _columns(session, params, start, end, METRICS, keys)
    totals: dict[Metric, TimingStats] = {}
    rows: dict[Metric, list[TimingStats]] = {}
    for metric in METRICS:
        totals[metric], rows[metric] = summarize(columns[metric].values, columns[metric].keys.get("group"))
    return TimingResult(params, start, end, totals, rows)


def heatmap(session: PulsoSession, params: TimingParams) -> list[HeatmapCell]:
    """Conversations and median first response per local (weekday, hour): the cells that have conversations."""
    start, end = params.date_range.utc_bounds(params.timezone)

    def cell(facts: Any, _metric: Metric = "first_response") -> Any:  # one group key: 100 * weekday + hour
        weekday = local_part(session, facts.created_at, params.timezone, "isodow")
        return weekday * 100 + local_part(session, facts.created_at, params.timezone, "hour")

    facts, key = ConversationFactsRow, cell(ConversationFactsRow).label("g")
    query = select(key, func.count()).select_from(facts)
    if params.filters.active:
        query = query.join(Conversation, Conversation.id == facts.conversation_id)
    in_range = [facts.created_at >= start, facts.created_at < end, *_scope(params, facts)]
    counts: dict[Any, Any] = dict(session.execute(query.where(*in_range).group_by(key)).all())
    first = _columns(session, params, start, end, ("first_response",), {"cell": cell})["first_response"]
    medians = {s.key: s.median for s in order_stats(first.values, first.keys["cell"], only=("median",))}
    return [
        HeatmapCell(int(g) // 100, int(g) % 100, int(n), medians.get(str(g)))
        for g, n in sorted(counts.items(), key=lambda item: int(item[0]))
    ]


def _scope(params: TimingParams, facts: Any) -> list[Any]:
    """Conditions besides the range, on the facts; the global filters' on conversations (joined only for them)."""
    found = []
    if params.inbox_ids:
        found.append(facts.inbox_id.in_(params.inbox_ids))
    if params.agent_ids:
        found.append(facts.assignee_agent_id.in_(params.agent_ids))
    if params.team_ids:
        found.append(facts.team_id.in_(params.team_ids))
    return found + params.filters.conversation_conditions()


def _columns(
    session: PulsoSession,
    params: TimingParams,
    start: datetime,
    end: datetime,
    metrics: Sequence[Metric],
    keys: dict[str, KeyOf],
) -> dict[Metric, MetricColumns]:
    return timing_columns(
        session,
        start,
        end,
        lambda facts: _scope(params, facts),
        join_conversations=bool(params.filters.active),
        business_hours=params.business_hours,
        metrics=metrics,
        keys=keys,
    )


def _group_key(session: PulsoSession, params: TimingParams, facts: Any, metric: Metric) -> Any:
    if params.breakdown == "agent":
        return facts.first_response_agent_id if metric == "first_response" else facts.assignee_agent_id
    if params.breakdown == "inbox":
        return facts.inbox_id
    if params.breakdown == "team":
        return facts.team_id
    return local_part(session, facts.created_at, params.timezone, "hour" if params.breakdown == "hour" else "isodow")


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
    targets = thresholds.targets()
    keys: dict[str, KeyOf] = {"conversation": lambda facts, _: facts.conversation_id}
    if params.breakdown != "none":
        keys["group"] = lambda facts, metric: _group_key(session, params, facts, metric)
    columns = _columns(session, params, start, end, tuple(targets), keys)
    totals: dict[Metric, SlaRow] = {}
    rows: dict[Metric, list[SlaRow]] = {}
    worst: list[tuple[int, Metric, int, int]] = []  # conversation id, metric, its worst value, threshold
    for metric, threshold in targets.items():
        measured = columns[metric]
        over = measured.values > threshold
        totals[metric] = SlaRow(None, len(over), int(over.sum()))
        rows[metric] = _sla_rows(measured.keys["group"], over) if params.breakdown != "none" else []
        ids, seconds = measured.keys["conversation"][over], measured.values[over]
        by_conversation = np.lexsort((seconds, ids))  # each conversation's values ascending: its worst is last
        ids, seconds = ids[by_conversation], seconds[by_conversation]
        last = np.ones(len(ids), dtype=bool)
        last[:-1] = ids[1:] != ids[:-1]
        ids, seconds = ids[last], seconds[last]
        top = np.lexsort((ids, -seconds))[:limit]  # the worst first
        worst += [(int(ids[i]), metric, int(seconds[i]), threshold) for i in top]
    worst.sort(key=lambda found: found[2] - found[3], reverse=True)
    worst = worst[:limit]
    external = dict(
        session.execute(
            select(Conversation.id, Conversation.external_id).where(Conversation.id.in_(sorted({w[0] for w in worst})))
        ).all()
    )
    breaches = [SlaBreach(c, str(external[c]), metric, s, t) for c, metric, s, t in worst]
    return SlaResult(params, thresholds, start, end, totals, rows, breaches)


def _sla_rows(keys: np.ndarray, over: np.ndarray) -> list[SlaRow]:
    """Measured and breached per key, keys ascending and NULL (:data:`NO_KEY`) last."""
    distinct, codes = np.unique(keys, return_inverse=True)
    measured = np.bincount(codes, minlength=len(distinct))
    breached = np.bincount(codes, weights=over, minlength=len(distinct))
    found = [
        SlaRow(None if key == NO_KEY else str(int(key)), int(n), int(b))
        for key, n, b in zip(distinct, measured, breached, strict=True)
    ]
    return sorted(found, key=lambda row: row.key is None)
