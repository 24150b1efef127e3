"""Satisfaction: NPS and CSAT over a date range, overall or per agent, inbox, day, week or month.

A query object (STYLE.md point 7): :class:`SatisfactionParams` in, :class:`SatisfactionResult` out, carrying the
resolved range and the definitions used. Counting runs in SQL on both databases; only the fold of local days into
weeks and months (and, on SQLite, of 15-minute UTC buckets into local days) happens in Python.

Answers are dated by when they were given (``feedback.answered_at``), surveys by when they were sent; both in the
tenant's time zone. An answer belongs to the agent it names (Chatwoot's ``assigned_agent_id`` at answer time) and to
the inbox of its conversation; one without a conversation (an NPS survey sent by e-mail, say) has no inbox.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, literal, select

from pulso.metrics.calendar import period_start
from pulso.metrics.filters import Filters
from pulso.metrics.overview import DateRange
from pulso.store.models import Conversation, Feedback, Message
from pulso.store.session import PulsoSession
from pulso.store.sqltime import local_day, local_day_key

Breakdown = Literal["none", "agent", "inbox", "day", "week", "month"]
BREAKDOWNS: tuple[Breakdown, ...] = ("none", "agent", "inbox", "day", "week", "month")
PERIODS = ("day", "week", "month")

DEFINITIONS = {
    "nps": (
        "Net Promoter Score: the share of promoters (answers 9-10) minus the share of detractors (0-6) among the "
        "NPS answers (0-10) given in the range, in points from -100 to 100. Passives (7-8) count in the total only."
    ),
    "csat": (
        "CSAT as Chatwoot reports it: answers rated 4 or 5 over all CSAT answers (1-5) given in the range, x 100."
    ),
    "csat_mean": "The mean CSAT rating (1-5) of the answers given in the range.",
    "csat_response_rate": (
        "CSAT answers given in the range over CSAT surveys sent in the range (messages of content type "
        "input_csat); per agent, a survey counts for the conversation's assignee."
    ),
}


@dataclass(frozen=True)
class SatisfactionParams:
    date_range: DateRange
    timezone: str
    breakdown: Breakdown = "none"
    inbox_ids: tuple[int, ...] = ()  # empty: every inbox (and answers without one)
    agent_ids: tuple[int, ...] = ()  # empty: every agent (and answers naming none)
    filters: Filters = field(default_factory=Filters)  # the other global filters, over the conversation

    def __post_init__(self) -> None:
        if self.breakdown not in BREAKDOWNS:
            raise ValueError(f"breakdown must be one of {', '.join(BREAKDOWNS)}, got {self.breakdown!r}")
        ZoneInfo(self.timezone)  # raises for an unknown zone


@dataclass(frozen=True)
class Satisfaction:
    """The counts of one group; the scores are derived from them (None where nothing was answered)."""

    key: str | None  # None for the whole range; an agent or inbox id (None: none), or the period's first day
    promoters: int = 0
    passives: int = 0
    detractors: int = 0
    csat_answers: int = 0
    csat_satisfied: int = 0  # rated 4 or 5
    csat_rating_sum: int = 0
    surveys_sent: int = 0

    @property
    def nps_answers(self) -> int:
        return self.promoters + self.passives + self.detractors

    @property
    def nps(self) -> float | None:
        total = self.nps_answers
        return (self.promoters - self.detractors) * 100 / total if total else None

    @property
    def csat(self) -> float | None:
        return self.csat_satisfied * 100 / self.csat_answers if self.csat_answers else None

    @property
    def csat_mean(self) -> float | None:
        return self.csat_rating_sum / self.csat_answers if self.csat_answers else None

    @property
    def csat_response_rate(self) -> float | None:
        return self.csat_answers / self.surveys_sent if self.surveys_sent else None

    def __add__(self, other: Satisfaction) -> Satisfaction:
        counts = {name: getattr(self, name) + getattr(other, name) for name in _COUNTS}
        return replace(self, **counts)


_COUNTS = (
    "promoters", "passives", "detractors", "csat_answers", "csat_satisfied", "csat_rating_sum", "surveys_sent",
)  # fmt: skip


@dataclass(frozen=True)
class SatisfactionResult:
    params: SatisfactionParams
    start_utc: datetime
    end_utc: datetime
    total: Satisfaction
    rows: list[Satisfaction] = field(default_factory=list)  # one per group of the breakdown, in key order
    definitions: dict[str, str] = field(default_factory=lambda: dict(DEFINITIONS))


def satisfaction(session: PulsoSession, params: SatisfactionParams) -> SatisfactionResult:
    start, end = params.date_range.utc_bounds(params.timezone)
    groups: dict[Any, Satisfaction] = defaultdict(lambda: Satisfaction(None))
    for key, counts in _answers(session, params, start, end) + _surveys(session, params, start, end):
        groups[key] = groups[key] + counts
    rows = _fold(groups, params)
    total = sum(rows, Satisfaction(None))
    return SatisfactionResult(params, start, end, replace(total, key=None), rows if params.breakdown != "none" else [])


def _bucket(session: PulsoSession, params: SatisfactionParams, column: Any, agent: Any) -> Any:
    """The SQL group key of the breakdown. Periods group by local day on PostgreSQL and by 15-minute UTC bucket on
    SQLite (every time zone offset in use is a multiple of 15 minutes), both folded into periods in Python."""
    if params.breakdown == "agent":
        return agent
    if params.breakdown == "inbox":
        return Conversation.inbox_id
    if params.breakdown not in PERIODS:
        return literal(None)
    return local_day_key(session, column, params.timezone)


def _filters(params: SatisfactionParams, agent: Any) -> list[Any]:
    found = []
    if params.inbox_ids:
        found.append(Conversation.inbox_id.in_(params.inbox_ids))
    if params.agent_ids:
        found.append(agent.in_(params.agent_ids))
    return found + params.filters.conversation_conditions()


def _answers(
    session: PulsoSession, params: SatisfactionParams, start: datetime, end: datetime
) -> list[tuple[Any, Satisfaction]]:
    score, nps, csat = Feedback.score, Feedback.kind == "nps", Feedback.kind == "csat"

    def count(condition: Any) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    key = _bucket(session, params, Feedback.answered_at, Feedback.agent_id).label("key")
    query = (
        select(
            key,
            count(and_(nps, score >= 9)),
            count(and_(nps, score.between(7, 8))),
            count(and_(nps, score <= 6)),
            count(csat),
            count(and_(csat, score >= 4)),
            func.coalesce(func.sum(case((csat, score), else_=0)), 0),
        )
        .select_from(Feedback)
        .outerjoin(Conversation, Conversation.id == Feedback.conversation_id)
        .where(Feedback.answered_at >= start, Feedback.answered_at < end, *_filters(params, Feedback.agent_id))
        .group_by(key)
    )
    return [(row[0], Satisfaction(None, *(int(value) for value in row[1:]))) for row in session.execute(query).all()]


def _surveys(
    session: PulsoSession, params: SatisfactionParams, start: datetime, end: datetime
) -> list[tuple[Any, Satisfaction]]:
    agent = Conversation.assignee_agent_id
    key = _bucket(session, params, Message.created_at, agent).label("key")
    query = (
        select(key, func.count())
        .select_from(Message)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(Message.content_type == "input_csat", Message.created_at >= start, Message.created_at < end)
        .where(*_filters(params, agent))
        .group_by(key)
    )
    return [(row[0], Satisfaction(None, surveys_sent=int(row[1]))) for row in session.execute(query).all()]


def _fold(groups: dict[Any, Satisfaction], params: SatisfactionParams) -> list[Satisfaction]:
    """Groups keyed as the breakdown names them: ids as text, periods by their first local day (ISO)."""
    if params.breakdown not in PERIODS:
        keyed = {(None if key is None else str(key)): counts for key, counts in groups.items()}
        ordered: Sequence[str | None] = sorted(keyed, key=lambda k: (k is None, int(k) if k else 0))
        return [replace(keyed[key], key=key) for key in ordered]
    zone = ZoneInfo(params.timezone)
    periods: dict[date, Satisfaction] = defaultdict(lambda: Satisfaction(None))
    for key, counts in groups.items():
        start = period_start(local_day(key, zone), params.breakdown)  # type: ignore[arg-type]
        periods[start] = periods[start] + counts
    return [replace(periods[start], key=start.isoformat()) for start in sorted(periods)]
