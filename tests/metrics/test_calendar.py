"""Local periods and local days: the period arithmetic, the offset changes SQLite's local_date relies on, and
local_date itself on both databases across a daylight-saving change (America/New_York, 2025-03-09 07:00Z)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from pulso.config import Settings
from pulso.metrics.calendar import local_date, offset_changes, period_start, shift, spans
from pulso.store.models import Event
from pulso.store.session import platform_session, tenant_session
from pulso.tenancy.service import create_tenant


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def test_period_arithmetic() -> None:
    assert period_start(date(2025, 3, 5), "week") == date(2025, 3, 3)  # a Wednesday -> its Monday
    assert period_start(date(2025, 3, 5), "month") == date(2025, 3, 1)
    assert shift(date(2024, 11, 1), "month", 3) == date(2025, 2, 1)
    assert shift(date(2025, 1, 1), "month", -13) == date(2023, 12, 1)
    assert shift(date(2025, 2, 24), "week", 1) == date(2025, 3, 3)
    weeks = spans(date(2025, 3, 3), 2, "week", "America/Sao_Paulo")
    assert [(w.start_utc, w.end_utc) for w in weeks][1] == (utc(2025, 3, 10, 3), utc(2025, 3, 17, 3))


def test_offset_changes() -> None:
    assert offset_changes("America/Sao_Paulo", utc(2024, 1, 1), utc(2026, 1, 1)) == [(utc(2024, 1, 1), -180)]
    assert offset_changes("America/New_York", utc(2025, 1, 1), utc(2026, 1, 1)) == [
        (utc(2025, 1, 1), -300),
        (utc(2025, 3, 9, 7), -240),
        (utc(2025, 11, 2, 6), -300),
    ]


def test_local_date_across_a_dst_change(any_settings: Settings) -> None:
    with platform_session() as session:
        tenant_id = create_tenant(session, slug="t", name="T", timezone="America/New_York").id
    moments = [utc(2025, 3, 9, 4, 59), utc(2025, 3, 9, 5), utc(2025, 3, 10, 3, 59), utc(2025, 3, 10, 4)]
    with tenant_session(tenant_id) as session:
        for number, at in enumerate(moments):
            session.add(Event(message_id=f"e{number}", type="track", occurred_at=at, received_at=at))
    with tenant_session(tenant_id) as session:
        day = local_date(session, Event.occurred_at, "America/New_York", utc(2025, 3, 1), utc(2025, 3, 20))
        found = session.execute(select(Event.occurred_at, day).order_by(Event.occurred_at)).all()
    # UTC-5 before 03-09 07:00Z, UTC-4 after: 04:59Z is 23:59 on the 8th, 05:00Z midnight of the 9th;
    # 03-10 03:59Z is 23:59 on the 9th, 04:00Z midnight of the 10th.
    assert [d for _, d in found] == [date(2025, 3, 8), date(2025, 3, 9), date(2025, 3, 9), date(2025, 3, 10)]
