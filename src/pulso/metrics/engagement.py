"""Engagement: response rate of the leads we wrote to, messages until conversion, re-engagement after silence, time
between messages, and the engagement decay score ``exp(-days_since_last_message / decay_days)`` per contact.

A query object (STYLE.md point 7): :class:`EngagementParams` in, :class:`EngagementResult` out, with the resolved
range and the definitions. Counting, ordering and percentiles run in SQL on both databases (percentiles with support
timing's rank arithmetic); only the score of the few contacts listed is computed in Python from their last message.
Messages are the public ones: private notes, activity and deleted messages are left out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, exists, func, literal, select
from sqlalchemy.orm import aliased

from pulso.metrics.conversation_stages import public_message, seconds_between
from pulso.metrics.filters import Filters
from pulso.metrics.overview import DateRange
from pulso.metrics.support_timing import TimingStats, percentile_stats
from pulso.store.models import Contact, Conversation, Message
from pulso.store.session import PulsoSession

BANDS = (("hot", 0.75), ("warm", 0.5), ("cooling", 0.25), ("cold", 0.0))  # score at least the bound
GAP_KINDS = ("contact_to_us", "us_to_contact", "same_side")
MESSAGE_COUNTS = ("incoming", "outgoing", "total")

DEFINITIONS = {
    "response_rate": (
        "Of the conversations created in the range in which we sent a message, the share in which the contact sent "
        "a message after our first one (in the same conversation, at any time until now)."
    ),
    "messages_until_conversion": (
        "For each contact who became a customer in the range (became_customer_at), the messages of all their "
        "conversations sent before that moment: incoming, outgoing and total; mean and median over the customers."
    ),
    "reengagement_rate": (
        "Of the contacts silent for at least silence_days at the start of the range (they wrote before, but their "
        "last incoming message is older than silence_days), the share who sent an incoming message within the range."
    ),
    "time_between_messages": (
        "Seconds between consecutive messages of each conversation created in the range: contact_to_us = a contact's "
        "message followed by ours (the contact waited for us), us_to_contact = ours followed by the contact's (we "
        "waited for the contact), same_side = two in a row from the same side; all = every gap."
    ),
    "decay_score": (
        "exp(-days_since_last_message / decay_days) per contact with a message before as_of (the end of the range): "
        "1 just after a message, 0.37 after decay_days of silence. Bands: hot >= 0.75, warm >= 0.5, cooling >= 0.25, "
        "cold below."
    ),
}


@dataclass(frozen=True)
class EngagementParams:
    date_range: DateRange
    timezone: str
    filters: Filters = field(default_factory=Filters)
    silence_days: int = 7
    decay_days: float = 7.0
    listed: int = 10  # contacts in the top and bottom lists

    def __post_init__(self) -> None:
        ZoneInfo(self.timezone)  # raises for an unknown zone
        if not 1 <= self.silence_days <= 365:
            raise ValueError(f"silence_days: between 1 and 365, got {self.silence_days}")
        if not 0 < self.decay_days <= 365:
            raise ValueError(f"decay_days: more than 0 and at most 365, got {self.decay_days}")
        if not 0 <= self.listed <= 100:
            raise ValueError(f"listed: between 0 and 100, got {self.listed}")


@dataclass(frozen=True)
class Rate:
    base: int
    hits: int

    @property
    def rate(self) -> float | None:
        return self.hits / self.base if self.base else None


@dataclass(frozen=True)
class ContactScore:
    contact_id: int
    name: str
    last_message_at: datetime
    days_since_last_message: float
    score: float


@dataclass(frozen=True)
class DecayBand:
    band: str
    min_score: float
    contacts: int


@dataclass(frozen=True)
class EngagementResult:
    params: EngagementParams
    start_utc: datetime
    end_utc: datetime
    response: Rate  # conversations we wrote to, of which answered
    messages_until_conversion: dict[str, TimingStats]  # incoming, outgoing, total (count = customers)
    reengagement: Rate  # silent contacts, of which came back
    time_between_messages: dict[str, TimingStats]  # all, contact_to_us, us_to_contact, same_side
    decay_bands: list[DecayBand]
    top: list[ContactScore]  # most engaged first
    bottom: list[ContactScore]  # least engaged first
    definitions: dict[str, str] = field(default_factory=lambda: dict(DEFINITIONS))

    @property
    def as_of(self) -> datetime:
        return self.end_utc


@dataclass(frozen=True)
class ContactsPage:
    params: EngagementParams
    start_utc: datetime
    end_utc: datetime
    total: int
    offset: int
    rows: list[ContactScore]


def engagement(session: PulsoSession, params: EngagementParams) -> EngagementResult:
    start, end = params.date_range.utc_bounds(params.timezone)
    last = _last_messages(params, end)
    return EngagementResult(
        params,
        start,
        end,
        _response(session, params, start, end),
        _messages_until_conversion(session, params, start, end),
        _reengagement(session, params, start, end),
        _gaps(session, params, start, end),
        _bands(session, params, last, end),
        _scores(session, params, last, end, descending=True, limit=params.listed),
        _scores(session, params, last, end, descending=False, limit=params.listed),
    )


def engagement_contacts(session: PulsoSession, params: EngagementParams, *, offset: int, limit: int) -> ContactsPage:
    """Every scored contact, most engaged first (ties by contact id), one page."""
    start, end = params.date_range.utc_bounds(params.timezone)
    last = _last_messages(params, end)
    total = session.scalar(select(func.count()).select_from(last)) or 0
    rows = _scores(session, params, last, end, descending=True, limit=limit, offset=offset)
    return ContactsPage(params, start, end, int(total), offset, rows)


def _in_range(params: EngagementParams, start: datetime, end: datetime) -> list[Any]:
    return [Conversation.created_at >= start, Conversation.created_at < end, *params.filters.conversation_conditions()]


def _count(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _response(session: PulsoSession, params: EngagementParams, start: datetime, end: datetime) -> Rate:
    ours, theirs = aliased(Message), aliased(Message)
    first_ours = (
        select(func.min(ours.created_at))
        .where(ours.conversation_id == Conversation.id, ours.direction == "outgoing", *public_message(ours))
        .scalar_subquery()
    )
    written = select(Conversation.id.label("id"), first_ours.label("first_ours")).where(*_in_range(params, start, end))
    base = written.subquery()
    answered = exists().where(
        theirs.conversation_id == base.c.id,
        theirs.direction == "incoming",
        theirs.created_at > base.c.first_ours,
        *public_message(theirs),
    )
    total, hits = session.execute(select(func.count(), _count(answered)).where(base.c.first_ours.is_not(None))).one()
    return Rate(int(total), int(hits))


def _messages_until_conversion(
    session: PulsoSession, params: EngagementParams, start: datetime, end: datetime
) -> dict[str, TimingStats]:
    before = and_(
        Message.conversation_id == Conversation.id, Message.created_at < Contact.became_customer_at, *public_message()
    )
    per_customer = (
        select(
            _count(Message.direction == "incoming").label("incoming"),
            _count(Message.direction == "outgoing").label("outgoing"),
            func.count(Message.id).label("total"),
        )
        .select_from(Contact)
        .join(Conversation, Conversation.contact_id == Contact.id)
        .outerjoin(Message, before)
        .where(Contact.became_customer_at >= start, Contact.became_customer_at < end)
        .where(*params.filters.contact_conditions())
        .group_by(Contact.id)
        .subquery()
    )
    found = {}
    for name in MESSAGE_COUNTS:
        values = select(literal(0).label("g"), per_customer.c[name].label("v")).subquery()
        found[name] = percentile_stats(session, values, grouped=False)[0]
    return found


def _reengagement(session: PulsoSession, params: EngagementParams, start: datetime, end: datetime) -> Rate:
    incoming = [Message.conversation_id == Conversation.id, Message.direction == "incoming", *public_message()]
    last_incoming = (
        select(Conversation.contact_id.label("contact_id"), func.max(Message.created_at).label("at"))
        .select_from(Conversation)
        .join(Message, and_(*incoming))
        .join(Contact, Contact.id == Conversation.contact_id)
        .where(Message.created_at < start, *params.filters.contact_conditions())
        .group_by(Conversation.contact_id)
        .subquery()
    )
    later, again = aliased(Conversation), aliased(Message)
    came_back = exists().where(
        later.contact_id == last_incoming.c.contact_id,
        again.conversation_id == later.id,
        again.direction == "incoming",
        again.created_at >= start,
        again.created_at < end,
        *public_message(again),
    )
    silent_since = start - timedelta(days=params.silence_days)
    total, hits = session.execute(
        select(func.count(), _count(came_back)).where(last_incoming.c.at <= silent_since)
    ).one()
    return Rate(int(total), int(hits))


def _gaps(session: PulsoSession, params: EngagementParams, start: datetime, end: datetime) -> dict[str, TimingStats]:
    order = (Message.created_at, Message.id)
    pairs = (
        select(
            Message.direction.label("direction"),
            Message.created_at.label("at"),
            func.lag(Message.direction).over(partition_by=Message.conversation_id, order_by=order).label("before"),
            func.lag(Message.created_at).over(partition_by=Message.conversation_id, order_by=order).label("prev_at"),
        )
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(*_in_range(params, start, end), *public_message())
        .subquery()
    )
    kind = case(
        (and_(pairs.c.before == "incoming", pairs.c.direction == "outgoing"), "contact_to_us"),
        (and_(pairs.c.before == "outgoing", pairs.c.direction == "incoming"), "us_to_contact"),
        else_="same_side",
    )
    gap = seconds_between(session, pairs.c.at, pairs.c.prev_at)
    values = select(kind.label("g"), gap.label("v")).where(pairs.c.prev_at.is_not(None)).subquery()
    by_kind = {stats.key: stats for stats in percentile_stats(session, values, grouped=True)}
    found = {"all": percentile_stats(session, values, grouped=False)[0]}
    for name in GAP_KINDS:
        found[name] = by_kind.get(name) or TimingStats(name, 0, None, None, None, None, None)
    return found


def _last_messages(params: EngagementParams, as_of: datetime) -> Any:
    """Subquery: contact_id, last_at (the contact's last public message, either way, before ``as_of``)."""
    return (
        select(Conversation.contact_id.label("contact_id"), func.max(Message.created_at).label("last_at"))
        .select_from(Conversation)
        .join(Message, Message.conversation_id == Conversation.id)
        .join(Contact, Contact.id == Conversation.contact_id)
        .where(Message.created_at < as_of, *public_message(), *params.filters.contact_conditions())
        .group_by(Conversation.contact_id)
        .subquery()
    )


def _days_for(score: float, decay_days: float) -> float:
    """Days of silence after which the score falls to ``score``."""
    return -decay_days * math.log(score)


def _bands(session: PulsoSession, params: EngagementParams, last: Any, as_of: datetime) -> list[DecayBand]:
    bounds = [(band, low) for band, low in BANDS if low > 0]
    # score >= low  <=>  last message at or after as_of - days_for(low): compared in SQL on the timestamps
    which = case(
        *[
            (last.c.last_at >= as_of - timedelta(days=_days_for(low, params.decay_days)), i)
            for i, (_, low) in enumerate(bounds)
        ],
        else_=len(BANDS) - 1,
    )
    counted: dict[Any, Any] = dict(session.execute(select(which, func.count()).group_by(which)).all())
    return [DecayBand(band, low, int(counted.get(i, 0))) for i, (band, low) in enumerate(BANDS)]


def _scores(
    session: PulsoSession,
    params: EngagementParams,
    last: Any,
    as_of: datetime,
    *,
    descending: bool,
    limit: int,
    offset: int = 0,
) -> list[ContactScore]:
    order = last.c.last_at.desc() if descending else last.c.last_at.asc()
    rows = session.execute(
        select(last.c.contact_id, Contact.name, last.c.last_at)
        .join(Contact, Contact.id == last.c.contact_id)
        .order_by(order, last.c.contact_id)
        .offset(offset)
        .limit(limit)
    ).all()
    found = []
    for contact_id, name, last_at in rows:
        days = (as_of - last_at).total_seconds() / 86_400
        found.append(ContactScore(int(contact_id), str(name), last_at, days, math.exp(-days / params.decay_days)))
    return found
