"""The conversation funnel of chat-driven businesses: conversations -> qualified leads -> scheduled visits ->
customers, with abandonment per stage and the time to conversion.

Query objects (STYLE.md point 7): :class:`ConversationFunnelParams` in; :class:`ConversationFunnelResult`,
:class:`AbandonmentResult` and :class:`TimeToConversionResult` out, each with the resolved range, the tenant's stage
rules and the definitions. Everything is counted in SQL on both databases over
:meth:`pulso.metrics.conversation_stages.StageSql.staged`; percentiles reuse support timing's rank arithmetic.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, literal, select

from pulso.metrics.conversation_stages import BREAKDOWNS, CUSTOMER, LEVELS, Breakdown, StageSql
from pulso.metrics.filters import Filters
from pulso.metrics.funnel_rules import FunnelRules
from pulso.metrics.overview import DateRange
from pulso.metrics.support_timing import TimingStats, percentile_stats
from pulso.store.session import PulsoSession

Unit = Literal["conversations", "people"]
UNITS: tuple[Unit, ...] = ("conversations", "people")
HISTOGRAM = (  # time-to-conversion bins: label, upper bound in seconds (excluded); the last is open
    ("< 1 hour", 3600),
    ("1-24 hours", 86_400),
    ("1-3 days", 3 * 86_400),
    ("3-7 days", 7 * 86_400),
    ("7-14 days", 14 * 86_400),
    ("14-30 days", 30 * 86_400),
    (">= 30 days", None),
)

DEFINITIONS = {
    "unit": (
        "conversations: every conversation created in the range (a contact with three conversations counts three "
        "times); people: each contact with a conversation created in the range, once, at the furthest stage any of "
        "those conversations reached (with a breakdown: once per group)."
    ),
    "stages": (
        "A conversation reaches a stage when any condition of the stage's rule matches (see `rules`): labels, "
        "conversation or contact attributes, AI interest class, orders of the contact made from the conversation's "
        "start until window_days after it, lifecycle (customer: became_customer_at in that window). A later stage "
        "implies the earlier ones: a customer counts as qualified and scheduled."
    ),
    "existing_customers": (
        "Unless include_existing_customers is set, conversations of contacts who were already customers when the "
        "conversation began (became_customer_at before it) are left out: the funnel is one of new business."
    ),
    "conversion": "from_top: stage / conversations; from_previous: stage / the stage before.",
    "lead_rate": "qualified / conversations.",
    "customer_rate": "customers (CRM) / conversations.",
    "abandonment": (
        "Conversations whose furthest stage is that stage (they went no further, as of now), split by who sent the "
        "last message (notes and activity left out): the contact (waiting for us) or the business (waiting for the "
        "contact); rate = stopped / reached. Counted per conversation."
    ),
    "time_to_conversion": (
        "Seconds from the conversation's creation (people: the contact's first conversation in the range) to the "
        "earliest dated evidence of the customer stage (a matching order's ordered_at, became_customer_at); "
        "customers matched only by labels, attributes or AI class have no date and are counted as undated. "
        "Percentiles interpolate linearly between ranks."
    ),
}


@dataclass(frozen=True)
class ConversationFunnelParams:
    date_range: DateRange
    timezone: str
    rules: FunnelRules = field(default_factory=FunnelRules)
    unit: Unit = "conversations"
    breakdown: Breakdown = "none"
    filters: Filters = field(default_factory=Filters)

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise ValueError(f"unit must be one of {', '.join(UNITS)}, got {self.unit!r}")
        if self.breakdown not in BREAKDOWNS:
            raise ValueError(f"breakdown must be one of {', '.join(BREAKDOWNS)}, got {self.breakdown!r}")
        ZoneInfo(self.timezone)  # raises for an unknown zone


@dataclass(frozen=True)
class StageCount:
    stage: str  # conversations, qualified, scheduled, customer
    count: int
    from_top: float | None
    from_previous: float | None


@dataclass(frozen=True)
class FunnelGroup:
    key: str | None  # None for the total; the breakdown's value as text (None: none)
    stages: tuple[StageCount, ...]

    def count(self, stage: str) -> int:
        return next(s.count for s in self.stages if s.stage == stage)

    @property
    def lead_rate(self) -> float | None:
        return _ratio(self.count("qualified"), self.count("conversations"))

    @property
    def customer_rate(self) -> float | None:
        return _ratio(self.count("customer"), self.count("conversations"))


@dataclass(frozen=True)
class ConversationFunnelResult:
    params: ConversationFunnelParams
    start_utc: datetime
    end_utc: datetime
    total: FunnelGroup
    rows: list[FunnelGroup]  # per group of the breakdown (empty without one), in key order
    definitions: dict[str, str] = field(default_factory=lambda: dict(DEFINITIONS))


@dataclass(frozen=True)
class Abandonment:
    key: str | None
    stage: str  # conversations (never qualified), qualified, scheduled
    reached: int
    contact_waiting: int  # the contact sent the last message: waiting for us
    awaiting_contact: int  # we sent the last message: waiting for the contact
    no_messages: int

    @property
    def stopped(self) -> int:
        return self.contact_waiting + self.awaiting_contact + self.no_messages

    @property
    def rate(self) -> float | None:
        return _ratio(self.stopped, self.reached)


@dataclass(frozen=True)
class AbandonmentResult:
    params: ConversationFunnelParams
    start_utc: datetime
    end_utc: datetime
    total: list[Abandonment]  # one per stage before customer
    rows: list[Abandonment]  # per group and stage (empty without a breakdown)
    definitions: dict[str, str] = field(default_factory=lambda: dict(DEFINITIONS))


@dataclass(frozen=True)
class ConversionTimes:
    key: str | None
    stats: TimingStats  # seconds
    histogram: list[tuple[str, int]]  # every bin of HISTOGRAM, in order


@dataclass(frozen=True)
class TimeToConversionResult:
    params: ConversationFunnelParams
    start_utc: datetime
    end_utc: datetime
    total: ConversionTimes
    rows: list[ConversionTimes]
    undated: int  # customers without a dated conversion
    definitions: dict[str, str] = field(default_factory=lambda: dict(DEFINITIONS))


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _key(value: Any) -> str | None:
    return None if value is None else str(value)


def _ordered(keys: Any) -> list[Any]:
    """Group keys in order: numbers numerically, text alphabetically, None last."""
    return sorted(keys, key=lambda k: (k is None, not isinstance(k, int), k if isinstance(k, int) else str(k)))


def _group(key: str | None, by_level: dict[int, int]) -> FunnelGroup:
    reached = [sum(n for level, n in by_level.items() if level >= i) for i in range(len(LEVELS))]
    stages = tuple(
        StageCount(
            name,
            reached[i],
            _ratio(reached[i], reached[0]) if i else None,
            _ratio(reached[i], reached[i - 1]) if i else None,
        )
        for i, name in enumerate(LEVELS)
    )
    return FunnelGroup(key, stages)


def conversation_funnel(session: PulsoSession, params: ConversationFunnelParams) -> ConversationFunnelResult:
    start, end = params.date_range.utc_bounds(params.timezone)
    staged = StageSql(session, params.rules).staged(start, end, params.filters, params.breakdown)
    levels = _levels(session, staged, params.unit, grouped=False)
    total = _group(None, levels.get(0, {}))
    rows: list[FunnelGroup] = []
    if params.breakdown != "none":
        grouped = _levels(session, staged, params.unit, grouped=True)
        rows = [_group(_key(g), grouped[g]) for g in _ordered(grouped)]
    return ConversationFunnelResult(params, start, end, total, rows)


def _levels(session: PulsoSession, staged: Any, unit: Unit, *, grouped: bool) -> dict[Any, dict[int, int]]:
    """Units per furthest level, by group (key 0 when not grouped)."""
    g = staged.c.g if grouped else literal(0)
    if unit == "people":
        person = staged.c.person
        furthest = select(g.label("g"), func.max(staged.c.level).label("level")).group_by(g, person).subquery()
        query = select(furthest.c.g, furthest.c.level, func.count()).group_by(furthest.c.g, furthest.c.level)
    else:
        query = select(g.label("g"), staged.c.level, func.count()).group_by(g, staged.c.level)
    found: dict[Any, dict[int, int]] = defaultdict(dict)
    for key, level, n in session.execute(query).all():
        found[key][int(level)] = int(n)
    return found


def abandonment(session: PulsoSession, params: ConversationFunnelParams) -> AbandonmentResult:
    if params.unit != "conversations":
        raise ValueError("unit: abandonment is counted per conversation (who spoke last is a conversation's)")
    start, end = params.date_range.utc_bounds(params.timezone)
    sql = StageSql(session, params.rules)
    staged = sql.staged(start, end, params.filters, params.breakdown, with_last_speaker=True)
    query = select(staged.c.g, staged.c.level, staged.c.last_speaker, func.count()).group_by(
        staged.c.g, staged.c.level, staged.c.last_speaker
    )
    total: dict[tuple[int, str | None], int] = defaultdict(int)
    by_group: dict[Any, dict[tuple[int, str | None], int]] = defaultdict(lambda: defaultdict(int))
    for g, level, speaker, n in session.execute(query).all():
        total[(int(level), speaker)] += int(n)
        by_group[g][(int(level), speaker)] += int(n)
    keys = _ordered(by_group) if params.breakdown != "none" else []
    rows = [row for g in keys for row in _abandoned(_key(g), by_group[g])]
    return AbandonmentResult(params, start, end, _abandoned(None, total), rows)


def _abandoned(key: str | None, counts: dict[tuple[int, str | None], int]) -> list[Abandonment]:
    found = []
    for level in range(CUSTOMER):
        reached = sum(n for (lvl, _), n in counts.items() if lvl >= level)

        def stopped(speaker: str | None, level: int = level) -> int:
            return counts.get((level, speaker), 0)

        found.append(Abandonment(key, LEVELS[level], reached, stopped("incoming"), stopped("outgoing"), stopped(None)))
    return found


def time_to_conversion(session: PulsoSession, params: ConversationFunnelParams) -> TimeToConversionResult:
    start, end = params.date_range.utc_bounds(params.timezone)
    sql = StageSql(session, params.rules)
    staged = sql.staged(start, end, params.filters, params.breakdown, with_customer_at=True)
    if params.unit == "people":
        converted = (
            select(
                staged.c.g.label("g"),
                func.min(staged.c.created_at).label("created_at"),
                func.min(case((staged.c.level == CUSTOMER, staged.c.customer_at))).label("customer_at"),
            )
            .group_by(staged.c.g, staged.c.person)
            .having(func.max(staged.c.level) == CUSTOMER)
            .subquery()
        )
    else:
        converted = (
            select(staged.c.g, staged.c.created_at, staged.c.customer_at).where(staged.c.level == CUSTOMER).subquery()
        )
    undated = session.scalar(select(func.count()).where(converted.c.customer_at.is_(None))) or 0
    values = (
        select(converted.c.g, sql.seconds_between(converted.c.customer_at, converted.c.created_at).label("v"))
        .where(converted.c.customer_at.is_not(None))
        .subquery()
    )
    overall = percentile_stats(session, values, grouped=False)[0]
    total = ConversionTimes(None, overall, _histogram(session, values, False)[0])
    rows: list[ConversionTimes] = []
    if params.breakdown != "none":
        bins = _histogram(session, values, True)
        rows = [ConversionTimes(s.key, s, bins[s.key]) for s in percentile_stats(session, values, grouped=True)]
    return TimeToConversionResult(params, start, end, total, rows, int(undated))


def _histogram(session: PulsoSession, values: Any, grouped: bool) -> dict[Any, list[tuple[str, int]]]:
    bounds = [(values.c.v < bound, i) for i, (_, bound) in enumerate(HISTOGRAM) if bound is not None]
    bin_index = case(*bounds, else_=len(HISTOGRAM) - 1).label("bin")
    g = values.c.g if grouped else literal(0)
    found: dict[Any, dict[int, int]] = defaultdict(dict)
    for key, index, n in session.execute(select(g.label("g"), bin_index, func.count()).group_by(g, bin_index)):
        found[_key(key) if grouped else 0][int(index)] = int(n)
    if not grouped:
        found.setdefault(0, {})
    return {key: [(label, bins.get(i, 0)) for i, (label, _) in enumerate(HISTOGRAM)] for key, bins in found.items()}
