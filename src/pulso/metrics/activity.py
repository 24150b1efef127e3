"""What a person did and when, as ``(person, at)`` rows: the actions retention and active users are built on.

A person is a contact. The actions: a tracked event with a contact (by event name), a completed order
(``REVENUE_STATUSES``), an incoming message from the contact in one of their conversations. The global filters
select people (:meth:`Filters.contact_conditions`): their first touch, or having a conversation that passes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select, union_all

from pulso.metrics.filters import Filters
from pulso.store.models import Contact, Conversation, Event, Message, Order
from pulso.store.models.silver import REVENUE_STATUSES

ActionKind = Literal["event", "order", "message"]

ACTION_DEFINITIONS = {
    "event": "a tracked event of that name attributed to a contact (events.contact_id set)",
    "order": "a completed order of the contact (status in REVENUE_STATUSES), dated when ordered",
    "message": "an incoming message the contact sent in one of their conversations",
}
ACTIVE_DEFINITION = (
    "A person (contact) is active on a local day when they sent an incoming message, did a tracked event attributed "
    "to them, or placed an order (any status) that day."
)


@dataclass(frozen=True)
class Action:
    kind: ActionKind
    event: str | None = None  # the event name, for kind "event"

    def __post_init__(self) -> None:
        if self.kind not in ("event", "order", "message"):
            raise ValueError(f"must be order, message or event:<name>, got {self.kind!r}")
        if (self.kind == "event") != bool(self.event):
            raise ValueError("an event action names its event (event:<name>); order and message take no name")

    @classmethod
    def parse(cls, text: str) -> Action:
        """``order``, ``message`` or ``event:<name>``."""
        kind, _, name = text.strip().partition(":")
        if kind == "event" and not name.strip():
            raise ValueError(f"event actions are written event:<name>, got {text!r}")
        if kind != "event" and name:
            raise ValueError(f"must be order, message or event:<name>, got {text!r}")
        return cls(kind, name.strip() or None)  # type: ignore[arg-type]

    def __str__(self) -> str:
        return f"event:{self.event}" if self.kind == "event" else self.kind

    @property
    def definition(self) -> str:
        detail = ACTION_DEFINITIONS[self.kind]
        return f"{self}: {detail.replace('that name', repr(self.event))}" if self.event else f"{self}: {detail}"


def _people(person: Any, filters: Filters) -> list[Any]:
    conditions = filters.contact_conditions()
    return [person.in_(select(Contact.id).where(*conditions))] if conditions else []


def action_rows(action: Action, filters: Filters, until: datetime, since: datetime | None = None) -> Any:
    """A SELECT of ``(person, at)``: every time a person did ``action`` in ``[since, until)``."""
    if action.kind == "event":
        person, at = Event.contact_id, Event.occurred_at
        query = select(person.label("person"), at.label("at")).where(person.is_not(None), Event.name == action.event)
    elif action.kind == "order":
        person, at = Order.contact_id, Order.ordered_at
        query = select(person.label("person"), at.label("at")).where(
            person.is_not(None), Order.status.in_(REVENUE_STATUSES)
        )
    else:
        person, at = Conversation.contact_id, Message.created_at
        query = (
            select(person.label("person"), at.label("at"))
            .select_from(Message)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(person.is_not(None), Message.direction == "incoming", Message.sender_kind == "contact")
        )
    bounds = [at < until] + ([at >= since] if since is not None else [])
    return query.where(*bounds, *_people(person, filters))


def active_rows(filters: Filters, since: datetime, until: datetime) -> Any:
    """A SELECT of ``(person, at)`` for every activity (``ACTIVE_DEFINITION``) in ``[since, until)``."""
    orders = select(Order.contact_id.label("person"), Order.ordered_at.label("at")).where(
        Order.contact_id.is_not(None), Order.ordered_at >= since, Order.ordered_at < until,
        *_people(Order.contact_id, filters),
    )  # fmt: skip
    events = select(Event.contact_id.label("person"), Event.occurred_at.label("at")).where(
        Event.contact_id.is_not(None), Event.occurred_at >= since, Event.occurred_at < until,
        *_people(Event.contact_id, filters),
    )  # fmt: skip
    messages = action_rows(Action("message"), filters, until, since)
    return union_all(messages, events, orders)
