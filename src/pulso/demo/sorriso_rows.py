"""Turning Sorriso stories into table rows: cut at the cutoff, then contacts, conversations, messages, resolves,
orders and feedback, written parents first so children get the ids the database assigned.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np

from pulso.demo.effects import PROCEDURES, SORRISO_AGENTS
from pulso.demo.people import SAO_PAULO_AREA, People, Person
from pulso.demo.sorriso_leads import INBOXES, LEAD_SOURCES, LeadBatch
from pulso.demo.sorriso_stories import PlannedConversation, PlannedOrder, Story
from pulso.demo.timeline import Timeline, utc
from pulso.demo.writer import RowCounts, insert_returning_ids, insert_rows
from pulso.store.models import (
    Contact,
    ContactIdentity,
    Conversation,
    ConversationStatusChange,
    Feedback,
    Message,
    Order,
)
from pulso.store.session import PulsoSession

CSAT_RESPONSE_RATE = 0.35
NPS_RESPONSE_RATE = 0.45
# CSAT 1..5 probabilities when the first reply came within 5 minutes, and when it did not.
CSAT_FAST = (0.02, 0.03, 0.08, 0.27, 0.60)
CSAT_SLOW = (0.08, 0.10, 0.20, 0.32, 0.30)
NPS_SCORES = (0.01, 0.01, 0.01, 0.02, 0.02, 0.04, 0.05, 0.09, 0.15, 0.25, 0.35)
CSAT_COMMENTS = {
    1: ("Demoraram muito para responder.", "Ninguém me respondeu direito."),
    2: ("Atendimento demorado.",),
    3: ("Ok, mas poderia ser mais rápido.",),
    4: ("Bom atendimento.", "Gostei, foram atenciosos."),
    5: ("Atendimento excelente, muito rápido!", "Super atenciosos, recomendo!"),
}
NPS_COMMENTS = ("Equipe maravilhosa!", "Clínica limpa e organizada.", "Preço um pouco alto.", "A dentista é ótima.")


@dataclass
class Sequences:
    """Per-tenant running numbers for external ids (Chatwoot-like display ids)."""

    contact: int = 0
    conversation: int = 0
    message: int = 0
    order: int = 0
    feedback: int = 0


class SorrisoRows:
    def __init__(
        self,
        tenant_id: int,
        timeline: Timeline,
        rng: np.random.Generator,
        people: People,
        inbox_ids: list[int],
        agent_ids: list[int],
    ) -> None:
        self.tenant_id = tenant_id
        self.timeline = timeline
        self.rng = rng
        self.people = people
        self.inbox_ids = inbox_ids
        self.agent_ids = agent_ids
        self.seq = Sequences()

    # ------------------------------------------------------------ cut
    def cut(self, story: Story) -> list[PlannedConversation]:
        """Keep what happened before the cutoff; a booking exists only if its confirmation was sent."""
        cutoff, kept = self.timeline.cutoff, []
        for conversation in story.conversations:
            conversation.messages = [m for m in conversation.messages if m.at < cutoff]
            if not conversation.messages:
                continue
            if conversation.order and conversation.order.ordered_at >= cutoff:
                conversation.order = None
            kept.append(conversation)
        for order in [c.order for c in kept if c.order] + story.extra_orders:
            if order.scheduled_for >= cutoff:
                order.status = "scheduled"
        story.extra_orders = [o for o in story.extra_orders if o.ordered_at < cutoff]
        return kept

    # ------------------------------------------------------------ contacts
    def contact_row(self, leads: LeadBatch, i: int, person: Person, kept: list[PlannedConversation]) -> dict[str, Any]:
        self.seq.contact += 1
        source = LEAD_SOURCES[leads.source[i]]
        first = kept[0]
        bookings = [c.order.ordered_at for c in kept if c.order]
        reply = first.first_reply
        first_response = reply - first.created if reply is not None else None
        attributes = {
            "procedure_interest": PROCEDURES[leads.procedure[i]],
            "asked_price": bool(leads.asked_price[i]),
            "is_referral": source.channel == "referral",
            "channel": INBOXES[leads.inbox[i]],
            "messages_in_first_conversation": int(leads.incoming_messages[i]),
            "first_response_seconds": first_response,
            "first_response_under_5min": None if first_response is None else first_response < 300,
        }
        city, state = self.people.city(SAO_PAULO_AREA)
        email = self.people.personal_email(person, self.seq.contact) if self.rng.random() < 0.45 else None
        last_activity = max(m.at for c in kept for m in c.messages)
        return {
            "tenant_id": self.tenant_id,
            "name": person.name,
            "email": email,
            "phone": self.people.phone(self.seq.contact),
            "city": city,
            "state": state,
            "lifecycle_stage": "customer" if bookings else "lead",
            "first_seen_at": utc(first.created),
            "became_lead_at": utc(first.created),
            "became_customer_at": utc(min(bookings)) if bookings else None,
            "first_touch_channel": source.channel,
            "first_touch_source": source.source,
            "first_touch_medium": source.medium,
            "first_touch_campaign": leads.campaign[i],
            "first_touch_term": None,
            "first_touch_content": None,
            "attributes": attributes,
            "created_at": utc(first.created),
            "updated_at": utc(last_activity),
        }

    def identity_rows(self, contact_id: int, contact: dict[str, Any], sequence: int) -> list[dict[str, Any]]:
        values = [("phone", contact["phone"]), ("chatwoot_contact_id", f"cw-contact-{sequence}")]
        if contact["email"]:
            values.append(("email", contact["email"]))
        return [{"tenant_id": self.tenant_id, "contact_id": contact_id, "kind": k, "value": v} for k, v in values]

    # ------------------------------------------------------------ conversations and what hangs off them
    def conversation_row(self, contact_id: int, conversation: PlannedConversation) -> dict[str, Any]:
        self.seq.conversation += 1
        last = conversation.messages[-1].at
        # Bots close at once; people close when they get round to it (median 2 hours, long tail).
        resolution = 300 if SORRISO_AGENTS[conversation.agent].kind == "bot" else 7200
        resolved = last + int(np.exp(np.log(resolution) + 1.3 * self.rng.standard_normal()))
        reply = conversation.first_reply
        is_resolved = resolved < self.timeline.cutoff and not conversation.messages[-1].incoming and reply is not None
        status = "resolved" if is_resolved else "open"
        # Some quotes that did not book are left open (forgotten) or snoozed (waiting for the patient).
        forgotten = self.rng.random()
        if is_resolved and conversation.order is None and conversation.kind in ("first", "lead_return"):
            status = "open" if forgotten < 0.04 else "snoozed" if forgotten < 0.06 else status
        is_resolved = status == "resolved"
        return {
            "tenant_id": self.tenant_id,
            "external_id": f"cw-conv-{self.seq.conversation}",
            "display_id": self.seq.conversation,
            "inbox_id": self.inbox_ids[conversation.inbox],
            "contact_id": contact_id,
            "assignee_agent_id": self.agent_ids[conversation.agent],
            "status": status,
            "priority": "high" if "canal" in conversation.labels and conversation.kind == "first" else None,
            "stage": conversation.stage,
            "labels": conversation.labels,
            "attributes": {"topic": conversation.kind},
            "created_at": utc(conversation.created),
            "first_reply_at": utc(reply) if reply is not None else None,
            "resolved_at": utc(resolved) if is_resolved else None,
            "last_activity_at": utc(last),
        }

    def message_rows(self, conversation_id: int, conversation: PlannedConversation) -> list[dict[str, Any]]:
        agent_id = self.agent_ids[conversation.agent]
        sender = SORRISO_AGENTS[conversation.agent].kind.replace("human", "agent")
        rows = []
        for message in conversation.messages:
            self.seq.message += 1
            rows.append(
                {
                    "tenant_id": self.tenant_id,
                    "external_id": f"cw-msg-{self.seq.message}",
                    "conversation_id": conversation_id,
                    "direction": "incoming" if message.incoming else "outgoing",
                    "sender_kind": "contact" if message.incoming else sender,
                    "agent_id": None if message.incoming else agent_id,
                    "content": message.content,
                    "content_type": "text",
                    "is_private": message.private,
                    "created_at": utc(message.at),
                }
            )
        return rows

    def resolve_rows(self, conversation_id: int, row: dict[str, Any]) -> list[dict[str, Any]]:
        """A resolved conversation's resolve, as Chatwoot reports it (facts take resolutions from status changes)."""
        change = {"at": row["resolved_at"], "from_status": "open", "to_status": "resolved", "by_bot_handoff": False}
        keys = {"tenant_id": self.tenant_id, "conversation_id": conversation_id, "origin": "reporting_event"}
        return [{**keys, **change}] if row["status"] == "resolved" else []

    def order_row(self, contact_id: int, order: PlannedOrder) -> dict[str, Any]:
        self.seq.order += 1
        return {
            "tenant_id": self.tenant_id,
            "external_id": f"sorriso-bk-{self.seq.order}",
            "contact_id": contact_id,
            "kind": "booking",
            "product": order.procedure.product,
            "amount": Decimal(f"{order.amount:.2f}"),
            "currency": "BRL",
            "status": order.status,
            "ordered_at": utc(order.ordered_at),
            "scheduled_for": utc(order.scheduled_for),
        }

    def csat_row(self, contact_id: int, conversation_id: int, row: dict[str, Any]) -> dict[str, Any] | None:
        if row["status"] != "resolved" or self.rng.random() >= CSAT_RESPONSE_RATE:
            return None
        answered = int(row["resolved_at"].timestamp()) + int(self.rng.integers(60, 3600))
        if answered >= self.timeline.cutoff:
            return None
        fast = (row["first_reply_at"] - row["created_at"]).total_seconds() < 300
        score = 1 + int(self.rng.choice(5, p=CSAT_FAST if fast else CSAT_SLOW))
        comments = CSAT_COMMENTS[score]
        comment = comments[int(self.rng.integers(len(comments)))] if self.rng.random() < 0.3 else None
        return self._feedback("csat", score, comment, answered, contact_id, conversation_id, row["assignee_agent_id"])

    def nps_row(self, contact_id: int, first_booking: PlannedOrder | None) -> dict[str, Any] | None:
        if first_booking is None or first_booking.status != "completed" or self.rng.random() >= NPS_RESPONSE_RATE:
            return None
        answered = (
            first_booking.scheduled_for + int(self.rng.integers(1, 4)) * 86_400 + int(self.rng.integers(0, 36_000))
        )
        if answered >= self.timeline.cutoff:
            return None
        score = int(self.rng.choice(11, p=NPS_SCORES))
        comment = NPS_COMMENTS[int(self.rng.integers(len(NPS_COMMENTS)))] if self.rng.random() < 0.25 else None
        return self._feedback("nps", score, comment, answered, contact_id, None, None)

    def _feedback(
        self,
        kind: str,
        score: int,
        comment: str | None,
        at: int,
        contact_id: int,
        conversation_id: int | None,
        agent_id: int | None,
    ) -> dict[str, Any]:
        self.seq.feedback += 1
        return {
            "tenant_id": self.tenant_id,
            "external_id": f"{kind}-{self.seq.feedback}",
            "contact_id": contact_id,
            "conversation_id": conversation_id,
            "agent_id": agent_id,
            "kind": kind,
            "score": score,
            "comment": comment,
            "answered_at": utc(at),
        }

    # ------------------------------------------------------------ one chunk
    def write(
        self, session: PulsoSession, leads: LeadBatch, stories: list[Story], people: list[Person], counts: RowCounts
    ) -> None:
        """Insert one chunk: contacts, identities, conversations, then messages, resolves, orders and feedback."""
        kept = [self.cut(story) for story in stories]
        live = [i for i in range(len(stories)) if kept[i]]
        first_sequence = self.seq.contact + 1
        contacts = [self.contact_row(leads, i, people[i], kept[i]) for i in live]
        contact_ids = insert_returning_ids(session, Contact, contacts, counts)
        identities = [
            row
            for n, (contact_id, contact) in enumerate(zip(contact_ids, contacts, strict=True))
            for row in self.identity_rows(contact_id, contact, first_sequence + n)
        ]
        insert_rows(session, ContactIdentity, identities, counts)

        owners: list[tuple[int, PlannedConversation]] = [
            (cid, c) for cid, i in zip(contact_ids, live, strict=True) for c in kept[i]
        ]
        conversation_rows = [self.conversation_row(cid, c) for cid, c in owners]
        conversation_ids = insert_returning_ids(session, Conversation, conversation_rows, counts)
        messages, resolves, orders, feedback = [], [], [], []
        for conversation_id, (contact_id, conversation), row in zip(
            conversation_ids, owners, conversation_rows, strict=True
        ):
            messages += self.message_rows(conversation_id, conversation)
            resolves += self.resolve_rows(conversation_id, row)
            if conversation.order:
                orders.append(self.order_row(contact_id, conversation.order))
            csat = self.csat_row(contact_id, conversation_id, row)
            if csat:
                feedback.append(csat)
        for contact_id, i in zip(contact_ids, live, strict=True):
            orders += [self.order_row(contact_id, o) for o in stories[i].extra_orders]
            nps = self.nps_row(contact_id, next((c.order for c in kept[i] if c.order), None))
            if nps:
                feedback.append(nps)
        insert_rows(session, Message, messages, counts)
        insert_rows(session, ConversationStatusChange, resolves, counts)
        insert_rows(session, Order, orders, counts)
        insert_rows(session, Feedback, feedback, counts)
