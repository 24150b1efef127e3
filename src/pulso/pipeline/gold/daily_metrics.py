"""Gold job ``gold.daily_metrics``: one number per tenant, local day and metric, for charts and trends.

Days are the tenant's local calendar days. PostgreSQL converts time zones in SQL; SQLite has no time zones, so
it groups by 15-minute UTC buckets (every real UTC offset is a multiple of 15 minutes) and the buckets are moved
to local days here. Both give the same numbers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, delete, func, insert, select

from pulso.pipeline.registry import Job, register
from pulso.store.models import Contact, Conversation, DailyMetric, Event, Message, Order, Tenant
from pulso.store.models.silver import REVENUE_STATUSES
from pulso.store.session import PulsoSession
from pulso.store.sqltime import local_day, local_day_key

METRICS: dict[str, tuple[Any, Any, tuple[ColumnElement[bool], ...]]] = {
    # metric: (timestamp column, aggregate, filters)
    "conversations": (Conversation.created_at, func.count(), ()),
    "messages": (Message.created_at, func.count(), ()),
    # contacts merged into another by identity resolution are left out: their history moved to the survivor
    "leads": (Contact.became_lead_at, func.count(), (Contact.merged_into_id.is_(None),)),
    "customers": (Contact.became_customer_at, func.count(), (Contact.merged_into_id.is_(None),)),
    "events": (Event.occurred_at, func.count(), ()),
    "revenue": (Order.ordered_at, func.coalesce(func.sum(Order.amount), 0), (Order.status.in_(REVENUE_STATUSES),)),
}


def local_day_totals(
    session: PulsoSession,
    column: Any,
    aggregate: Any,
    filters: Iterable[ColumnElement[bool]],
    start_utc: datetime | None,
    zone: ZoneInfo,
) -> dict[date, float]:
    """``aggregate`` per local day of ``column`` (from ``start_utc`` on), in SQL on both databases."""
    bucket = local_day_key(session, column, zone.key)
    query = select(bucket.label("bucket"), aggregate.label("value")).where(column.is_not(None), *filters)
    if start_utc is not None:
        query = query.where(column >= start_utc)
    totals: dict[date, float] = defaultdict(float)
    for key, value in session.execute(query.group_by(bucket)).all():
        totals[local_day(key, zone)] += float(value)
    return totals


def build_daily_metrics(session: PulsoSession, since: date | None) -> int:
    """Rebuild ``daily_metrics`` for days >= ``since`` (all days when None). Returns rows written."""
    tenant = session.get_one(Tenant, session.tenant_id)
    zone = ZoneInfo(tenant.timezone)
    start_utc = datetime.combine(since, time(0), zone).astimezone(UTC) if since else None
    series = {
        name: local_day_totals(session, column, aggregate, filters, start_utc, zone)
        for name, (column, aggregate, filters) in METRICS.items()
    }
    days = [day for values in series.values() for day in values]
    stale = delete(DailyMetric).where(DailyMetric.tenant_id == session.tenant_id)
    if since is not None:
        stale = stale.where(DailyMetric.day >= since)
    session.execute(stale.execution_options(synchronize_session=False))
    if not days:
        return 0
    first = since or min(days)
    last = max(max(days), datetime.now(zone).date())
    rows = [
        {"tenant_id": session.tenant_id, "day": first + timedelta(n), "metric": name, "value": values.get(day, 0.0)}
        for name, values in series.items()
        for n in range((last - first).days + 1)
        for day in [first + timedelta(n)]
    ]
    session.execute(insert(DailyMetric), rows)
    return len(rows)


JOB = register(
    Job(
        name="gold.daily_metrics",
        run=build_daily_metrics,
        description="Daily counts of conversations, messages, leads, customers, events and revenue per local day.",
        every_minutes=15,
        order=300,
    )
)
