"""Team and bot performance: load and conversions per agent, first-contact resolution, bot autonomy and hand-offs
(with their reasons), recontact rate.

A query object (STYLE.md point 7): :class:`TeamParams` in, :class:`TeamResult` out, with the resolved range and the
definitions. Computed in SQL on both databases from conversations and their facts (``gold.conversation_facts``); the
range selects conversations by creation time in the tenant's time zone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Interval, and_, case, func, literal, select, true
from sqlalchemy.orm import aliased

from pulso.metrics.filters import Filters
from pulso.metrics.overview import DateRange
from pulso.store.models import Contact, Conversation, ConversationFactsRow
from pulso.store.session import PulsoSession

DEFINITIONS = {
    "conversations": "Conversations created in the range, by their assignee now (load).",
    "open_now": "Of those, the ones still open, pending or snoozed.",
    "first_contact_resolution": (
        "Resolved conversations never reopened, over resolved conversations (both among those created in the range)."
    ),
    "conversions": (
        "Contacts who became customers in the range at or after one of the agent's conversations created in the "
        "range began, counted once per agent; per day divides by the days of the range."
    ),
    "bot_autonomy": (
        "Conversations the bot handled alone (bot messages, no human reply) and that are resolved, over every "
        "conversation the bot took part in (alone or before a hand-off)."
    ),
    "handoff_rate": "Conversations handed off from the bot to a human, over every conversation the bot took part in.",
    "handoff_reasons": "The labels of handed-off conversations, by how many carry each.",
    "recontact_rate": (
        "Resolved conversations whose contact opened another conversation within recontact_days after the "
        "resolve, over resolved conversations that have a contact."
    ),
}


@dataclass(frozen=True)
class TeamParams:
    date_range: DateRange
    timezone: str
    inbox_ids: tuple[int, ...] = ()
    team_ids: tuple[int, ...] = ()
    recontact_days: int = 7
    filters: Filters = field(default_factory=Filters)  # the other global filters, over the conversation

    def __post_init__(self) -> None:
        ZoneInfo(self.timezone)  # raises for an unknown zone
        if not 1 <= self.recontact_days <= 365:
            raise ValueError(f"recontact_days: between 1 and 365, got {self.recontact_days}")


@dataclass(frozen=True)
class AgentPerformance:
    agent_id: int | None  # None: unassigned
    conversations: int
    open_now: int
    resolved: int
    resolved_first_contact: int
    conversions: int
    days: int

    @property
    def first_contact_resolution(self) -> float | None:
        return self.resolved_first_contact / self.resolved if self.resolved else None

    @property
    def conversions_per_day(self) -> float:
        return self.conversions / self.days


@dataclass(frozen=True)
class BotPerformance:
    bot_conversations: int  # the bot took part: bot_only + handed_off
    bot_only: int
    bot_resolved: int  # bot only and resolved
    handed_off: int
    handoff_reasons: list[tuple[str, int]]  # label, conversations; most frequent first

    @property
    def autonomy_rate(self) -> float | None:
        return self.bot_resolved / self.bot_conversations if self.bot_conversations else None

    @property
    def handoff_rate(self) -> float | None:
        return self.handed_off / self.bot_conversations if self.bot_conversations else None


@dataclass(frozen=True)
class Recontact:
    resolved_with_contact: int
    recontacted: int

    @property
    def rate(self) -> float | None:
        return self.recontacted / self.resolved_with_contact if self.resolved_with_contact else None


@dataclass(frozen=True)
class TeamResult:
    params: TeamParams
    start_utc: datetime
    end_utc: datetime
    agents: list[AgentPerformance]
    bot: BotPerformance
    recontact: Recontact
    definitions: dict[str, str] = field(default_factory=lambda: dict(DEFINITIONS))


def team_performance(session: PulsoSession, params: TeamParams) -> TeamResult:
    start, end = params.date_range.utc_bounds(params.timezone)
    return TeamResult(
        params,
        start,
        end,
        _agents(session, params, start, end),
        _bot(session, params, start, end),
        _recontact(session, params, start, end),
    )


def _scope(params: TeamParams, start: datetime, end: datetime, conversation: Any = Conversation) -> list[Any]:
    found = [conversation.created_at >= start, conversation.created_at < end]
    if params.inbox_ids:
        found.append(conversation.inbox_id.in_(params.inbox_ids))
    if params.team_ids:
        found.append(conversation.team_id.in_(params.team_ids))
    found += params.filters.conversation_conditions(conversation)
    return found


def _count(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _agents(session: PulsoSession, params: TeamParams, start: datetime, end: datetime) -> list[AgentPerformance]:
    facts, agent = ConversationFactsRow, Conversation.assignee_agent_id
    resolved = Conversation.status == "resolved"
    load = session.execute(
        select(
            agent,
            func.count(),
            _count(Conversation.status != "resolved"),
            _count(resolved),
            _count(and_(resolved, func.coalesce(facts.reopen_count, 0) == 0)),
        )
        .select_from(Conversation)
        .outerjoin(facts, facts.conversation_id == Conversation.id)
        .where(*_scope(params, start, end))
        .group_by(agent)
    ).all()
    converted = session.execute(
        select(agent, func.count(func.distinct(Contact.id)))
        .select_from(Conversation)
        .join(Contact, Contact.id == Conversation.contact_id)
        .where(*_scope(params, start, end))
        .where(Contact.became_customer_at >= Conversation.created_at)
        .where(Contact.became_customer_at >= start, Contact.became_customer_at < end)
        .group_by(agent)
    ).all()
    conversions = {a: int(n) for a, n in converted}
    days = params.date_range.days
    rows = [AgentPerformance(a, int(n), int(o), int(r), int(f), conversions.get(a, 0), days) for a, n, o, r, f in load]
    return sorted(rows, key=lambda row: (row.agent_id is None, row.agent_id or 0))


def _bot(session: PulsoSession, params: TeamParams, start: datetime, end: datetime) -> BotPerformance:
    facts = ConversationFactsRow
    bot_only, handed_off = facts.handled_by == "bot_only", facts.handled_by == "handed_off"
    counted = session.execute(
        select(_count(bot_only), _count(and_(bot_only, Conversation.status == "resolved")), _count(handed_off))
        .select_from(facts)
        .join(Conversation, Conversation.id == facts.conversation_id)
        .where(*_scope(params, start, end))
    ).one()
    if session.get_bind().dialect.name == "postgresql":
        labels = func.jsonb_array_elements_text(facts.labels).table_valued("value").render_derived()
    else:
        labels = func.json_each(facts.labels).table_valued("value")  # json_each names its columns itself
    label = labels.c.value
    reasons = session.execute(
        select(label, func.count(func.distinct(facts.conversation_id)).label("n"))
        .select_from(facts)
        .join(Conversation, Conversation.id == facts.conversation_id)
        .join(labels, true())
        .where(handed_off, *_scope(params, start, end))
        .group_by(label)
        .order_by(func.count(func.distinct(facts.conversation_id)).desc(), label)
    ).all()
    only, resolved, handed = (int(v) for v in counted)
    return BotPerformance(only + handed, only, resolved, handed, [(str(r), int(n)) for r, n in reasons])


def _recontact(session: PulsoSession, params: TeamParams, start: datetime, end: datetime) -> Recontact:
    later = aliased(Conversation)
    resolved = and_(Conversation.status == "resolved", Conversation.resolved_at.is_not(None))
    window = plus_days(session, Conversation.resolved_at, params.recontact_days)
    again = (
        select(later.id)
        .where(later.contact_id == Conversation.contact_id, later.id != Conversation.id)
        .where(later.created_at > Conversation.resolved_at, later.created_at <= window)
        .exists()
    )
    base, recontacted = session.execute(
        select(func.count(), _count(again))
        .select_from(Conversation)
        .where(resolved, Conversation.contact_id.is_not(None), *_scope(params, start, end))
    ).one()
    return Recontact(int(base), int(recontacted))


def plus_days(session: PulsoSession, column: Any, days: int) -> Any:
    """``column`` + ``days`` in SQL, comparable with stored timestamps on either database."""
    if session.get_bind().dialect.name == "postgresql":
        return column + literal(timedelta(days=days), Interval())
    # SQLite keeps naive UTC text 'YYYY-MM-DD HH:MM:SS.ffffff'; strftime keeps the fraction, so text order holds
    return func.strftime("%Y-%m-%d %H:%M:%f000", column, f"+{days} days")
