"""Each conversation's furthest funnel stage, in SQL on SQLite and PostgreSQL: the subquery every view of the
conversation funnel (counts, abandonment, time to conversion) reads.

A stage is reached when any condition of its rule matches (:mod:`pulso.metrics.funnel_rules`); a later stage
implies the earlier ones, so the level is the highest stage matched: 0 conversation, 1 qualified, 2 scheduled,
3 customer.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Integer, and_, case, cast, exists, extract, false, func, literal, null, or_, select
from sqlalchemy.dialects.postgresql import JSONB

from pulso.metrics.filters import Filters
from pulso.metrics.funnel_rules import AttributeValue, FunnelRules, OrderRule, StageRule
from pulso.metrics.team_performance import plus_days
from pulso.store.models import Contact, Conversation, ConversationInsight, Inbox, Message, Order
from pulso.store.session import PulsoSession

Breakdown = Literal["none", "inbox", "channel", "agent", "team", "campaign"]
BREAKDOWNS: tuple[Breakdown, ...] = ("none", "inbox", "channel", "agent", "team", "campaign")
LEVELS = ("conversations", "qualified", "scheduled", "customer")  # index = level
CUSTOMER = 3


class StageSql:
    """SQL for one tenant's rules on one database."""

    def __init__(self, session: PulsoSession, rules: FunnelRules) -> None:
        self.session = session
        self.postgres = session.get_bind().dialect.name == "postgresql"
        self.rules = rules
        self.window_end = plus_days(session, Conversation.created_at, rules.window_days)

    def staged(
        self,
        start: datetime,
        end: datetime,
        filters: Filters,
        breakdown: Breakdown,
        *,
        with_customer_at: bool = False,
        with_last_speaker: bool = False,
    ) -> Any:
        """Subquery: conversation_id, person, g (breakdown key), level, created_at [, customer_at, last_speaker]."""
        level = case(
            (self.condition(self.rules.customer), CUSTOMER),
            (self.condition(self.rules.scheduled), 2),
            (self.condition(self.rules.qualified), 1),
            else_=0,
        )
        columns = [
            Conversation.id.label("conversation_id"),
            func.coalesce(Conversation.contact_id, -Conversation.id).label("person"),  # no contact: on its own
            self.group_key(breakdown).label("g"),
            level.label("level"),
            Conversation.created_at.label("created_at"),
        ]
        if with_customer_at:
            columns.append(self.dated(self.rules.customer).label("customer_at"))
        if with_last_speaker:
            columns.append(last_speaker().label("last_speaker"))
        conditions = [Conversation.created_at >= start, Conversation.created_at < end]
        conditions += filters.conversation_conditions()
        if not self.rules.include_existing_customers:
            customer_since = Contact.became_customer_at
            conditions.append(or_(customer_since.is_(None), customer_since >= Conversation.created_at))
        return (
            select(*columns)
            .select_from(Conversation)
            .outerjoin(Contact, Contact.id == Conversation.contact_id)
            .where(*conditions)
            .subquery("staged")
        )

    @staticmethod
    def group_key(breakdown: Breakdown) -> Any:
        if breakdown == "inbox":
            return Conversation.inbox_id
        if breakdown == "channel":
            return select(Inbox.channel_type).where(Inbox.id == Conversation.inbox_id).scalar_subquery()
        if breakdown == "agent":
            return Conversation.assignee_agent_id
        if breakdown == "team":
            return Conversation.team_id
        if breakdown == "campaign":
            return Contact.first_touch_campaign
        return null()

    # ------------------------------------------------------------ rules as SQL
    def condition(self, rule: StageRule) -> Any:
        found: list[Any] = []
        if rule.labels:
            found.append(self.has_label(rule.labels))
        for key, values in rule.attributes:
            for column in (Conversation.attributes, Contact.attributes):
                found += [self.attribute_equals(column, key, value) for value in values]
        if rule.interest:
            insight = ConversationInsight
            of_conversation = insight.conversation_id == Conversation.id
            found.append(exists().where(of_conversation, insight.interest.in_(rule.interest)))
        if rule.orders is not None:
            found.append(exists().where(*self.order_conditions(rule.orders)))
        if "lead" in rule.lifecycle:
            lead_since = Contact.became_lead_at
            undated = and_(lead_since.is_(None), Contact.lifecycle_stage.in_(("lead", "customer", "churned")))
            found.append(or_(lead_since < self.window_end, undated))
        if "customer" in rule.lifecycle:
            undated = and_(Contact.became_customer_at.is_(None), Contact.lifecycle_stage == "customer")
            found.append(or_(self.customer_in_window(), undated))
        return or_(*found) if found else false()

    def dated(self, rule: StageRule) -> Any:
        """The earliest dated evidence of the rule (an order's ordered_at, became_customer_at), or NULL."""
        moments: list[Any] = []
        if rule.orders is not None:
            moments.append(
                select(func.min(Order.ordered_at)).where(*self.order_conditions(rule.orders)).scalar_subquery()
            )
        if "customer" in rule.lifecycle:
            moments.append(case((self.customer_in_window(), Contact.became_customer_at), else_=null()))
        if not moments:
            return cast(null(), Conversation.created_at.type)
        earliest = moments[0]
        for other in moments[1:]:
            earliest = case(
                (earliest.is_(None), other), (other.is_(None), earliest), (earliest <= other, earliest), else_=other
            )
        return earliest

    def customer_in_window(self) -> Any:
        became = Contact.became_customer_at
        return and_(became >= Conversation.created_at, became < self.window_end)

    def order_conditions(self, rule: OrderRule) -> list[Any]:
        found = [
            Order.contact_id == Conversation.contact_id,
            Order.ordered_at >= Conversation.created_at,
            Order.ordered_at < self.window_end,
        ]
        if rule.kinds:
            found.append(Order.kind.in_(rule.kinds))
        if rule.statuses:
            found.append(Order.status.in_(rule.statuses))
        return found

    def has_label(self, labels: tuple[str, ...]) -> Any:
        if self.postgres:
            element = func.jsonb_array_elements_text(Conversation.labels).table_valued("value").render_derived()
        else:
            element = func.json_each(Conversation.labels).table_valued("value")  # json_each names its columns
        return exists(select(literal(1)).select_from(element).where(element.c.value.in_(labels)))

    def attribute_equals(self, column: Any, key: str, value: AttributeValue) -> Any:
        """``column[key] == value`` comparing JSON types (a string "true" is not true, 5 equals 5.0)."""
        if self.postgres:
            return column.op("->")(literal(key)) == cast(literal(json.dumps(value)), JSONB)
        path = f'$."{key}"'
        kind = func.json_type(column, path)
        if isinstance(value, bool):
            return kind == ("true" if value else "false")
        if isinstance(value, str):
            return and_(kind == "text", func.json_extract(column, path) == value)
        return and_(kind.in_(("integer", "real")), func.json_extract(column, path) == value)

    def seconds_between(self, later: Any, earlier: Any) -> Any:
        return seconds_between(self.session, later, earlier)


def seconds_between(session: PulsoSession, later: Any, earlier: Any) -> Any:
    """Whole seconds from ``earlier`` to ``later`` in SQL, on either database."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.round(extract("epoch", later - earlier)), Integer)
    return cast(func.round((func.julianday(later) - func.julianday(earlier)) * 86400), Integer)


def public_message(message: Any = Message) -> list[Any]:
    """A message the contact or the business wrote to the other: no private notes, activity or deleted messages."""
    return [
        message.is_private == false(),
        message.is_deleted == false(),
        message.sender_kind != "system",
        or_(message.message_type.is_(None), message.message_type != "activity"),
    ]


def last_speaker() -> Any:
    """Direction of the conversation's last message (incoming: the contact spoke last), notes and activity left out;
    NULL when it has none."""
    return (
        select(Message.direction)
        .where(Message.conversation_id == Conversation.id, *public_message())
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(1)
        .scalar_subquery()
    )
