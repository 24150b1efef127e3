"""gold.daily_metrics on a hand-built fixture whose answer was worked out by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from pulso.config import Settings
from pulso.pipeline.gold.daily_metrics import build_daily_metrics
from pulso.pipeline.registry import get_job
from pulso.pipeline.runner import recent_runs, run_pipeline
from pulso.store import platform_session, tenant_session
from pulso.store.models import Contact, Conversation, DailyMetric, Inbox, Order
from pulso.tenancy.service import create_tenant


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def _fixture() -> tuple[int, int]:
    """Tenant 'sp' in America/Sao_Paulo (UTC-3) and tenant 'other' with one conversation."""
    with platform_session() as session:
        sp = create_tenant(session, slug="sp", name="SP", timezone="America/Sao_Paulo").id
        other = create_tenant(session, slug="other", name="Other", timezone="UTC").id
    with tenant_session(sp) as session:
        inbox = Inbox(external_id="1", name="WhatsApp", channel_type="whatsapp")
        session.add(inbox)
        session.flush()
        # 2026-03-02 01:30 UTC is 2026-03-01 22:30 in São Paulo: it counts on March 1st, not 2nd.
        for created in [utc(2026, 3, 1, 12), utc(2026, 3, 2, 1, 30), utc(2026, 3, 2, 14), utc(2026, 3, 3, 2, 59)]:
            session.add(Conversation(external_id=str(created), inbox_id=inbox.id, created_at=created))
        lead = Contact(
            name="Ana",
            lifecycle_stage="customer",
            became_lead_at=utc(2026, 3, 2, 3),
            became_customer_at=utc(2026, 3, 3, 15),
        )
        session.add(lead)
        session.flush()
        session.add_all(
            [
                Order(external_id="o1", contact_id=lead.id, amount=Decimal("150.00"), ordered_at=utc(2026, 3, 3, 15)),
                Order(external_id="o2", contact_id=lead.id, amount=Decimal("99.90"), ordered_at=utc(2026, 3, 3, 20)),
                Order(
                    external_id="o3",
                    contact_id=lead.id,
                    amount=Decimal("500.00"),
                    ordered_at=utc(2026, 3, 3, 21),
                    status="cancelled",
                ),
            ]
        )
    with tenant_session(other) as session:
        inbox = Inbox(external_id="1", name="Chat", channel_type="web")
        session.add(inbox)
        session.flush()
        session.add(Conversation(external_id="x", inbox_id=inbox.id, created_at=utc(2026, 3, 1, 12)))
    return sp, other


def _values(tenant_id: int, metric: str) -> dict[date, float]:
    with tenant_session(tenant_id) as session:
        rows = session.execute(select(DailyMetric.day, DailyMetric.value).where(DailyMetric.metric == metric))
        return {day: value for day, value in rows if value}


def test_local_days_and_totals(any_settings: Settings) -> None:
    sp, other = _fixture()
    with tenant_session(sp) as session:
        written = build_daily_metrics(session, since=None)
    assert written > 0
    # by hand: Mar 1 local has 12:00Z (09:00) and 01:30Z on the 2nd (22:30 on the 1st); Mar 2 has 14:00Z;
    # 02:59Z on the 3rd is 23:59 on the 2nd.
    assert _values(sp, "conversations") == {date(2026, 3, 1): 2, date(2026, 3, 2): 2}
    assert _values(sp, "leads") == {date(2026, 3, 2): 1}  # 03:00Z on the 2nd is 00:00 local
    assert _values(sp, "customers") == {date(2026, 3, 3): 1}
    assert _values(sp, "revenue") == {date(2026, 3, 3): pytest.approx(249.90)}  # the cancelled order is out
    assert _values(other, "conversations") == {}, "the job ran for sp only"


def test_rerun_is_idempotent_and_since_rebuilds_a_suffix(any_settings: Settings) -> None:
    sp, _ = _fixture()
    with tenant_session(sp) as session:
        build_daily_metrics(session, since=None)
    first = _values(sp, "conversations")
    with tenant_session(sp) as session:
        build_daily_metrics(session, since=None)
        build_daily_metrics(session, since=date(2026, 3, 2))
    assert _values(sp, "conversations") == first
    with tenant_session(sp) as session:
        days = session.scalars(select(DailyMetric.day).where(DailyMetric.metric == "conversations")).all()
    assert len(days) == len(set(days)), "a day appears twice"
    assert min(days) == date(2026, 3, 1)


def test_pipeline_records_runs_and_failures(any_settings: Settings) -> None:
    sp, other = _fixture()
    results = run_pipeline(job_names=["gold.daily_metrics"])
    assert {(r.tenant_slug, r.status) for r in results} == {("sp", "succeeded"), ("other", "succeeded")}
    runs = recent_runs()
    assert {(r.tenant_id, r.status) for r in runs} == {(sp, "succeeded"), (other, "succeeded")}
    assert all(r.duration_seconds is not None and r.rows and r.finished_at for r in runs)

    job = get_job("gold.daily_metrics")

    def broken(session: object, since: date | None) -> int:
        raise RuntimeError("disk on fire")

    object.__setattr__(job, "run", broken)  # Job is frozen; restored below
    try:
        failed = run_pipeline(tenant_slug="sp", job_names=["gold.daily_metrics"])
    finally:
        object.__setattr__(job, "run", build_daily_metrics)
    assert [r.status for r in failed] == ["failed"]
    latest = recent_runs(1)[0]
    assert latest.status == "failed" and "disk on fire" in (latest.error or "")
    assert _values(sp, "conversations"), "the failed run rolled back and left the previous numbers"


def test_unknown_tenant_or_job(sqlite_settings: Settings) -> None:
    with pytest.raises(LookupError, match="nope"):
        run_pipeline(tenant_slug="nope")
    with pytest.raises(LookupError, match=r"no\.such"):
        run_pipeline(job_names=["no.such"])
