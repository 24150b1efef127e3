"""The playbook matrix: each contact's intent x score -> an action (CONVERT, PUSH, NURTURE, DISCARD).

A query object (STYLE.md point 7): :class:`PlaybookParams` in, :class:`PlaybookResult` out with the range, the rules
and the definitions. Per contact, the intent is that of the latest analyzer insight over their conversations created
in the range; the score is their latest lead score (``lead_scores``, scored before the range ends), else that
insight's score, on 0-100. Bands, intent groups and actions are ``CASE`` expressions built from :data:`RULES`; the
cells and the contacts per action are counted and listed in SQL on both databases.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, select

from pulso.metrics.filters import Filters
from pulso.metrics.overview import DateRange
from pulso.store.models import Contact, Conversation, ConversationInsight, LeadScore
from pulso.store.session import PulsoSession

PlaybookAction = Literal["CONVERT", "PUSH", "NURTURE", "DISCARD"]
ACTIONS: tuple[PlaybookAction, ...] = ("CONVERT", "PUSH", "NURTURE", "DISCARD")
BANDS = ("high", "medium", "low", "unscored")
HIGH, MEDIUM = 70, 40  # high: 70-100, medium: 40-69.99, low: below 40
# intents (compared in lower case) that mean the contact wants to buy or book
PURCHASE_INTENTS = (
    "purchase", "buy", "booking", "book", "schedule", "appointment", "compra", "comprar", "agendamento", "agendar",
)  # fmt: skip

# (intent group, score band) -> action: the rules, in one table
RULES: dict[tuple[str, str], PlaybookAction] = {
    ("purchase", "high"): "CONVERT",  # wants to buy and is likely to: close now
    ("purchase", "medium"): "PUSH",  # wants to buy, less likely: an offer, a follow-up
    ("purchase", "low"): "NURTURE",
    ("purchase", "unscored"): "NURTURE",
    ("other", "high"): "PUSH",  # likely buyer without a buying intent yet: propose
    ("other", "medium"): "NURTURE",
    ("other", "low"): "DISCARD",
    ("other", "unscored"): "DISCARD",
}

DEFINITIONS = {
    "contacts": (
        "Contacts with an analyzer insight on one of their conversations created in the range; each is counted "
        "once, with the latest such insight (by its creation time)."
    ),
    "intent": (
        "conversation_insights.intent of that insight; purchase intents (any of PURCHASE_INTENTS, in lower "
        "case) form the 'purchase' group, everything else (none included) 'other'."
    ),
    "score": (
        "The contact's latest lead score (lead_scores.score, scored before the range ends), else the insight's "
        f"score, 0-100. Bands: high {HIGH}-100, medium {MEDIUM}-{HIGH}, low below {MEDIUM}, unscored."
    ),
    "action": "RULES[(intent group, band)]: see rules.",
}


@dataclass(frozen=True)
class PlaybookParams:
    date_range: DateRange
    timezone: str
    filters: Filters = field(default_factory=Filters)
    purchase_intents: tuple[str, ...] = PURCHASE_INTENTS
    contacts_per_action: int = 100

    def __post_init__(self) -> None:
        ZoneInfo(self.timezone)  # raises for an unknown zone
        if not 0 <= self.contacts_per_action <= 1000:
            raise ValueError(f"contacts_per_action must be between 0 and 1000, got {self.contacts_per_action}")


@dataclass(frozen=True)
class PlaybookCell:
    intent: str | None
    band: str
    action: PlaybookAction
    contacts: int


@dataclass(frozen=True)
class PlaybookContact:
    contact_id: int
    name: str
    intent: str | None
    score: float | None
    band: str
    action: PlaybookAction


@dataclass(frozen=True)
class PlaybookResult:
    params: PlaybookParams
    start_utc: datetime
    end_utc: datetime
    cells: list[PlaybookCell]  # by intent, then band
    actions: dict[str, int]  # contacts per action, every action
    contacts: dict[str, list[PlaybookContact]]  # per action, the highest scores first, at most contacts_per_action
    rules: dict[tuple[str, str], PlaybookAction] = field(default_factory=lambda: dict(RULES))
    definitions: dict[str, str] = field(default_factory=lambda: dict(DEFINITIONS))


def playbook(session: PulsoSession, params: PlaybookParams) -> PlaybookResult:
    start, end = params.date_range.utc_bounds(params.timezone)
    classified = _classified(params, start, end)
    grouped = session.execute(
        select(classified.c.intent, classified.c.band, classified.c.action, func.count()).group_by(
            classified.c.intent, classified.c.band, classified.c.action
        )
    ).all()
    cells = [PlaybookCell(intent, band, action, int(n)) for intent, band, action, n in grouped]
    cells.sort(key=lambda c: (c.intent is None, c.intent or "", BANDS.index(c.band)))
    actions: dict[str, int] = {a: sum(c.contacts for c in cells if c.action == a) for a in ACTIONS}
    place = (
        func.row_number()
        .over(partition_by=classified.c.action, order_by=(classified.c.score.desc().nulls_last(), classified.c.person))
        .label("place")
    )
    listed = select(classified, Contact.name, place).join(Contact, Contact.id == classified.c.person).subquery()
    rows = session.execute(
        select(listed).where(listed.c.place <= params.contacts_per_action).order_by(listed.c.action, listed.c.place)
    ).all()
    contacts: dict[str, list[PlaybookContact]] = {action: [] for action in ACTIONS}
    for row in rows:
        score = None if row.score is None else float(row.score)
        contacts[row.action].append(
            PlaybookContact(int(row.person), row.name or "", row.intent, score, row.band, row.action)
        )
    return PlaybookResult(params, start, end, cells, actions, contacts)


def _classified(params: PlaybookParams, start: datetime, end: datetime) -> Any:
    """A subquery (person, intent, score, band, action): one row per contact."""
    newest = func.row_number().over(
        partition_by=Conversation.contact_id,
        order_by=(ConversationInsight.created_at.desc(), ConversationInsight.id.desc()),
    )
    insights = (
        select(
            Conversation.contact_id.label("person"),
            ConversationInsight.intent,
            ConversationInsight.score,
            newest.label("rn"),
        )
        .join(Conversation, Conversation.id == ConversationInsight.conversation_id)
        .where(
            Conversation.contact_id.is_not(None),
            Conversation.created_at >= start,
            Conversation.created_at < end,
            *params.filters.conversation_conditions(),
        )
        .subquery("insights")
    )
    latest_score = func.row_number().over(
        partition_by=LeadScore.contact_id, order_by=(LeadScore.scored_at.desc(), LeadScore.id.desc())
    )
    scores = (
        select(LeadScore.contact_id, LeadScore.score, latest_score.label("rn"))
        .where(LeadScore.scored_at < end)
        .subquery("scores")
    )
    score = func.coalesce(scores.c.score, insights.c.score)
    band = case((score >= HIGH, "high"), (score >= MEDIUM, "medium"), (score.is_not(None), "low"), else_="unscored")
    purchase = [intent.lower() for intent in params.purchase_intents]
    group = case((func.lower(insights.c.intent).in_(purchase), "purchase"), else_="other")
    action = case(
        *[(and_(group == g, band == b), action) for (g, b), action in RULES.items()],
        else_="DISCARD",
    )
    return (
        select(
            insights.c.person,
            insights.c.intent,
            score.label("score"),
            band.label("band"),
            action.label("action"),
        )
        .outerjoin(scores, and_(scores.c.contact_id == insights.c.person, scores.c.rn == 1))
        .where(insights.c.rn == 1)
        .subquery("classified")
    )
