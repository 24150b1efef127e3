"""Repository for the collector: one transaction per request writes accepted events to bronze and rejected
ones to the quarantine. Duplicates are skipped by the (tenant_id, source, message_id) unique constraint."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.dialects import sqlite

from pulso.store import CrossTenantWriteError, PulsoSession, tenant_session
from pulso.store.models import Quarantine, RawEvent

SOURCE = "http"


@dataclass(slots=True)
class Rejected:
    index: int
    reason: str
    raw: str
    location: str


# PostgreSQL: the whole request is one JSON parameter expanded server-side - one short statement whatever the
# batch size (a 100-row VALUES list costs more in client-side parameter handling than the insert itself).
# Everything stays `json` (validated text, like the raw_events.payload column): no jsonb conversion at all.
# Row-level security still applies: the tenant session has set app.tenant_id for this transaction.
PG_INSERT = text(
    """
    INSERT INTO raw_events (tenant_id, source, kind, message_id, batch_id, payload, received_at)
    SELECT r.tenant_id, r.source, r.kind, r.message_id, r.batch_id, r.payload, r.received_at
    FROM json_to_recordset(CAST(:rows AS json)) AS r(
        tenant_id int, source text, kind text, message_id text, batch_id text, payload json, received_at timestamptz
    )
    ON CONFLICT (tenant_id, source, message_id) DO NOTHING
    RETURNING message_id
    """
)


def insert_events(session: PulsoSession, rows: list[dict[str, Any]]) -> set[str]:
    """Insert bronze rows (dicts of RawEvent columns), skipping known message ids; the ids actually inserted."""
    if not rows:
        return set()
    if session.get_bind().dialect.name == "postgresql":
        for row in rows:
            if row["tenant_id"] != session.tenant_id:
                raise CrossTenantWriteError(f"row of tenant {row['tenant_id']} in tenant {session.tenant_id}'s session")
        payload = orjson.dumps(rows, option=orjson.OPT_NAIVE_UTC)
        return {str(m) for m in session.scalars(PG_INSERT, {"rows": payload.decode()})}
    statement = (
        sqlite.insert(RawEvent)
        .on_conflict_do_nothing(index_elements=["tenant_id", "source", "message_id"])
        .returning(RawEvent.message_id)
    )
    return {str(m) for m in session.scalars(statement, rows)}


def _storable(text: str) -> str:
    """PostgreSQL text cannot hold NUL characters; keep them visible as the JSON escape instead."""
    return text.replace("\x00", "\\u0000") if "\x00" in text else text


def quarantine_rows(tenant_id: int, batch_id: str, received_at: datetime, rejected: list[Rejected]) -> list[Any]:
    return [
        Quarantine(
            tenant_id=tenant_id,
            source=SOURCE,
            batch_id=batch_id,
            location=r.location[:200],
            reason=_storable(r.reason),
            raw=_storable(r.raw),
            received_at=received_at,
        )
        for r in rejected
    ]


def store_request(
    tenant_id: int,
    batch_id: str,
    received_at: datetime,
    events: list[tuple[str, str, dict[str, Any]]],
    rejected: list[Rejected],
) -> int:
    """Commit ``events`` (kind, message id, payload) and the rejected ones; returns how many were new."""
    rows = [
        {
            "tenant_id": tenant_id,
            "source": SOURCE,
            "kind": kind,
            "message_id": message_id,
            "batch_id": batch_id,
            "payload": payload,
            "received_at": received_at,
        }
        for kind, message_id, payload in events
    ]
    with tenant_session(tenant_id) as session:
        inserted = insert_events(session, rows)
        if rejected:
            session.add_all(quarantine_rows(tenant_id, batch_id, received_at, rejected))
    return len(inserted)
