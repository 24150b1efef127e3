"""Gold: what is expensive to compute per request, stamped with what produced it and when."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.expression import false

from pulso.store.models.base import Base, TenantScoped
from pulso.store.models.silver import CONVERSATION_STATUSES
from pulso.store.types import BigIntPK, JSONType, UTCDateTime, utcnow


class ModelVersion(TenantScoped, Base):
    """A trained model: parameters, features, training window, metrics, code version and data hash."""

    __tablename__ = "model_versions"
    __table_args__ = (UniqueConstraint("tenant_id", "kind", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    version: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    features: Mapped[list[str]] = mapped_column(JSONType, default=list)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    training_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    training_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    code_version: Mapped[str] = mapped_column(String(64))
    data_hash: Mapped[str] = mapped_column(String(128))
    artifact: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # the version used for scoring; at most one per (tenant, kind), kept so by pulso.ml.leads.registry
    is_active: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class ConversationInsight(TenantScoped, Base):
    """What an analyzer read in a conversation: sentiment, intent, interest, a score and a summary."""

    __tablename__ = "conversation_insights"
    __table_args__ = (UniqueConstraint("tenant_id", "conversation_id", "analyzer"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    analyzer: Mapped[str] = mapped_column(String(64))
    analyzer_version: Mapped[str] = mapped_column(String(64), default="")
    sentiment: Mapped[float | None] = mapped_column(Float)
    sentiment_label: Mapped[str | None] = mapped_column(String(16))
    intent: Mapped[str | None] = mapped_column(String(64))
    interest: Mapped[str | None] = mapped_column(String(200))
    score: Mapped[float | None] = mapped_column(Float)
    summary: Mapped[str | None] = mapped_column(Text)
    cost_usd: Mapped[Decimal | None] = mapped_column(Numeric(12, 6))
    tokens: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LeadScore(TenantScoped, Base):
    """A lead's score with its reasons; every scoring run appends, so history is kept."""

    __tablename__ = "lead_scores"
    __table_args__ = (Index("ix_lead_scores_contact_time", "tenant_id", "contact_id", "scored_at"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    model_version_id: Mapped[int | None] = mapped_column(ForeignKey("model_versions.id", ondelete="SET NULL"))
    score: Mapped[float] = mapped_column(Float)
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    scored_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ChurnScore(TenantScoped, Base):
    """A customer's churn risk, P(alive) and reasons from one scoring run; every run appends, so history is kept.

    ``last_purchase_at`` and ``total_value`` are the customer's as of the run (what the score was computed from)."""

    __tablename__ = "churn_scores"
    __tenant_fk__ = False  # checked through the contact
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "contact_id"], ["contacts.tenant_id", "contacts.id"], ondelete="CASCADE"
        ),  # the contact exists, in the same tenant
        Index("ix_churn_scores_contact_time", "tenant_id", "contact_id", "scored_at"),
        Index("ix_churn_scores_tenant_time", "tenant_id", "scored_at"),  # the latest run, ranked
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    contact_id: Mapped[int] = mapped_column(BigIntPK)
    model_version_id: Mapped[int | None] = mapped_column(ForeignKey("model_versions.id", ondelete="SET NULL"))
    churn_risk: Mapped[float] = mapped_column(Float)
    p_alive: Mapped[float | None] = mapped_column(Float)
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    last_purchase_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    total_value: Mapped[float | None] = mapped_column(Float)
    scored_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CustomerValue(TenantScoped, Base):
    """A customer's predicted value: CLV, probability of being alive, expected purchases (churn risk: churn_scores)."""

    __tablename__ = "customer_value"
    __table_args__ = (
        Index("ix_customer_value_contact_time", "tenant_id", "contact_id", "computed_at"),
        Index("ix_customer_value_tenant_time", "tenant_id", "computed_at"),  # the latest run
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    model_version_id: Mapped[int | None] = mapped_column(ForeignKey("model_versions.id", ondelete="SET NULL"))
    clv: Mapped[float | None] = mapped_column(Float)
    p_alive: Mapped[float | None] = mapped_column(Float)
    expected_purchases: Mapped[float | None] = mapped_column(Float)
    horizon_days: Mapped[int] = mapped_column(Integer, default=365)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DailyMetric(TenantScoped, Base):
    """One number per tenant, local day and metric (conversations, leads, revenue...), rebuilt by the pipeline."""

    __tablename__ = "daily_metrics"
    __table_args__ = (UniqueConstraint("tenant_id", "day", "metric"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    metric: Mapped[str] = mapped_column(String(64))
    value: Mapped[float] = mapped_column(Float)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


HANDLED_BY = ("bot_only", "handed_off", "human_only", "unanswered")


class ConversationFactsRow(TenantScoped, Base):
    """One conversation's facts (pulso.metrics.conversation_facts), recomputed when it changes."""

    __tablename__ = "conversation_facts"
    __table_args__ = (
        UniqueConstraint("tenant_id", "conversation_id"),
        CheckConstraint(f"handled_by IN {HANDLED_BY!r}", name="handled_by"),
        CheckConstraint(f"status IN {CONVERSATION_STATUSES!r}", name="status"),
        Index("ix_conversation_facts_tenant_created", "tenant_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the conversation's, for date filters
    # the conversation's too, copied whenever the facts are computed, so that timing metrics filter and group
    # without joining conversations (a conversation re-synced with a new assignee or status is recomputed)
    assignee_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    inbox_id: Mapped[int] = mapped_column(ForeignKey("inboxes.id", ondelete="CASCADE"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16))
    first_response_seconds: Mapped[int | None] = mapped_column(Integer)
    first_response_business_seconds: Mapped[int | None] = mapped_column(Integer)
    first_response_chatwoot_style_seconds: Mapped[int | None] = mapped_column(Integer)
    first_response_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    # every first response per reopen period and every reply time: [[seconds, business seconds or null], ...]
    first_responses: Mapped[list[list[int | None]]] = mapped_column(JSONType, default=list)
    reply_times: Mapped[list[list[int | None]]] = mapped_column(JSONType, default=list)
    resolution_seconds: Mapped[int | None] = mapped_column(Integer)
    resolution_business_seconds: Mapped[int | None] = mapped_column(Integer)
    resolutions: Mapped[int] = mapped_column(Integer, default=0)
    messages_in: Mapped[int] = mapped_column(Integer, default=0)
    messages_out: Mapped[int] = mapped_column(Integer, default=0)
    private_notes: Mapped[int] = mapped_column(Integer, default=0)
    bot_messages: Mapped[int] = mapped_column(Integer, default=0)
    handled_by: Mapped[str] = mapped_column(String(16))
    handed_off_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    labels: Mapped[list[str]] = mapped_column(JSONType, default=list)
    csat_score: Mapped[int | None] = mapped_column(Integer)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
