"""Hand-built bronze: Segment payloads as the collector stores them, written with one bulk insert."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select

from pulso.pipeline.silver.events import RefineStats, refine_events
from pulso.store import platform_session, tenant_session
from pulso.store.models import Contact, RawEvent, Tenant
from pulso.tenancy.service import create_tenant

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    """T0 plus some minutes: fixtures read as a timeline."""
    return T0 + timedelta(minutes=minutes)


def make_tenant(slug: str = "acme", settings: dict[str, Any] | None = None) -> int:
    with platform_session() as session:
        tenant = create_tenant(session, slug=slug, name=slug.title())
        if settings is not None:
            tenant.settings = settings
        return tenant.id


def segment(
    kind: str,
    message_id: str,
    when: datetime,
    *,
    anon: str | None = None,
    user: str | None = None,
    received_at: datetime | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """A raw_events row. By default the client clock is right and the event was sent at once, so
    occurred_at == ``when``; ``received_at`` defaults to ``when``."""
    payload: dict[str, Any] = {"type": kind, "messageId": message_id, "originalTimestamp": when.isoformat()}
    payload["sentAt"] = when.isoformat()
    if anon is not None:
        payload["anonymousId"] = anon
    if user is not None:
        payload["userId"] = user
    payload.update(fields)
    return {
        "source": "http",
        "kind": kind,
        "message_id": message_id,
        "batch_id": None,
        "payload": payload,
        "received_at": received_at or when,
    }


def page(message_id: str, when: datetime, anon: str, url: str = "https://acme.com.br/", **extra: Any) -> dict[str, Any]:
    context = {"page": {"url": url, "path": "/", "referrer": extra.pop("referrer", "")}}
    if "campaign" in extra:
        context["campaign"] = extra.pop("campaign")
    return segment("page", message_id, when, anon=anon, context=context, **extra)


def add_raw(tenant_id: int, rows: list[dict[str, Any]]) -> None:
    with tenant_session(tenant_id) as session:
        session.execute(insert(RawEvent), [{"tenant_id": tenant_id, **row} for row in rows])


def refine(tenant_id: int, chunk_size: int = 5000) -> RefineStats:
    with tenant_session(tenant_id) as session:
        return refine_events(session, chunk_size=chunk_size)


def live_contacts(tenant_id: int) -> list[Contact]:
    with tenant_session(tenant_id) as session:
        return list(session.scalars(select(Contact).where(Contact.merged_into_id.is_(None)).order_by(Contact.id)))


def count(tenant_id: int, model: type[Any], *where: Any) -> int:
    with tenant_session(tenant_id) as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def tenant_settings(tenant_id: int) -> dict[str, Any]:
    with platform_session() as session:
        return dict(session.get_one(Tenant, tenant_id).settings)
