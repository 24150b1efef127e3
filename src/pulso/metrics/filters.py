"""The global filters every metric accepts: inbox, channel, agent, team, campaign, status and AI class.

One object, two readings, so that a filter means the same thing on every page:

- over **conversations** (:meth:`Filters.conversation_conditions`): the conversation's inbox, its inbox's channel
  type, its assignee, its team, its status, its contact's first-touch campaign, and the interest class an analyzer
  gave it (``conversation_insights.interest``: Alto, Médio, Baixo);
- over **contacts** (:meth:`Filters.contact_conditions`): channel and campaign are the contact's first touch; the
  conversation filters (inbox, agent, team, status, AI class) keep the contacts having at least one conversation
  that passes them.

An empty tuple means "no filter". Conditions are plain SQLAlchemy expressions; the tenant-scoped session adds the
tenant to every table they touch.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import ColumnElement, exists, select

from pulso.store.models import Contact, Conversation, ConversationInsight, Inbox
from pulso.store.models.silver import CONVERSATION_STATUSES

AI_CLASSES = ("Alto", "Médio", "Baixo")


@dataclass(frozen=True)
class Filters:
    inbox_ids: tuple[int, ...] = ()
    channels: tuple[str, ...] = ()  # conversations: the inbox's channel type; contacts: first-touch channel
    agent_ids: tuple[int, ...] = ()  # the conversation's assignee
    team_ids: tuple[int, ...] = ()
    campaigns: tuple[str, ...] = ()  # the contact's first-touch campaign
    statuses: tuple[str, ...] = ()  # conversation status: open, resolved, pending, snoozed
    ai_classes: tuple[str, ...] = ()  # conversation_insights.interest

    def __post_init__(self) -> None:
        for status in self.statuses:
            if status not in CONVERSATION_STATUSES:
                raise ValueError(f"status: must be one of {', '.join(CONVERSATION_STATUSES)}, got {status!r}")

    @property
    def active(self) -> dict[str, tuple[Any, ...]]:
        """The filters in use, by name, as stated in results."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}

    def conversation_conditions(self, conversation: Any = Conversation) -> list[ColumnElement[bool]]:
        """Conditions on ``conversation`` (the Conversation table or an alias of it)."""
        found: list[ColumnElement[bool]] = []
        if self.inbox_ids:
            found.append(conversation.inbox_id.in_(self.inbox_ids))
        if self.channels:
            found.append(conversation.inbox_id.in_(select(Inbox.id).where(Inbox.channel_type.in_(self.channels))))
        if self.agent_ids:
            found.append(conversation.assignee_agent_id.in_(self.agent_ids))
        if self.team_ids:
            found.append(conversation.team_id.in_(self.team_ids))
        if self.statuses:
            found.append(conversation.status.in_(self.statuses))
        if self.campaigns:
            campaign_contacts = select(Contact.id).where(Contact.first_touch_campaign.in_(self.campaigns))
            found.append(conversation.contact_id.in_(campaign_contacts))
        if self.ai_classes:
            found.append(
                exists().where(
                    ConversationInsight.conversation_id == conversation.id,
                    ConversationInsight.interest.in_(self.ai_classes),
                )
            )
        return found

    def contact_conditions(self, contact: Any = Contact) -> list[ColumnElement[bool]]:
        """Conditions on ``contact`` (the Contact table or an alias of it)."""
        found: list[ColumnElement[bool]] = []
        if self.channels:
            found.append(contact.first_touch_channel.in_(self.channels))
        if self.campaigns:
            found.append(contact.first_touch_campaign.in_(self.campaigns))
        through_conversations = Filters(
            inbox_ids=self.inbox_ids,
            agent_ids=self.agent_ids,
            team_ids=self.team_ids,
            statuses=self.statuses,
            ai_classes=self.ai_classes,
        )
        if through_conversations.active:
            conditions = through_conversations.conversation_conditions()
            found.append(contact.id.in_(select(Conversation.contact_id).where(*conditions)))
        return found
