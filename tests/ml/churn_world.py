"""A small tenant with a planted churn effect: customers who stopped messaging stop buying.

Every customer's purchases before ``as_of = now - 90 days`` are drawn the same way for everyone (first purchase 30
to 200 days before as_of, up to two more later), so purchase history carries no signal. Half the customers are
*engaged*: they sent two messages in the 30 days before as_of and two in the 30 days before now. The others sent
one message 40 to 150 days before as_of and nothing since. An engaged customer churns (no purchase in the 90 days
after as_of) with probability 0.1, a silent one with 0.9; those who stay buy once in that period. So a model on
the churn frame can only learn from the messaging features: ``messages_last_30_days`` and
``days_since_last_message``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

import numpy as np
from sqlalchemy import insert

from pulso.store.models import Contact, Conversation, Inbox, Message, Order
from pulso.store.session import tenant_session

HORIZON = timedelta(days=90)
MESSAGE_COLUMNS = {"messages_last_30_days", "days_since_last_message"}


@dataclass
class World:
    now: datetime
    engaged: list[int] = field(default_factory=list)
    silent: list[int] = field(default_factory=list)
    purchases: dict[int, list[datetime]] = field(default_factory=dict)  # every order time, per contact id


def seed_churn_world(tenant_id: int, now: datetime, customers: int = 160, seed: int = 1) -> World:
    rng = np.random.default_rng(seed)
    as_of = now - HORIZON
    world = World(now)
    with tenant_session(tenant_id) as session:
        inbox = Inbox(external_id="wa", name="WhatsApp", channel_type="whatsapp")
        contacts = [Contact(name=f"Customer {n}") for n in range(customers)]
        session.add_all([inbox, *contacts])
        session.flush()
        talks = [
            Conversation(external_id=f"c{c.id}", inbox_id=inbox.id, contact_id=c.id, created_at=as_of - HORIZON * 2)
            for c in contacts
        ]
        session.add_all(talks)
        session.flush()
        orders, messages = [], []
        for n, (contact, talk) in enumerate(zip(contacts, talks, strict=True)):
            engaged = n % 2 == 0
            (world.engaged if engaged else world.silent).append(contact.id)
            first = as_of - timedelta(days=float(rng.uniform(30, 200)))
            times = [first] + [first + (as_of - first) * float(rng.uniform(0.1, 0.95)) for _ in range(rng.integers(3))]
            if rng.random() >= (0.1 if engaged else 0.9):
                times.append(as_of + timedelta(days=float(rng.uniform(1, 85))))
            world.purchases[contact.id] = times
            orders += [
                {"tenant_id": tenant_id, "external_id": f"o{contact.id}-{k}", "contact_id": contact.id,
                 "amount": Decimal(int(rng.integers(50, 500))), "ordered_at": when}
                for k, when in enumerate(times)
            ]  # fmt: skip
            if engaged:
                said = [end - timedelta(days=float(rng.uniform(1, 29))) for end in (as_of, as_of, now, now)]
            else:
                said = [as_of - timedelta(days=float(rng.uniform(40, 150)))]
            messages += [
                {"tenant_id": tenant_id, "external_id": f"m{contact.id}-{k}", "conversation_id": talk.id,
                 "direction": "incoming", "sender_kind": "contact", "created_at": when}
                for k, when in enumerate(said)
            ]  # fmt: skip
        session.execute(insert(Order), orders)
        session.execute(insert(Message), messages)
    return world
