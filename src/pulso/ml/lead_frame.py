"""The lead-scoring frame from a tenant's data: one row per lead, features as of a time, the outcome.

A lead starts at ``started_at``: when it became a lead, else at its first conversation (contacts with neither are
no leads). Its features count only what happened before
``as_of = min(started_at + window, became_customer_at, now)``: for a lead that converted, nothing from the
conversion on; for an open lead, what is known now (capped by the window, so training and scoring see the same
span). The outcome ``converted`` is 1 when the contact became a customer within ``horizon`` of the start, 0 when
the horizon has passed without it, and missing (NaN) while it is still open: such leads are scored, not trained
on. Contacts that were customers before they started, and merged contacts, are no leads. Definitions of every
column: :data:`FEATURES` (also in docs/models.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from sqlalchemy import select

from pulso.metrics.columns import fetch_frame
from pulso.store.models import Contact, Conversation, ConversationFactsRow, ConversationInsight, Event, Inbox, Message
from pulso.store.session import PulsoSession
from pulso.store.sqltime import epoch_ms

FEATURES = {
    "first_touch_channel": "The contact's first-touch channel (categorical).",
    "first_touch_campaign": "The contact's first-touch campaign (categorical).",
    "first_inbox_channel": "Channel type of the inbox of the lead's first conversation (whatsapp, instagram...).",
    "start_hour": "Local hour (0-23, tenant time zone) of the lead's start.",
    "start_weekday": "Local ISO weekday (1 Monday .. 7 Sunday) of the lead's start.",
    "conversations": "Conversations created before as_of.",
    "messages_in": "Messages from the contact before as_of (private notes excluded).",
    "messages_out": "Replies from agents and bots before as_of (private notes excluded).",
    "first_response_seconds": "The first conversation's first human response time, if it came before as_of.",
    "answered": "1 if the first conversation had a human response before as_of.",
    "days_since_last_message": "Days from the contact's last message to as_of (missing without one).",
    "engagement_decay": "exp(-days_since_last_message / 7): 1 just after a message, towards 0 with silence.",
    "events": "Track events before as_of.",
    "page_views": "Page events before as_of.",
    "ai_interest": "The AI interest class (Alto/Médio/Baixo) of the latest analysed conversation before as_of.",
    "ai_score": "That conversation's AI conversion score (0-100).",
}
CATEGORICAL = ("first_touch_channel", "first_touch_campaign", "first_inbox_channel", "ai_interest")
DECAY_DAYS = 7.0
MS_PER_DAY = 86_400_000


@dataclass(frozen=True)
class LeadFrameParams:
    now: datetime
    timezone: str
    window: timedelta = timedelta(days=7)
    horizon: timedelta = timedelta(days=90)

    def __post_init__(self) -> None:
        if self.now.tzinfo is None:
            raise ValueError("now: a timezone-aware time")
        ZoneInfo(self.timezone)
        if not timedelta(hours=1) <= self.window <= self.horizon:
            raise ValueError("window: from 1 hour up to the horizon")


@dataclass(frozen=True)
class LeadInputs:
    """The tenant's rows a lead frame is computed from (times as epoch milliseconds), fetched once so that frames
    at several windows (the landmarks of :mod:`pulso.ml.leads.activity`) cost one read."""

    contacts: pd.DataFrame  # index contact: lead, customer, channel_touch, campaign
    conversations: pd.DataFrame  # conversation, contact, at, channel, first_response; sorted by (at, conversation)
    messages: pd.DataFrame  # contact, at, direction (private notes left out)
    events: pd.DataFrame  # contact, at, type (track and page only)
    insights: pd.DataFrame  # conversation, interest, score, contact, at (the conversation's)


def fetch_lead_inputs(session: PulsoSession) -> LeadInputs:
    conversations = fetch_frame(
        session,
        select(
            Conversation.id.label("conversation"),
            Conversation.contact_id.label("contact"),
            epoch_ms(session, Conversation.created_at).label("at"),
            Inbox.channel_type.label("channel"),
            ConversationFactsRow.first_response_seconds.label("first_response"),
        )
        .join(Inbox, Inbox.id == Conversation.inbox_id)
        .outerjoin(ConversationFactsRow, ConversationFactsRow.conversation_id == Conversation.id)
        .where(Conversation.contact_id.is_not(None)),
        {"conversation": "int64", "contact": "int64", "at": "int64", "channel": "object", "first_response": "float64"},
    ).sort_values(["at", "conversation"])
    m, e, i = Message, Event, ConversationInsight
    messages = fetch_frame(
        session,
        select(Conversation.contact_id.label("contact"), epoch_ms(session, m.created_at).label("at"), m.direction)
        .join(Conversation, Conversation.id == m.conversation_id)
        .where(m.is_private.is_(False), Conversation.contact_id.is_not(None)),
        {"contact": "int64", "at": "int64", "direction": "object"},
    )
    events = fetch_frame(
        session,
        select(e.contact_id.label("contact"), epoch_ms(session, e.occurred_at).label("at"), e.type.label("type")).where(
            e.contact_id.is_not(None), e.type.in_(("track", "page"))
        ),
        {"contact": "int64", "at": "int64", "type": "object"},
    )
    insights = fetch_frame(
        session,
        select(i.conversation_id.label("conversation"), i.interest.label("interest"), i.score.label("score")),
        {"conversation": "int64", "interest": "object", "score": "float64"},
    ).merge(conversations[["conversation", "contact", "at"]], on="conversation")
    return LeadInputs(_contacts(session), conversations, messages, events, insights)


def lead_frame(session: PulsoSession, params: LeadFrameParams, inputs: LeadInputs | None = None) -> pd.DataFrame:
    """Indexed by contact_id: started_at, as_of (UTC), converted (1/0/NaN) and the :data:`FEATURES` columns.
    ``inputs``: rows already fetched with :func:`fetch_lead_inputs` (else they are fetched now)."""
    inputs = inputs or fetch_lead_inputs(session)
    conversations = inputs.conversations
    first = conversations.drop_duplicates("contact").set_index("contact")
    frame = inputs.contacts.join(
        first[["at", "channel", "first_response"]].rename(columns={"at": "first_conversation"})
    )
    frame["start"] = frame["lead"].fillna(frame["first_conversation"])
    frame = frame[frame["lead"].notna() | frame["first_conversation"].notna()]
    frame = frame[frame["customer"].isna() | (frame["customer"] >= frame["start"])]
    now = _ms(params.now)
    window, horizon = _ms_span(params.window), _ms_span(params.horizon)
    frame["as_of"] = np.minimum(np.minimum(frame["start"] + window, frame["customer"].fillna(np.inf)), now)
    converted = frame["customer"].notna() & (frame["customer"] <= frame["start"] + horizon)
    decided = converted | (frame["start"] + horizon <= now)
    frame["converted"] = np.where(decided, converted.astype(float), np.nan)
    out = pd.DataFrame(index=frame.index)
    out["started_at"] = pd.to_datetime(frame["start"], unit="ms", utc=True)
    out["as_of"] = pd.to_datetime(frame["as_of"], unit="ms", utc=True)
    out["converted"] = frame["converted"]
    out["first_touch_channel"] = frame["channel_touch"]
    out["first_touch_campaign"] = frame["campaign"]
    out["first_inbox_channel"] = frame["channel"]
    local = out["started_at"].dt.tz_convert(params.timezone)
    out["start_hour"] = local.dt.hour
    out["start_weekday"] = local.dt.day_of_week + 1
    as_of = frame["as_of"]
    out["conversations"] = _count_before(conversations, as_of)
    answered_at = frame["first_conversation"] + frame["first_response"] * 1000
    answered = frame["first_response"].notna() & (answered_at <= as_of)
    out["first_response_seconds"] = frame["first_response"].where(answered)
    out["answered"] = answered.astype(int)
    _messages(inputs.messages, out, as_of)
    _events(inputs.events, out, as_of)
    _insights(inputs.insights, out, as_of)
    out.index.name = "contact_id"
    return out


def _contacts(session: PulsoSession) -> pd.DataFrame:
    c = Contact
    query = select(
        c.id.label("contact"),
        epoch_ms(session, c.became_lead_at).label("lead"),
        epoch_ms(session, c.became_customer_at).label("customer"),
        c.first_touch_channel.label("channel_touch"),
        c.first_touch_campaign.label("campaign"),
    ).where(c.merged_into_id.is_(None))
    kinds = {"contact": "int64", "lead": "float64", "customer": "float64"}
    return fetch_frame(session, query, {**kinds, "channel_touch": "object", "campaign": "object"}).set_index("contact")


def _count_before(rows: pd.DataFrame, as_of: pd.Series, column: str = "at") -> pd.Series:
    """Per contact of ``as_of``: how many of ``rows`` (contact, at) came before its as_of."""
    limit = rows["contact"].map(as_of)
    counted = rows[rows[column] < limit].groupby("contact").size()
    return counted.reindex(as_of.index, fill_value=0).astype(int)


def _messages(rows: pd.DataFrame, out: pd.DataFrame, as_of: pd.Series) -> None:
    rows = rows[rows["at"] < rows["contact"].map(as_of)]
    incoming = rows[rows["direction"] == "incoming"]
    out["messages_in"] = incoming.groupby("contact").size().reindex(out.index, fill_value=0).astype(int)
    outgoing = rows[rows["direction"] == "outgoing"].groupby("contact").size()
    out["messages_out"] = outgoing.reindex(out.index, fill_value=0).astype(int)
    last = incoming.groupby("contact")["at"].max().reindex(out.index)
    days = (as_of - last) / MS_PER_DAY
    out["days_since_last_message"] = days
    out["engagement_decay"] = np.exp(-days / DECAY_DAYS)


def _events(rows: pd.DataFrame, out: pd.DataFrame, as_of: pd.Series) -> None:
    out["events"] = _count_before(rows[rows["type"] == "track"], as_of)
    out["page_views"] = _count_before(rows[rows["type"] == "page"], as_of)


def _insights(rows: pd.DataFrame, out: pd.DataFrame, as_of: pd.Series) -> None:
    rows = rows[rows["at"] < rows["contact"].map(as_of)].sort_values(["at", "conversation"])
    latest = rows.drop_duplicates("contact", keep="last").set_index("contact")
    out["ai_interest"] = latest["interest"].reindex(out.index)
    out["ai_score"] = latest["score"].reindex(out.index)


def _ms(moment: datetime) -> int:
    return int(moment.astimezone(UTC).timestamp() * 1000)


def _ms_span(span: timedelta) -> int:
    return int(span.total_seconds() * 1000)
