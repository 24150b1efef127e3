"""Silver: typed, validated, deduplicated entities, one row per real thing (natural keys for upserts)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from pulso.store.models.base import Base, CreatedAt, TenantScoped
from pulso.store.types import BigIntPK, JSONType, UTCDateTime

LIFECYCLE_STAGES = ("visitor", "lead", "customer", "churned")
IDENTITY_KINDS = ("anonymous_id", "user_id", "email", "phone", "chatwoot_contact_id")
CHANNEL_TYPES = (
    *("whatsapp", "instagram", "telegram", "facebook", "web", "email", "sms", "api", "line", "tiktok", "twitter"),
    *("voice", "other"),
)
CONVERSATION_STATUSES = ("open", "resolved", "pending", "snoozed")
MESSAGE_TYPES = ("incoming", "outgoing", "activity", "template")
STATUS_CHANGE_ORIGINS = ("reporting_event", "webhook", "sync")
EVENT_TYPES = ("track", "page", "screen", "identify", "group", "alias")
ORDER_STATUSES = ("pending", "scheduled", "completed", "no_show", "cancelled", "refunded")
REVENUE_STATUSES = ("completed",)  # what counts as revenue: paid purchases and payments, attended bookings
Money = Numeric(14, 2)


class Contact(TenantScoped, CreatedAt, Base):
    """A person: visitor, lead or customer, with the first touch that brought them."""

    __tablename__ = "contacts"
    __table_args__ = (
        CheckConstraint(f"lifecycle_stage IN {LIFECYCLE_STAGES!r}", name="lifecycle_stage"),
        Index("ix_contacts_tenant_stage", "tenant_id", "lifecycle_stage"),
        Index("ux_contacts_tenant_id_id", "tenant_id", "id", unique=True),  # target of identities' composite key
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(32))
    city: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str | None] = mapped_column(String(50))
    lifecycle_stage: Mapped[str] = mapped_column(String(16), default="visitor")
    first_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    became_lead_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    became_customer_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_touch_channel: Mapped[str | None] = mapped_column(String(32))
    first_touch_source: Mapped[str | None] = mapped_column(String(100))
    first_touch_medium: Mapped[str | None] = mapped_column(String(100))
    first_touch_campaign: Mapped[str | None] = mapped_column(String(200))
    first_touch_term: Mapped[str | None] = mapped_column(String(200))
    first_touch_content: Mapped[str | None] = mapped_column(String(200))
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_touch_channel: Mapped[str | None] = mapped_column(String(32))
    last_touch_source: Mapped[str | None] = mapped_column(String(100))
    last_touch_medium: Mapped[str | None] = mapped_column(String(100))
    last_touch_campaign: Mapped[str | None] = mapped_column(String(200))
    last_touch_term: Mapped[str | None] = mapped_column(String(200))
    last_touch_content: Mapped[str | None] = mapped_column(String(200))
    # set when identity resolution merged this contact into another; its history moved there
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ContactIdentity(TenantScoped, Base):
    """One identifier of a contact (anonymous id, user id, e-mail, phone, Chatwoot id): identity resolution."""

    __tablename__ = "contact_identities"
    __tenant_fk__ = False  # checked through the contact
    __table_args__ = (
        UniqueConstraint("tenant_id", "kind", "value"),
        CheckConstraint(f"kind IN {IDENTITY_KINDS!r}", name="kind"),
        ForeignKeyConstraint(
            ["tenant_id", "contact_id"], ["contacts.tenant_id", "contacts.id"], ondelete="CASCADE"
        ),  # the contact exists, in the same tenant
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    contact_id: Mapped[int] = mapped_column(BigIntPK, index=True)
    kind: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(254))


class Event(TenantScoped, Base):
    """A tracked action (Segment track/page/identify/...), with the campaign fields pulled out of context."""

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("tenant_id", "message_id"),
        CheckConstraint(f"type IN {EVENT_TYPES!r}", name="type"),
        Index("ix_events_tenant_time", "tenant_id", "occurred_at"),
        # covers a funnel's read of step events (pulso.metrics.funnel_sql): no row lookups
        Index(
            "ix_events_tenant_name_time_person",
            "tenant_id",
            "name",
            "occurred_at",
            "type",
            "contact_id",
            "anonymous_id",
        ),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    message_id: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(16))
    name: Mapped[str | None] = mapped_column(String(200))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"), index=True)
    anonymous_id: Mapped[str | None] = mapped_column(String(200))
    user_id: Mapped[str | None] = mapped_column(String(200))
    utm_source: Mapped[str | None] = mapped_column(String(100))
    utm_medium: Mapped[str | None] = mapped_column(String(100))
    utm_campaign: Mapped[str | None] = mapped_column(String(200))
    utm_term: Mapped[str | None] = mapped_column(String(200))
    utm_content: Mapped[str | None] = mapped_column(String(200))
    properties: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    context: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)  # clock-skew corrected
    original_timestamp: Mapped[datetime | None] = mapped_column(UTCDateTime)  # as the client stated it
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    session_key: Mapped[str | None] = mapped_column(String(64))


class WebSession(TenantScoped, Base):
    """A visit: a person's events with no gap longer than 30 minutes, with how the visit began."""

    __tablename__ = "web_sessions"
    __table_args__ = (
        UniqueConstraint("tenant_id", "session_key"),
        Index("ix_web_sessions_tenant_started", "tenant_id", "started_at"),
        Index("ix_web_sessions_visitor", "tenant_id", "anonymous_id", "ended_at"),  # a visitor's latest visit
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    session_key: Mapped[str] = mapped_column(String(64))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"), index=True)
    anonymous_id: Mapped[str | None] = mapped_column(String(200))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime] = mapped_column(UTCDateTime)
    event_count: Mapped[int] = mapped_column(Integer, default=0)
    landing_url: Mapped[str | None] = mapped_column(Text)
    referrer: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[str | None] = mapped_column(String(32))
    utm_source: Mapped[str | None] = mapped_column(String(100))
    utm_medium: Mapped[str | None] = mapped_column(String(100))
    utm_campaign: Mapped[str | None] = mapped_column(String(200))
    utm_term: Mapped[str | None] = mapped_column(String(200))
    utm_content: Mapped[str | None] = mapped_column(String(200))


class Inbox(TenantScoped, CreatedAt, Base):
    """A conversation channel (a Chatwoot inbox): WhatsApp, Instagram, Telegram, web chat..."""

    __tablename__ = "inboxes"
    __table_args__ = (
        UniqueConstraint("tenant_id", "external_id"),
        CheckConstraint(f"channel_type IN {CHANNEL_TYPES!r}", name="channel_type"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    channel_type: Mapped[str] = mapped_column(String(16))
    source_channel_type: Mapped[str | None] = mapped_column(String(64))
    timezone: Mapped[str | None] = mapped_column(String(64))
    # Chatwoot's working_hours rows as dicts (WorkingHoursRow fields; day_of_week 0 = Sunday); NULL when disabled
    working_hours: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType)


class Team(TenantScoped, CreatedAt, Base):
    """A group of agents (a Chatwoot team)."""

    __tablename__ = "teams"
    __table_args__ = (UniqueConstraint("tenant_id", "external_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))


class Agent(TenantScoped, CreatedAt, Base):
    """Someone who answers conversations: a human agent or a bot."""

    __tablename__ = "agents"
    __table_args__ = (
        UniqueConstraint("tenant_id", "external_id"),
        CheckConstraint("kind IN ('human', 'bot')", name="kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    kind: Mapped[str] = mapped_column(String(8), default="human")
    is_active: Mapped[bool] = mapped_column(default=True)


class Conversation(TenantScoped, Base):
    """A conversation in an inbox, with the timestamps response-time metrics are built on."""

    __tablename__ = "conversations"
    __table_args__ = (
        UniqueConstraint("tenant_id", "external_id"),
        CheckConstraint(f"status IN {CONVERSATION_STATUSES!r}", name="status"),
        Index("ix_conversations_tenant_created", "tenant_id", "created_at"),
        Index("ix_conversations_tenant_synced", "tenant_id", "synced_at"),
        Index("ux_conversations_tenant_id_id", "tenant_id", "id", unique=True),  # target of messages' composite key
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64))
    display_id: Mapped[int | None] = mapped_column(Integer)
    inbox_id: Mapped[int] = mapped_column(ForeignKey("inboxes.id", ondelete="CASCADE"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"), index=True)
    assignee_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="open")
    priority: Mapped[str | None] = mapped_column(String(16))
    stage: Mapped[str | None] = mapped_column(String(64))
    labels: Mapped[list[str]] = mapped_column(JSONType, default=list)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    first_reply_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_activity_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # when Pulso last wrote this conversation or one of its messages: what gold jobs recompute from
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ConversationStatusChange(TenantScoped, Base):
    """One status transition of a conversation, from the source's events, its webhooks or a sync's diff."""

    __tablename__ = "conversation_status_changes"
    __table_args__ = (
        UniqueConstraint("tenant_id", "conversation_id", "at", "to_status"),
        CheckConstraint(f"to_status IN {CONVERSATION_STATUSES!r}", name="to_status"),
        CheckConstraint(f"origin IN {STATUS_CHANGE_ORIGINS!r}", name="origin"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    by_bot_handoff: Mapped[bool] = mapped_column(default=False)
    origin: Mapped[str] = mapped_column(String(16))


class Message(TenantScoped, Base):
    """One message of a conversation."""

    __tablename__ = "messages"
    __tenant_fk__ = False  # checked through the conversation
    __table_args__ = (
        UniqueConstraint("tenant_id", "external_id"),
        ForeignKeyConstraint(
            ["tenant_id", "conversation_id"], ["conversations.tenant_id", "conversations.id"], ondelete="CASCADE"
        ),  # the conversation exists, in the same tenant
        CheckConstraint("direction IN ('incoming', 'outgoing')", name="direction"),
        CheckConstraint("sender_kind IN ('contact', 'agent', 'bot', 'system')", name="sender_kind"),
        CheckConstraint(f"message_type IS NULL OR message_type IN {MESSAGE_TYPES!r}", name="message_type"),
        Index("ix_messages_conversation_created", "tenant_id", "conversation_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64))
    conversation_id: Mapped[int] = mapped_column(BigIntPK)
    direction: Mapped[str] = mapped_column(String(8))
    sender_kind: Mapped[str] = mapped_column(String(8))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"), index=True)
    content: Mapped[str] = mapped_column(Text, default="")
    content_type: Mapped[str] = mapped_column(String(32), default="text")
    is_private: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Chatwoot's four kinds; NULL for imports, which only know the direction
    message_type: Mapped[str | None] = mapped_column(String(16))
    is_deleted: Mapped[bool] = mapped_column(default=False, server_default=false())
    # what metrics need from the source's attributes: automation_rule_id, campaign_id, external_echo, csat...
    attributes: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SourceReportingEvent(TenantScoped, Base):
    """A row of Chatwoot's own ``reporting_events``, kept to compare Pulso's facts with Chatwoot's numbers."""

    __tablename__ = "source_reporting_events"
    __table_args__ = (
        UniqueConstraint("tenant_id", "external_id"),
        Index("ix_source_reporting_events_conversation", "tenant_id", "conversation_id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64))
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    value: Mapped[float | None] = mapped_column(Float)
    value_in_business_hours: Mapped[float | None] = mapped_column(Float)
    user_external_id: Mapped[str | None] = mapped_column(String(64))
    event_start_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    event_end_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Campaign(TenantScoped, CreatedAt, Base):
    """A marketing campaign, keyed the way UTM tags name it."""

    __tablename__ = "campaigns"
    __table_args__ = (UniqueConstraint("tenant_id", "channel", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    utm_source: Mapped[str | None] = mapped_column(String(100))
    utm_medium: Mapped[str | None] = mapped_column(String(100))
    started_on: Mapped[date | None] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)


class CampaignSpend(TenantScoped, Base):
    """What a campaign cost on one day."""

    __tablename__ = "campaign_spend"
    __table_args__ = (
        UniqueConstraint("tenant_id", "campaign_id", "day"),
        CheckConstraint("cost >= 0", name="cost_not_negative"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date)
    cost: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3), default="BRL")
    impressions: Mapped[int | None] = mapped_column(Integer)
    clicks: Mapped[int | None] = mapped_column(Integer)


class Order(TenantScoped, Base):
    """A purchase, booking or subscription payment: the revenue side of the customer."""

    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("tenant_id", "external_id"),
        CheckConstraint(f"status IN {ORDER_STATUSES!r}", name="status"),
        Index("ix_orders_tenant_ordered", "tenant_id", "ordered_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"), index=True)
    kind: Mapped[str] = mapped_column(String(32), default="purchase")
    product: Mapped[str | None] = mapped_column(String(200))
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3), default="BRL")
    status: Mapped[str] = mapped_column(String(16), default="completed")
    ordered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    scheduled_for: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Feedback(TenantScoped, Base):
    """A survey answer: NPS (0-10) or CSAT (1-5)."""

    __tablename__ = "feedback"
    __table_args__ = (
        UniqueConstraint("tenant_id", "external_id"),
        CheckConstraint(
            "(kind = 'nps' AND score BETWEEN 0 AND 10) OR (kind = 'csat' AND score BETWEEN 1 AND 5)",
            name="score_in_scale",
        ),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"), index=True)
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id", ondelete="SET NULL"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(8))
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime)
