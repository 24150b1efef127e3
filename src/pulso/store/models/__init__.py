"""All tables. Importing this module registers every table on ``Base.metadata``."""

from pulso.store.models.base import Base, TenantScoped, tenant_tables
from pulso.store.models.bronze import Quarantine, RawEvent
from pulso.store.models.gold import ConversationInsight, CustomerValue, DailyMetric, LeadScore, ModelVersion
from pulso.store.models.platform import USER_ROLES, ApiKey, AuditLog, JobRun, Source, Tenant, User, Watermark
from pulso.store.models.silver import (
    Agent,
    Campaign,
    CampaignSpend,
    Contact,
    ContactIdentity,
    Conversation,
    Event,
    Feedback,
    Inbox,
    Message,
    Order,
    WebSession,
)

__all__ = [
    "USER_ROLES",
    "Agent",
    "ApiKey",
    "AuditLog",
    "Base",
    "Campaign",
    "CampaignSpend",
    "Contact",
    "ContactIdentity",
    "Conversation",
    "ConversationInsight",
    "CustomerValue",
    "DailyMetric",
    "Event",
    "Feedback",
    "Inbox",
    "JobRun",
    "LeadScore",
    "Message",
    "ModelVersion",
    "Order",
    "Quarantine",
    "RawEvent",
    "Source",
    "Tenant",
    "TenantScoped",
    "User",
    "Watermark",
    "WebSession",
    "tenant_tables",
]
