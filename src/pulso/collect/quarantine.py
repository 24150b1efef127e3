"""Quarantine: list rejected payloads and replay them (after a code fix or an operator's edit of ``raw``).

A replayed row that now passes moves into bronze (duplicates are skipped as usual) and gets ``resolved_at``;
one that still fails stays, and the reason is reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

from pulso.collect.bronze import SOURCE, insert_events
from pulso.collect.service import BodyError, revalidate
from pulso.config import get_settings
from pulso.store import platform_session, tenant_session
from pulso.store.models import Quarantine


@dataclass(frozen=True, slots=True)
class ReplayOutcome:
    quarantine_id: int
    tenant_id: int
    replayed: bool
    events: int  # events now in bronze from this row (0 when it still fails)
    reason: str  # why it still fails, empty when replayed


def list_quarantine(tenant_id: int | None, limit: int = 50, *, unresolved_only: bool = True) -> list[Quarantine]:
    statement = select(Quarantine).order_by(Quarantine.id.desc()).limit(limit)
    if unresolved_only:
        statement = statement.where(Quarantine.resolved_at.is_(None))
    if tenant_id is None:
        with platform_session() as session:
            return list(session.scalars(statement))
    with tenant_session(tenant_id) as session:
        return list(session.scalars(statement))


def _candidates(tenant_id: int | None, ids: Sequence[int]) -> list[tuple[int, int]]:
    statement = select(Quarantine.id, Quarantine.tenant_id).where(Quarantine.resolved_at.is_(None))
    if tenant_id is not None:
        statement = statement.where(Quarantine.tenant_id == tenant_id)
    if ids:
        statement = statement.where(Quarantine.id.in_(list(ids)))
    with platform_session() as session:
        return [(int(i), int(t)) for i, t in session.execute(statement.order_by(Quarantine.id))]


def replay(tenant_id: int | None = None, ids: Sequence[int] = ()) -> list[ReplayOutcome]:
    """Re-validate unresolved quarantined payloads; each row is its own transaction in its tenant's session."""
    max_bytes = get_settings().collector_max_event_bytes
    outcomes = []
    for quarantine_id, row_tenant in _candidates(tenant_id, ids):
        with tenant_session(row_tenant) as session:
            row = session.get(Quarantine, quarantine_id)
            if row is None or row.resolved_at is not None:
                continue
            try:
                result = revalidate(row.raw, row.location, max_bytes)
            except BodyError as exc:
                outcomes.append(ReplayOutcome(row.id, row_tenant, False, 0, str(exc)))
                continue
            if result.rejected:
                reasons = "; ".join(r.reason for r in result.rejected)
                outcomes.append(ReplayOutcome(row.id, row_tenant, False, 0, reasons))
                continue
            now = datetime.now(UTC)
            rows = [
                {
                    "tenant_id": row_tenant,
                    "source": SOURCE,
                    "kind": kind,
                    "message_id": message_id,
                    "batch_id": row.batch_id,
                    "payload": payload,
                    "received_at": row.received_at,
                }
                for kind, message_id, payload in result.events
            ]
            insert_events(session, rows)
            row.resolved_at = now
            outcomes.append(ReplayOutcome(row.id, row_tenant, True, len(rows), ""))
    return outcomes
