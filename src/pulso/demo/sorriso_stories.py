"""What happens to each Sorriso lead: conversations with timed messages, bookings, follow-ups and surveys.

A story is simulated in full and then cut at the timeline's cutoff (``end_date`` local midnight): messages,
orders and answers at or after the cutoff do not exist yet, so the latest conversations stay open and the
latest bookings are still in the future.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pulso.demo.effects import PROCEDURES, SORRISO_AGENTS
from pulso.demo.sorriso_leads import BOT_AGENT, LeadBatch, assign_agents, reply_seconds
from pulso.demo.sorriso_texts import FOLLOW_UPS, MAINTENANCE, PROCEDURE_INFO, Procedure, Texts, slot_text
from pulso.demo.timeline import SECONDS_PER_DAY, Timeline

REPEAT_PROCEDURE_MIX = (("limpeza", 0.5), ("clareamento", 0.2), ("avaliacao", 0.15), ("canal", 0.15))
AFTERCARE_PROCEDURES = frozenset({"clareamento", "implante", "canal", "ortodontia"})


@dataclass
class PlannedMessage:
    at: int
    incoming: bool
    content: str
    private: bool = False


@dataclass
class PlannedOrder:
    procedure: Procedure
    amount: float
    ordered_at: int
    scheduled_for: int
    status: str = "completed"  # what happens at the appointment; 'scheduled' when it is after the cutoff


@dataclass
class PlannedConversation:
    agent: int
    inbox: int
    kind: str  # first, booking, repeat, confirmation, aftercare, lead_return
    labels: list[str]
    stage: str
    messages: list[PlannedMessage]
    order: PlannedOrder | None = None

    @property
    def created(self) -> int:
        return self.messages[0].at

    @property
    def first_reply(self) -> int | None:
        return next((m.at for m in self.messages if not m.incoming and not m.private), None)


@dataclass
class Story:
    """Everything one lead did, in time order, not yet cut at the cutoff."""

    first_name: str
    conversations: list[PlannedConversation] = field(default_factory=list)
    extra_orders: list[PlannedOrder] = field(default_factory=list)  # maintenance visits booked at the clinic


class StoryTeller:
    def __init__(self, rng: np.random.Generator, timeline: Timeline, texts: Texts) -> None:
        self.rng = rng
        self.timeline = timeline
        self.texts = texts

    # ------------------------------------------------------------ timing
    def _contact_delay(self) -> int:
        return int(np.clip(np.exp(np.log(150.0) + 1.1 * self.rng.standard_normal()), 5, 4 * 3600))

    def _agent_delay(self, agent: int) -> int:
        return int(reply_seconds(self.rng, np.array([agent]), scale=0.8)[0])

    def _thread(self, start: int, agent: int, n_pairs: int, first_response: int) -> list[int]:
        """Times of incoming/outgoing messages, alternating, starting with the patient's at ``start``."""
        times, t = [], start
        for k in range(n_pairs):
            if k:
                t += self._contact_delay()
            times.append(t)
            t += first_response if k == 0 else self._agent_delay(agent)
            times.append(t)
        return times

    def _messages(self, times: list[int], pairs: list[tuple[str, str]]) -> list[PlannedMessage]:
        messages = []
        for k, (incoming, outgoing) in enumerate(pairs):
            messages.append(PlannedMessage(times[2 * k], True, incoming))
            messages.append(PlannedMessage(times[2 * k + 1], False, outgoing))
        return messages

    def _agent_for(self, at: int) -> int:
        day = self.timeline.day_of(at)
        seconds = at - self.timeline.at(day, 0)
        return int(assign_agents(self.rng, self.timeline, np.array([day]), np.array([seconds]))[0])

    def _appointment(self, booked_at: int, procedure: Procedure) -> tuple[PlannedOrder, str]:
        """A slot 1-14 days after booking, in opening hours, and its Portuguese description."""
        day = self.timeline.day_of(booked_at) + int(self.rng.integers(1, 15))
        while (
            self.timeline.weekday[min(day, len(self.timeline.weekday) - 1)] == 6
            or self.timeline.is_holiday[min(day, len(self.timeline.is_holiday) - 1)]
        ):
            day += 1
        saturday = self.timeline.weekday[min(day, len(self.timeline.weekday) - 1)] == 5
        hour = (
            int(self.rng.integers(8, 13)) if saturday else int(self.rng.choice([8, 9, 10, 11, 13, 14, 15, 16, 17, 18]))
        )
        minute = 30 * int(self.rng.integers(0, 2))
        scheduled = self.timeline.at(day, hour * 3600 + minute * 60)
        local = self.timeline.day(day)
        low, high = procedure.price_range
        amount = float(round(self.rng.uniform(low, high) / 10) * 10)
        outcome = self.rng.random()
        status = "completed" if outcome < 0.92 else "no_show" if outcome < 0.97 else "cancelled"
        order = PlannedOrder(procedure, amount, booked_at, scheduled, status)
        return order, slot_text(local.weekday(), local.day, local.month, hour, minute)

    # ------------------------------------------------------------ conversations
    def first_conversation(self, leads: LeadBatch, i: int, name: str, is_referral: bool) -> PlannedConversation:
        procedure = PROCEDURE_INFO[PROCEDURES[leads.procedure[i]]]
        agent, asked = int(leads.agent[i]), bool(leads.asked_price[i])
        agent_name = SORRISO_AGENTS[agent].name.split(" ")[0] if agent != BOT_AGENT else "a Sofia, assistente virtual"
        n = int(leads.incoming_messages[i])
        pairs = [(self.texts.opening(procedure, asked), self.texts.first_answer(procedure, asked, name, agent_name))]
        for question in self.rng.choice(10, size=max(n - 2, 0), replace=False):
            pairs.append(FOLLOW_UPS[int(question)])
        times = self._thread(int(leads.created[i]), agent, n, int(leads.first_response_seconds[i]))
        order = None
        if n >= 2:
            if leads.books_in_first[i]:
                order, slot = self._appointment(times[-1], procedure)
                pairs.append(self.texts.booking(slot, name))
            else:
                pairs.append(self.texts.no_booking(name))
        labels = [procedure.key] + (["orcamento"] if asked else []) + (["indicacao"] if is_referral else [])
        if leads.campaign[i] and "promo" in str(leads.campaign[i]):
            labels.append("promo")
        if order:
            labels.append("agendado")
        stage = "booked" if order else "quoted" if asked else "new"
        messages = self._messages(times, pairs)
        if agent != BOT_AGENT and self.rng.random() < 0.04:
            note_at = times[0] + int(self.rng.integers(5, max(6, times[1] - times[0])))
            messages.append(PlannedMessage(note_at, False, self.texts.private_note(), private=True))
            messages.sort(key=lambda m: m.at)
        return PlannedConversation(agent, int(leads.inbox[i]), "first", labels, stage, messages, order)

    def _short(
        self, start: int, inbox: int, kind: str, labels: list[str], stage: str, pairs: list[tuple[str, str]]
    ) -> PlannedConversation:
        agent = self._agent_for(start)
        first_response = int(reply_seconds(self.rng, np.array([agent]))[0])
        times = self._thread(start, agent, len(pairs), first_response)
        return PlannedConversation(agent, inbox, kind, labels, stage, self._messages(times, pairs))

    def _random_start(self, day: int) -> int:
        return self.timeline.at(day, int(self.rng.integers(8 * 3600, 21 * 3600)))

    def booking_conversation(
        self, start: int, inbox: int, procedure: Procedure, name: str, kind: str
    ) -> PlannedConversation:
        conversation = self._short(
            start,
            inbox,
            kind,
            [procedure.key, "agendado", "retorno"],
            "booked",
            [self.texts.return_to_book(procedure, name)],
        )
        order, slot = self._appointment(conversation.messages[-1].at + self._contact_delay(), procedure)
        request, answer = self.texts.booking(slot, name)
        asked_at = order.ordered_at
        order.ordered_at = asked_at + self._agent_delay(conversation.agent)
        conversation.messages += [
            PlannedMessage(asked_at, True, request),
            PlannedMessage(order.ordered_at, False, answer),
        ]
        conversation.order = order
        return conversation

    def tell(self, leads: LeadBatch, i: int, name: str, is_referral: bool) -> Story:
        """The lead's whole story: first conversation, then whatever follows from converting or not."""
        story = Story(name)
        first = self.first_conversation(leads, i, name, is_referral)
        story.conversations.append(first)
        inbox = int(leads.inbox[i])
        procedure = PROCEDURE_INFO[PROCEDURES[leads.procedure[i]]]
        if leads.converts[i] and first.order is None:
            start = first.messages[-1].at + int(leads.conversion_delay_days[i] * SECONDS_PER_DAY)
            story.conversations.append(self.booking_conversation(start, inbox, procedure, name, "booking"))
        elif not leads.converts[i] and self.rng.random() < 0.15:
            day = self.timeline.day_of(first.created) + int(self.rng.integers(7, 61))
            pairs = [self.texts.lead_return(procedure, name)]
            if self.rng.random() < 0.5:
                pairs.append(self.texts.no_booking(name))
            story.conversations.append(
                self._short(self._random_start(day), inbox, "lead_return", [procedure.key, "retorno"], "quoted", pairs)
            )
        booking = next((c.order for c in story.conversations if c.order), None)
        if booking is not None:
            self._after_booking(story, booking, inbox, name, repeat_allowed=True)
        return story

    def _after_booking(self, story: Story, order: PlannedOrder, inbox: int, name: str, *, repeat_allowed: bool) -> None:
        """Confirmation the day before, aftercare the day after, maintenance visits and a repeat booking."""
        appointment_day = self.timeline.day_of(order.scheduled_for)
        if self.rng.random() < 0.5 and order.status != "cancelled":
            start = self._random_start(appointment_day - 1)
            hour = (order.scheduled_for - self.timeline.at(appointment_day, 0)) // 3600
            conversation = self._short(
                start, inbox, "confirmation", ["confirmacao"], "support", [self.texts.confirmation(hour, name)]
            )
            if order.ordered_at + 3600 < conversation.created and conversation.messages[-1].at < order.scheduled_for:
                story.conversations.append(conversation)
        if order.status != "completed":
            return
        if order.procedure.key in AFTERCARE_PROCEDURES and self.rng.random() < 0.15:
            pairs = [self.texts.aftercare(order.procedure, name)]
            story.conversations.append(
                self._short(
                    self._random_start(appointment_day + 1),
                    inbox,
                    "aftercare",
                    ["pos-atendimento", order.procedure.key],
                    "support",
                    pairs,
                )
            )
        if order.procedure.key == "ortodontia":
            visit = order.scheduled_for
            while self.rng.random() > 0.06 and visit < self.timeline.cutoff:
                booked_at, visit = visit + 3600, visit + 30 * SECONDS_PER_DAY
                if self.timeline.weekday[min(self.timeline.day_of(visit), len(self.timeline.weekday) - 1)] == 6:
                    visit += SECONDS_PER_DAY  # closed on Sundays
                low, high = MAINTENANCE.price_range
                story.extra_orders.append(
                    PlannedOrder(MAINTENANCE, float(round(self.rng.uniform(low, high) / 10) * 10), booked_at, visit)
                )
        if repeat_allowed and self.rng.random() < 0.25:
            weights = np.array([w for _, w in REPEAT_PROCEDURE_MIX])
            key = REPEAT_PROCEDURE_MIX[int(self.rng.choice(len(weights), p=weights))][0]
            procedure = PROCEDURE_INFO[key]
            start = self._random_start(appointment_day + int(self.rng.integers(30, 121)))
            conversation = self.booking_conversation(start, inbox, procedure, name, "repeat")
            story.conversations.append(conversation)
            if conversation.order is not None:
                self._after_booking(story, conversation.order, inbox, name, repeat_allowed=False)
