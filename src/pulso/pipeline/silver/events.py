"""Silver job ``silver.events``: unprocessed bronze ``raw_events`` -> events, contacts, identities and visits.

Incremental and idempotent: it reads raw events with ``processed_at IS NULL`` in id order, in chunks, and
marks each one processed in the same transaction as what it wrote, so a raw event is refined exactly once
(a message id already in ``events`` is skipped, and inserts use ON CONFLICT DO NOTHING). A payload that cannot
be refined goes to ``quarantine`` with the reason and is marked processed too: nothing is dropped silently.

``since`` is ignored: what to refine is decided by ``processed_at``, not by date. To refine again, delete the
silver rows and clear ``processed_at`` for the range.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Row, select, update
from sqlalchemy.dialects import postgresql, sqlite

from pulso.config import get_settings
from pulso.pipeline.registry import Job, register
from pulso.pipeline.silver.contacts import apply_events, lifecycle_events
from pulso.pipeline.silver.merge import merge_contacts
from pulso.pipeline.silver.parse import ParsedEvent, RefineError, parse_event
from pulso.pipeline.silver.resolve import resolve_chunk
from pulso.pipeline.silver.sessions import assign_sessions
from pulso.store.models import Base, Event, Quarantine, RawEvent, Tenant
from pulso.store.models.silver import EVENT_TYPES
from pulso.store.session import PulsoSession
from pulso.store.types import utcnow

log = logging.getLogger(__name__)
CHUNK_SIZE = 5000
RAW_COLUMNS = (
    RawEvent.id,
    RawEvent.source,
    RawEvent.kind,
    RawEvent.message_id,
    RawEvent.batch_id,
    RawEvent.payload,
    RawEvent.received_at,
)


@dataclass
class RefineStats:
    events: int = 0
    duplicates: int = 0
    quarantined: int = 0
    contacts_created: int = 0
    contacts_merged: int = 0
    sessions_created: int = 0
    invalid_phones: int = 0
    invalid_emails: int = 0

    def add(self, other: RefineStats) -> None:
        for item in fields(self):
            setattr(self, item.name, getattr(self, item.name) + getattr(other, item.name))


def _insert_ignoring_conflicts(session: PulsoSession, table_name: str, rows: list[dict[str, Any]]) -> None:
    """A Core bulk insert (much faster than the ORM's) that skips rows whose natural key exists."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(dialect.insert(Base.metadata.tables[table_name]).on_conflict_do_nothing(), rows)


def _event_row(session: PulsoSession, event: ParsedEvent, contact_id: int, key: str | None) -> dict[str, Any]:
    return {
        "tenant_id": session.tenant_id,
        "message_id": event.message_id,
        "type": event.type,
        "name": event.name,
        "contact_id": contact_id,
        "anonymous_id": event.anonymous_id,
        "user_id": event.user_id,
        "utm_source": event.utm.get("source"),
        "utm_medium": event.utm.get("medium"),
        "utm_campaign": event.utm.get("campaign"),
        "utm_term": event.utm.get("term"),
        "utm_content": event.utm.get("content"),
        "properties": event.properties,
        "context": event.context,
        "occurred_at": event.occurred_at,
        "original_timestamp": event.original_timestamp,
        "sent_at": event.sent_at,
        "received_at": event.received_at,
        "session_key": key,
    }


def _parse_chunk(session: PulsoSession, raws: Sequence[Row[Any]], stats: RefineStats) -> list[ParsedEvent]:
    parsed: list[ParsedEvent] = []
    quarantined = []
    for raw in raws:
        try:
            parsed.append(parse_event(raw.id, raw.kind, raw.message_id, raw.payload, raw.received_at))
        except RefineError as exc:
            quarantined.append(
                Quarantine(
                    source=raw.source,
                    batch_id=raw.batch_id,
                    location=f"raw_events/{raw.id}",
                    reason=f"refine: {exc}",
                    raw=json.dumps(raw.payload, ensure_ascii=False, default=str),
                    received_at=raw.received_at,
                )
            )
    session.add_all(quarantined)
    stats.quarantined += len(quarantined)
    seen: set[str] = set()
    if parsed:
        query = select(Event.message_id).where(Event.message_id.in_([e.message_id for e in parsed]))
        seen = set(session.scalars(query))
    fresh = []
    for event in parsed:
        if event.message_id not in seen:
            seen.add(event.message_id)
            fresh.append(event)
    stats.duplicates += len(parsed) - len(fresh)
    return fresh


def refine_chunk(
    session: PulsoSession, raws: Sequence[Row[Any]], stages: dict[str, str], timeout: timedelta
) -> RefineStats:
    """Refine one chunk of raw events and mark them processed."""
    stats = RefineStats()
    events = _parse_chunk(session, raws, stats)
    if events:
        resolution, new_keys = resolve_chunk(session, events)
        stats.contacts_created = resolution.new_contacts
        for survivor_id, loser_ids in resolution.merges.items():
            losers = [resolution.contacts[loser_id] for loser_id in loser_ids]
            merge_contacts(session, resolution.contacts[survivor_id], losers)
            stats.contacts_merged += len(losers)
        events_of: dict[int, list[ParsedEvent]] = defaultdict(list)
        for event in events:
            events_of[id(resolution.contact_of[event.raw_id])].append(event)
        for group in events_of.values():
            invalid_phones, invalid_emails = apply_events(resolution.contact_of[group[0].raw_id], group, stages)
            stats.invalid_phones += invalid_phones
            stats.invalid_emails += invalid_emails
        session.flush()  # new contacts get their ids
        if new_keys:
            identities = [
                {"tenant_id": session.tenant_id, "kind": kind, "value": value, "contact_id": contact.id}
                for (kind, value), contact in new_keys.items()
            ]
            _insert_ignoring_conflicts(session, "contact_identities", identities)
        keys, stats.sessions_created = assign_sessions(session, events, resolution.contact_of, timeout)
        rows = [
            _event_row(session, event, resolution.contact_of[event.raw_id].id, keys.get(event.raw_id))
            for event in events
        ]
        _insert_ignoring_conflicts(session, "events", rows)
        stats.events = len(rows)
    raw_ids = [raw.id for raw in raws]
    session.execute(
        update(RawEvent).where(RawEvent.id.in_(raw_ids)).values(processed_at=utcnow()),
        execution_options={"synchronize_session": False},
    )
    session.flush()
    return stats


def refine_events(session: PulsoSession, chunk_size: int = CHUNK_SIZE) -> RefineStats:
    """Refine every unprocessed raw event of the session's tenant, chunk by chunk."""
    tenant = session.get_one(Tenant, session.tenant_id)
    stages = lifecycle_events(tenant.settings)
    timeout = timedelta(minutes=get_settings().web_session_timeout_minutes)
    total = RefineStats()
    while True:
        query = (
            select(*RAW_COLUMNS)
            .where(RawEvent.processed_at.is_(None), RawEvent.kind.in_(EVENT_TYPES))
            .order_by(RawEvent.id)
            .limit(chunk_size)
            .with_for_update(skip_locked=True)  # two runs at once never refine the same row (PostgreSQL)
        )
        raws = session.execute(query).all()
        if not raws:
            break
        total.add(refine_chunk(session, raws, stages, timeout))
        session.expunge_all()  # flat memory: the next chunk reloads what it needs
    log.info("silver.events: %s", total)
    return total


def run(session: PulsoSession, since: date | None) -> int:
    """The registered job: ``since`` is ignored (see the module docstring). Returns rows written."""
    stats = refine_events(session)
    return stats.events + stats.quarantined


JOB = register(
    Job(
        name="silver.events",
        run=run,
        description="Refine bronze raw events into events, contacts (identity resolution), visits and touches.",
        every_minutes=5,
        order=200,
    )
)
