"""Reading bronze and quarantine back through the tenant's own session."""

from __future__ import annotations

from sqlalchemy import select

from pulso.store import tenant_session
from pulso.store.models import Quarantine, RawEvent


def bronze(tenant_id: int) -> list[RawEvent]:
    with tenant_session(tenant_id) as session:
        return list(session.scalars(select(RawEvent).order_by(RawEvent.id)))


def quarantined(tenant_id: int) -> list[Quarantine]:
    with tenant_session(tenant_id) as session:
        return list(session.scalars(select(Quarantine).order_by(Quarantine.id)))
