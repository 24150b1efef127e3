"""Conversations built from their messages: found or created before the messages, recomputed after them.

``created_at`` is the first message, ``last_activity_at`` the last, ``first_reply_at`` the first outgoing message
of a human agent that is not a private note (bots excluded, as Chatwoot counts it). Without a ``status`` column
the status is derived on every import: ``resolved`` (at the last message) once the last message is more than a
day old, ``open`` otherwise. The assignee is the human agent who wrote last. Labels only accumulate.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, insert, select, update

from pulso.collect.imports import values
from pulso.collect.imports.contact_book import ContactBook, Identity
from pulso.collect.imports.fields import Record
from pulso.collect.imports.upsert import table_of
from pulso.store.models.silver import Conversation, Message
from pulso.store.session import PulsoSession

RESOLVED_AFTER = timedelta(days=1)


def _identities(record: Record) -> list[Identity]:
    return [(kind, str(record[f"contact_{kind}"])) for kind in ("email", "phone") if record.get(f"contact_{kind}")]


def _contact_name(records: Sequence[Record]) -> str:
    for record in records:
        if record.get("contact_name"):
            return str(record["contact_name"])
    senders = (r.get("sender_name") for r in records if r["sender_type"] == "contact")
    return next((str(name) for name in senders if name), "")


def ensure_conversations(
    session: PulsoSession, rows: Sequence[tuple[int, Record]], inbox_ids: dict[str, int]
) -> dict[str, int]:
    """Conversation id by external id, creating conversations (and their contacts) not stored yet."""
    grouped: dict[str, list[Record]] = {}
    for _line, record in rows:
        grouped.setdefault(record["conversation_id"], []).append(record)
    query = select(Conversation.external_id, Conversation.id, Conversation.contact_id).where(
        Conversation.external_id.in_(list(grouped))
    )
    existing = {str(key): (int(row_id), contact) for key, row_id, contact in session.execute(query)}
    needing_contact = [key for key in grouped if key not in existing or existing[key][1] is None]
    book = ContactBook(session, (i for key in needing_contact for r in grouped[key] for i in _identities(r)))
    refs: dict[str, tuple[str, int]] = {}
    for key in needing_contact:
        identities = list(dict.fromkeys(i for r in grouped[key] for i in _identities(r)))
        name = _contact_name(grouped[key])
        if identities or name:
            fields: dict[str, Any] = {"name": name, **dict(reversed(identities))}
            refs[key] = book.find_or_create(identities, fields)
    contact_ids = book.save()
    new = [
        {
            "tenant_id": session.tenant_id,
            "external_id": key,
            "inbox_id": inbox_ids[records[0]["inbox"]],
            "contact_id": contact_ids[refs[key]] if key in refs else None,
            "status": "open",
            "labels": [],
            "attributes": {},
            "created_at": min(r["timestamp"] for r in records),
        }
        for key, records in grouped.items()
        if key not in existing
    ]
    if new:
        session.execute(insert(table_of(Conversation)), new)
    linked = [{"id": existing[k][0], "contact_id": contact_ids[refs[k]]} for k in refs if k in existing]
    if linked:
        session.execute(update(Conversation), linked)
    return {str(key): int(row_id) for key, row_id, _contact in session.execute(query)}


def recompute_conversations(
    session: PulsoSession, rows: Sequence[tuple[int, Record]], conversation_ids: dict[str, int]
) -> None:
    """Set each touched conversation's timestamps, status and labels from all its stored messages."""
    given_status: dict[int, str] = {}
    new_labels: dict[int, set[str]] = {}
    for _line, record in rows:
        conversation = conversation_ids[record["conversation_id"]]
        if record.get("status"):
            given_status[conversation] = record["status"]
        new_labels.setdefault(conversation, set()).update(record.get("labels", ()))
    human_reply = and_(Message.sender_kind == "agent", Message.direction == "outgoing", ~Message.is_private)
    ids = sorted(new_labels)
    query = (
        select(
            Message.conversation_id,
            func.min(Message.created_at),
            func.max(Message.created_at),
            func.min(case((human_reply, Message.created_at))),
        )
        .where(Message.conversation_id.in_(ids))
        .group_by(Message.conversation_id)
    )
    labels_query = select(Conversation.id, Conversation.labels).where(Conversation.id.in_(ids))
    stored = dict(session.execute(labels_query).all())
    assignees: dict[int, int] = {}  # the human agent who wrote last
    last_agent = (
        select(Message.conversation_id, Message.agent_id)
        .where(Message.conversation_id.in_(ids), Message.sender_kind == "agent", Message.agent_id.is_not(None))
        .order_by(Message.created_at, Message.id)
    )
    for conversation, agent in session.execute(last_agent):
        if agent is not None:
            assignees[int(conversation)] = int(agent)
    now = values.utc_now()
    changes = []
    for conversation, first, last, first_reply in session.execute(query):
        status = given_status.get(conversation) or _derived_status(last, now)
        changes.append(
            {
                "id": conversation,
                "created_at": first,
                "last_activity_at": last,
                "first_reply_at": first_reply,
                "status": status,
                "assignee_agent_id": assignees.get(conversation),
                "resolved_at": last if status == "resolved" else None,
                "labels": sorted(set(stored.get(conversation) or ()) | new_labels[conversation]),
                "synced_at": now,  # what gold.conversation_facts recomputes from
            }
        )
    if changes:
        session.execute(update(Conversation), changes)


def _derived_status(last: datetime, now: datetime) -> str:
    return "resolved" if now - last > RESOLVED_AFTER else "open"
