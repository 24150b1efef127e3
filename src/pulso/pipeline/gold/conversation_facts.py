"""Gold job ``gold.conversation_facts``: one row of :class:`ConversationFacts` per conversation, kept up to date.

Incremental on ``Conversation.synced_at`` (stamped by every sync or import write of the conversation or its
messages): a run recomputes the conversations synced at or after the stored watermark minus
:data:`RESCAN_OVERLAP` (a write stamped just before the last run but committed after it is still seen), plus any
conversation that has no facts row yet. Recomputing is idempotent; only rows whose values changed are written.

Silver -> timeline (shared with the Chatwoot agreement report through :func:`load_conversation_inputs`):

- messages: ``message_type`` is the column, else the import's ``direction``; ``sender_kind`` contact / agent / bot /
  system becomes contact / human / bot / system; a campaign or automation message has ``automation_rule_id`` or
  ``campaign_id`` in its attributes. Deleted messages stay: they were sent when they were sent (Chatwoot keeps
  the reporting events of a deleted reply too).
- status changes: an unknown ``from_status`` (NULL) is read as the ``to_status`` itself, a no-op transition: it
  never starts a clock (not a hand-off, reopen or Chatwoot-style "opened") unless flagged ``by_bot_handoff``, and
  a resolve still counts as a resolve. The same transition seen by several origins (reporting event, webhook,
  sync) within :data:`DUPLICATE_WINDOW` is kept once, at its earliest time.
- hours: the inbox's ``working_hours`` in its ``timezone`` (None, so no business seconds, when NULL); csat: the
  latest CSAT answer of the conversation.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast, get_args

from sqlalchemy import insert, or_, select, update

from pulso.metrics.business_hours import WorkingHours, WorkingHoursRow
from pulso.metrics.conversation_facts import (
    ConversationFacts,
    ConversationTimeline,
    MessageType,
    Sender,
    Status,
    StatusChange,
    TimedInterval,
    TimelineMessage,
    conversation_facts,
)
from pulso.pipeline.registry import Job, register
from pulso.store.models import (
    Conversation,
    ConversationFactsRow,
    ConversationStatusChange,
    Feedback,
    Inbox,
    Message,
    Watermark,
)
from pulso.store.session import PulsoSession
from pulso.store.types import utcnow

STREAM = "gold.conversation_facts"
CHUNK_SIZE = 1000
RESCAN_OVERLAP = timedelta(minutes=5)
DUPLICATE_WINDOW = timedelta(seconds=60)
SENDERS: dict[str, Sender] = {"contact": "contact", "agent": "human", "bot": "bot", "system": "system"}
STATUSES = frozenset(get_args(Status))
CAMPAIGN_OR_AUTOMATION_KEYS = ("automation_rule_id", "campaign_id")


@dataclass(frozen=True)
class ConversationInput:
    """One conversation's timeline as the pure metric takes it, plus what the gold row needs besides the facts."""

    conversation_id: int
    created_at: datetime
    synced_at: datetime | None
    timeline: ConversationTimeline
    hours: WorkingHours | None
    # the conversation's own columns the facts row copies, so timing metrics need not join conversations
    inbox_id: int
    assignee_agent_id: int | None
    team_id: int | None
    status: str
    # (created_at truncated to seconds, agent_id) of every qualifying human reply, in time order
    human_replies: tuple[tuple[datetime, int | None], ...] = ()

    def facts(self) -> ConversationFacts:
        return conversation_facts(self.timeline, self.hours)

    def first_response_agent_id(self, facts: ConversationFacts) -> int | None:
        """The agent of the message that gave the first qualifying human reply (the end of the first response)."""
        if not facts.first_responses:
            return None
        reply_at = facts.first_responses[0].end
        return next((agent for at, agent in self.human_replies if at == reply_at), None)


def _working_hours(inbox_timezone: str | None, rows: list[dict[str, Any]] | None) -> WorkingHours | None:
    if rows is None:
        return None
    fields = set(WorkingHoursRow.__dataclass_fields__)
    parsed = [WorkingHoursRow(**{k: v for k, v in row.items() if k in fields}) for row in rows]
    return WorkingHours.from_chatwoot_rows(parsed, inbox_timezone or "UTC")


def _timeline_message(row: Any) -> TimelineMessage:
    attributes = row.attributes or {}
    return TimelineMessage(
        created_at=row.created_at,
        message_type=cast(MessageType, row.message_type or row.direction),
        sender=SENDERS[row.sender_kind],
        private=bool(row.is_private),
        from_campaign_or_automation=any(attributes.get(key) is not None for key in CAMPAIGN_OR_AUTOMATION_KEYS),
    )


def _status_changes(rows: Iterable[Any]) -> list[StatusChange]:
    """Map rows (sorted by time) to changes: unknown ``from_status`` -> no-op, duplicates across origins merged."""
    changes: list[StatusChange] = []
    for row in rows:
        to_status = cast(Status, row.to_status)
        from_status = cast(Status, row.from_status) if row.from_status in STATUSES else to_status
        previous = changes[-1] if changes else None
        if previous and previous.to_status == to_status and row.at - previous.at <= DUPLICATE_WINDOW:
            known_from = previous.from_status if previous.from_status != to_status else from_status
            changes[-1] = StatusChange(
                previous.at, known_from, to_status, previous.by_bot_handoff or bool(row.by_bot_handoff)
            )
            continue
        changes.append(StatusChange(row.at, from_status, to_status, bool(row.by_bot_handoff)))
    return changes


def load_conversation_inputs(session: PulsoSession, conversation_ids: Sequence[int]) -> list[ConversationInput]:
    """The timelines of these conversations (of the session's tenant), with five set-based queries."""
    ids = list(dict.fromkeys(conversation_ids))
    if not ids:
        return []
    conversations = session.execute(
        select(
            Conversation.id,
            Conversation.created_at,
            Conversation.synced_at,
            Conversation.labels,
            Conversation.inbox_id,
            Conversation.assignee_agent_id,
            Conversation.team_id,
            Conversation.status,
        ).where(Conversation.id.in_(ids))
    ).all()
    inbox_ids = {row.inbox_id for row in conversations}
    hours = {
        row.id: _working_hours(row.timezone, row.working_hours)
        for row in session.execute(
            select(Inbox.id, Inbox.timezone, Inbox.working_hours).where(Inbox.id.in_(inbox_ids))
        ).all()
    }
    messages: dict[int, list[TimelineMessage]] = defaultdict(list)
    replies: dict[int, list[tuple[datetime, int | None]]] = defaultdict(list)
    message_rows = session.execute(
        select(
            Message.conversation_id,
            Message.created_at,
            Message.message_type,
            Message.direction,
            Message.sender_kind,
            Message.is_private,
            Message.attributes,
            Message.agent_id,
        )
        .where(Message.conversation_id.in_(ids))
        .order_by(Message.conversation_id, Message.created_at, Message.id)
    ).all()
    for row in message_rows:
        message = _timeline_message(row)
        messages[row.conversation_id].append(message)
        if message.is_qualifying_human_reply:
            replies[row.conversation_id].append((row.created_at.replace(microsecond=0), row.agent_id))
    change_rows: dict[int, list[Any]] = defaultdict(list)
    for row in session.execute(
        select(
            ConversationStatusChange.conversation_id,
            ConversationStatusChange.at,
            ConversationStatusChange.from_status,
            ConversationStatusChange.to_status,
            ConversationStatusChange.by_bot_handoff,
        )
        .where(ConversationStatusChange.conversation_id.in_(ids))
        .order_by(ConversationStatusChange.conversation_id, ConversationStatusChange.at, ConversationStatusChange.id)
    ).all():
        change_rows[row.conversation_id].append(row)
    csat: dict[int, int] = {}
    for row in session.execute(
        select(Feedback.conversation_id, Feedback.score)
        .where(Feedback.kind == "csat", Feedback.conversation_id.in_(ids))
        .order_by(Feedback.answered_at, Feedback.id)
    ).all():
        csat[row.conversation_id] = row.score  # the latest answer wins
    return [
        ConversationInput(
            conversation_id=row.id,
            created_at=row.created_at,
            synced_at=row.synced_at,
            timeline=ConversationTimeline(
                created_at=row.created_at,
                messages=tuple(messages[row.id]),
                status_changes=tuple(_status_changes(change_rows[row.id])),
                labels=tuple(row.labels or ()),
                csat_score=csat.get(row.id),
            ),
            hours=hours.get(row.inbox_id),
            inbox_id=row.inbox_id,
            assignee_agent_id=row.assignee_agent_id,
            team_id=row.team_id,
            status=row.status,
            human_replies=tuple(replies[row.id]),
        )
        for row in sorted(conversations, key=lambda conversation: conversation.id)
    ]


def _pairs(intervals: Sequence[TimedInterval]) -> list[list[int | None]]:
    return [[interval.seconds, interval.business_seconds] for interval in intervals]


def facts_row_values(conversation: ConversationInput) -> dict[str, Any]:
    """The ``conversation_facts`` columns for one conversation (everything but ids and ``computed_at``)."""
    facts = conversation.facts()
    return {
        "conversation_id": conversation.conversation_id,
        "created_at": conversation.created_at,
        "assignee_agent_id": conversation.assignee_agent_id,
        "inbox_id": conversation.inbox_id,
        "team_id": conversation.team_id,
        "status": conversation.status,
        "first_response_seconds": facts.first_response_seconds,
        "first_response_business_seconds": facts.first_response_business_seconds,
        "first_response_chatwoot_style_seconds": facts.first_response_chatwoot_style_seconds,
        "first_response_agent_id": conversation.first_response_agent_id(facts),
        "first_responses": _pairs(facts.first_responses),
        "reply_times": _pairs(facts.reply_times),
        "resolution_seconds": facts.resolution_seconds,
        "resolution_business_seconds": facts.resolution_business_seconds,
        "resolutions": len(facts.resolutions),
        "messages_in": facts.messages_in,
        "messages_out": facts.messages_out,
        "private_notes": facts.private_notes,
        "bot_messages": facts.bot_messages,
        "handled_by": facts.handled_by,
        "handed_off_at": facts.handed_off_at,
        "reopen_count": facts.reopen_count,
        "labels": list(facts.labels),
        "csat_score": facts.csat_score,
    }


def _write_chunk(session: PulsoSession, conversations: Sequence[ConversationInput]) -> int:
    """Insert new rows and update changed ones; returns how many were written."""
    values = {conversation.conversation_id: facts_row_values(conversation) for conversation in conversations}
    columns = [getattr(ConversationFactsRow, name) for name in next(iter(values.values()))] if values else []
    existing = {
        row.conversation_id: (row.id, row._asdict())
        for row in session.execute(
            select(ConversationFactsRow.id, *columns).where(ConversationFactsRow.conversation_id.in_(list(values)))
        ).all()
    }
    now = utcnow()
    inserts = [
        {"tenant_id": session.tenant_id, **row, "computed_at": now}
        for conversation_id, row in values.items()
        if conversation_id not in existing
    ]
    updates = [
        {"id": existing[conversation_id][0], **row, "computed_at": now}
        for conversation_id, row in values.items()
        if conversation_id in existing and any(existing[conversation_id][1][k] != v for k, v in row.items())
    ]
    if inserts:
        session.execute(insert(ConversationFactsRow.__table__), inserts)  # type: ignore[arg-type]
    if updates:
        session.execute(update(ConversationFactsRow), updates)
    return len(inserts) + len(updates)


def _stale_conversation_ids(session: PulsoSession, watermark: datetime | None) -> list[tuple[int, datetime | None]]:
    """Conversations synced since the watermark (minus the overlap), and those without a facts row."""
    has_facts = select(ConversationFactsRow.id).where(ConversationFactsRow.conversation_id == Conversation.id)
    query = select(Conversation.id, Conversation.synced_at)
    if watermark is not None:
        query = query.where(or_(Conversation.synced_at >= watermark - RESCAN_OVERLAP, ~has_facts.exists()))
    return [(int(row.id), row.synced_at) for row in session.execute(query.order_by(Conversation.id)).all()]


def _watermark(session: PulsoSession) -> Watermark | None:
    return session.scalar(select(Watermark).where(Watermark.stream == STREAM))


def compute_conversation_facts(session: PulsoSession, conversation_ids: Sequence[int] | None = None) -> int:
    """Recompute the facts of ``conversation_ids``, or of every conversation changed since the last run.

    Returns how many ``conversation_facts`` rows were inserted or changed. Only the incremental form (no ids)
    moves the watermark.
    """
    mark = _watermark(session)
    if conversation_ids is not None:
        candidates: list[tuple[int, datetime | None]] = [(int(i), None) for i in conversation_ids]
    else:
        since = datetime.fromisoformat(mark.value) if mark is not None else None
        candidates = _stale_conversation_ids(session, since)
    written = 0
    for start in range(0, len(candidates), CHUNK_SIZE):
        chunk = [conversation_id for conversation_id, _ in candidates[start : start + CHUNK_SIZE]]
        written += _write_chunk(session, load_conversation_inputs(session, chunk))
    if conversation_ids is None:
        synced = [synced_at for _, synced_at in candidates if synced_at is not None]
        if synced:
            newest = max(synced).astimezone(UTC)
            if mark is None:
                session.add(Watermark(stream=STREAM, value=newest.isoformat()))
            elif newest > datetime.fromisoformat(mark.value):
                mark.value = newest.isoformat()
    return written


def _run(session: PulsoSession, since: date | None) -> int:
    # ``since`` is ignored: the watermark on synced_at decides what is recomputed.
    return compute_conversation_facts(session)


JOB = register(
    Job(
        name="gold.conversation_facts",
        run=_run,
        description="Per-conversation response, reply and resolution times, counts and who handled it.",
        every_minutes=30,
        order=310,
    )
)
