"""Visits: an anonymous id's events with no gap longer than the timeout (30 minutes by default).

Only events with an anonymous id (what a browser or app sends) make visits; server-side calls with only a user id
are not visits. A visit's key is a hash of tenant, anonymous id and its first event's message id, so a re-run
never duplicates it. The visits of the chunk's anonymous ids that end within the timeout of the chunk's first
event are loaded, so an event ten minutes after the previous run's last one extends that visit; a late event
that falls just before a visit moves its start (and landing page) back, and one that closes the gap between two
visits joins them into the earlier one. New visits are bulk-inserted, changed
ones bulk-updated: two statements per chunk.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update

from pulso.pipeline.silver.parse import ParsedEvent
from pulso.store.models import Base, Contact, WebSession
from pulso.store.session import PulsoSession

LANDING_FIELDS = ("landing_url", "referrer", "channel", "utm_source", "utm_medium", "utm_campaign", "utm_term")
COLUMNS = ("session_key", "contact_id", "anonymous_id", "started_at", "ended_at", "event_count", "utm_content")


@dataclass
class Visit:
    session_key: str
    contact_id: int | None
    anonymous_id: str
    started_at: datetime
    ended_at: datetime
    event_count: int = 0
    landing_url: str | None = None
    referrer: str | None = None
    channel: str | None = None
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    utm_term: str | None = None
    utm_content: str | None = None
    id: int | None = None  # None until inserted
    changed: bool = False


def session_key(tenant_id: int, anonymous_id: str, first_message_id: str) -> str:
    return hashlib.sha256(f"{tenant_id}\x1f{anonymous_id}\x1f{first_message_id}".encode()).hexdigest()[:40]


def _set_landing(visit: Visit, event: ParsedEvent) -> None:
    visit.landing_url, visit.referrer, visit.channel = event.page_url, event.referrer, event.touch.channel
    visit.utm_source, visit.utm_medium = event.utm.get("source"), event.utm.get("medium")
    visit.utm_campaign, visit.utm_term = event.utm.get("campaign"), event.utm.get("term")
    visit.utm_content = event.utm.get("content")


def _load(session: PulsoSession, anonymous_ids: list[str], since: datetime) -> dict[str, list[Visit]]:
    visits: dict[str, list[Visit]] = defaultdict(list)
    names = ("id", *COLUMNS, *LANDING_FIELDS)
    query = select(*(getattr(WebSession, name) for name in names)).where(
        WebSession.anonymous_id.in_(anonymous_ids), WebSession.ended_at >= since
    )
    for row in session.execute(query):
        visit = Visit(**dict(zip(names, row, strict=True)))
        visits[visit.anonymous_id].append(visit)
    return visits


def _write(session: PulsoSession, visits: list[Visit], retired: dict[str, Visit]) -> None:
    table, events = Base.metadata.tables["web_sessions"], Base.metadata.tables["events"]
    for old_key in retired:
        new_key = _survivor(retired, old_key).session_key
        session.execute(
            update(events)
            .where(events.c.tenant_id == session.tenant_id, events.c.session_key == old_key)
            .values(session_key=new_key)
        )
        session.execute(delete(table).where(table.c.tenant_id == session.tenant_id, table.c.session_key == old_key))
    new = [{"tenant_id": session.tenant_id, **_values(v)} for v in visits if v.id is None]
    if new:
        session.execute(insert(table), new)
    changed = [{"_id": v.id, **_values(v)} for v in visits if v.id is not None and v.changed]
    if changed:
        statement = update(table).where(table.c.tenant_id == session.tenant_id, table.c.id == bindparam("_id"))
        session.execute(statement, changed)


def _values(visit: Visit) -> dict[str, Any]:
    return {name: getattr(visit, name) for name in (*COLUMNS, *LANDING_FIELDS)}


def assign_sessions(
    session: PulsoSession, events: list[ParsedEvent], contact_of: dict[int, Contact], timeout: timedelta
) -> tuple[dict[int, str], int]:
    """Put each event with an anonymous id into a visit. Returns raw event id -> session key and visits created."""
    by_anonymous_id: dict[str, list[ParsedEvent]] = defaultdict(list)
    for event in events:
        if event.anonymous_id:
            by_anonymous_id[event.anonymous_id].append(event)
    if not by_anonymous_id:
        return {}, 0
    earliest = min(event.occurred_at for group in by_anonymous_id.values() for event in group)
    visits = _load(session, list(by_anonymous_id), earliest - timeout)
    keys: dict[int, str] = {}
    touched: list[Visit] = []
    retired: dict[str, Visit] = {}  # visits absorbed by another because a late event closed the gap
    for anonymous_id, group in by_anonymous_id.items():
        for event in sorted(group, key=lambda e: (e.occurred_at, e.raw_id)):
            moment = event.occurred_at
            candidates = visits[anonymous_id]
            matches = [v for v in candidates if v.started_at - timeout <= moment <= v.ended_at + timeout]
            visit = _join(matches, candidates, retired) if matches else None
            if visit is None:
                key = session_key(session.tenant_id, anonymous_id, event.message_id)
                visit = Visit(key, None, anonymous_id, moment, moment)
                _set_landing(visit, event)
                candidates.append(visit)
            elif moment < visit.started_at:
                visit.started_at = moment
                _set_landing(visit, event)
            visit.ended_at = max(visit.ended_at, moment)
            visit.event_count += 1
            visit.contact_id = contact_of[event.raw_id].id
            visit.changed = True
            keys[event.raw_id] = visit.session_key
        touched += [visit for visit in visits[anonymous_id] if visit.changed]
    for raw_id, key in keys.items():
        if key in retired:
            keys[raw_id] = _survivor(retired, key).session_key
    _write(session, touched, retired)
    return keys, sum(1 for visit in touched if visit.id is None)


def _survivor(retired: dict[str, Visit], key: str) -> Visit:
    visit = retired[key]
    while visit.session_key in retired:
        visit = retired[visit.session_key]
    return visit


def _join(matches: list[Visit], candidates: list[Visit], retired: dict[str, Visit]) -> Visit:
    """The visit an event belongs to. An event within the timeout of two visits bridges them: the earlier one
    absorbs the later ones (their events are re-keyed and their rows deleted when written)."""
    keep = min(matches, key=lambda v: v.started_at)
    for other in matches:
        if other is not keep:
            keep.ended_at = max(keep.ended_at, other.ended_at)
            keep.event_count += other.event_count
            keep.changed = True
            candidates.remove(other)
            retired[other.session_key] = keep
    return keep
