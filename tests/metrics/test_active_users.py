"""DAU, MAU and stickiness across a month boundary, on SQLite and PostgreSQL.

Time zone America/Sao_Paulo (UTC-3 all year since 2019). Range 2025-02-27 .. 03-03; MAU windows (day - 29 .. day):
02-27: 01-29.., 02-28: 01-30.., 03-01: 01-31.., 03-02: 02-01.., 03-03: 02-02.. (February has 28 days).
Activity, by local day:

| person | activity (UTC)                                           | local day        |
|--------|----------------------------------------------------------|------------------|
| pA     | incoming message 01-30 12:00; another 03-01 12:00        | 01-30; 03-01     |
| pB     | event 02-28 02:30 (local 02-27 23:30); order 03-01 12:00 and an incoming message 03-01 13:00 | 02-27; 03-01 |
| pC     | cancelled order 03-01 02:59 (any status counts); incoming message 03-03 03:00 | 02-28; 03-03 |
| pD     | event 02-01 12:00                                        | 02-01            |
| pE     | event 03-02 15:00                                        | 03-02            |
| pZ     | event 01-28 12:00 (before every window)                  | never counted    |
| -      | an anonymous event 03-02, an agent's reply to pA 03-02   | not activity     |

DAU: 1, 1, 2 (pA, pB: pB twice), 1, 1. MAU: 02-27 {pA, pD, pB} 3; 02-28 + pC = 4; 03-01 {pA, pD, pB, pC} 4;
03-02 + pE = 5; 03-03 {pA, pB, pC, pE} 4 (pD's 02-01 fell out). Mean DAU 6/5 = 1.2, mean MAU 20/5 = 4,
stickiness 1.2 / 4 = 0.3; on 03-01: 2/4.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from pulso.config import Settings
from pulso.metrics.active_users import ActiveUsersParams, ActiveUsersResult, active_users
from pulso.metrics.filters import Filters
from pulso.metrics.overview import DateRange
from pulso.store.models import Contact, Conversation, Event, Inbox, Message, Order
from pulso.store.session import tenant_session
from tests.metrics.helpers import TZ, seeded_tenant

RANGE = DateRange(date(2025, 2, 27), date(2025, 3, 3))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def seed(tenant_id: int) -> dict[str, int]:
    with tenant_session(tenant_id) as session:
        people = {
            name: Contact(name=name, first_touch_channel="instagram" if name == "pA" else "whatsapp")
            for name in ("pA", "pB", "pC", "pD", "pE", "pZ")
        }
        inbox = Inbox(external_id="wa", name="WhatsApp", channel_type="whatsapp")
        session.add_all([inbox, *people.values()])
        session.flush()
        conversations = {
            name: Conversation(external_id=name, inbox_id=inbox.id, contact_id=people[name].id, created_at=at)
            for name, at in (("pA", utc(2025, 1, 30)), ("pB", utc(2025, 3, 1)), ("pC", utc(2025, 3, 3)))
        }
        session.add_all(conversations.values())
        session.flush()
        messages = [
            ("pA", "incoming", utc(2025, 1, 30, 12)),
            ("pA", "incoming", utc(2025, 3, 1, 12)),
            ("pA", "outgoing", utc(2025, 3, 2, 12)),
            ("pB", "incoming", utc(2025, 3, 1, 13)),
            ("pC", "incoming", utc(2025, 3, 3, 3)),
        ]
        for number, (name, direction, at) in enumerate(messages):
            session.add(
                Message(
                    external_id=f"m{number}", conversation_id=conversations[name].id, direction=direction,
                    sender_kind="contact" if direction == "incoming" else "agent", created_at=at,
                )
            )  # fmt: skip
        events = [
            ("pB", utc(2025, 2, 28, 2, 30)), ("pD", utc(2025, 2, 1, 12)), ("pE", utc(2025, 3, 2, 15)),
            ("pZ", utc(2025, 1, 28, 12)), (None, utc(2025, 3, 2, 12)),
        ]  # fmt: skip
        for number, (name, at) in enumerate(events):
            contact_id = people[name].id if name else None
            session.add(
                Event(
                    message_id=f"e{number}", type="track", name="page_viewed", contact_id=contact_id,
                    anonymous_id="anon", occurred_at=at, received_at=at,
                )
            )  # fmt: skip
        orders = [("pB", "completed", utc(2025, 3, 1, 12)), ("pC", "cancelled", utc(2025, 3, 1, 2, 59))]
        for number, (name, status, at) in enumerate(orders):
            session.add(
                Order(
                    external_id=f"o{number}", contact_id=people[name].id, amount=Decimal(50), status=status,
                    ordered_at=at,
                )
            )  # fmt: skip
        return {name: person.id for name, person in people.items()}


@pytest.fixture
def tenant(any_settings: Settings) -> tuple[int, dict[str, int]]:
    return seeded_tenant(seed)


def run(tenant_id: int, **options: object) -> ActiveUsersResult:
    with tenant_session(tenant_id) as session:
        return active_users(session, ActiveUsersParams(RANGE, TZ, **options))  # type: ignore[arg-type]


def test_dau_mau_and_stickiness_across_a_month_boundary(tenant: tuple[int, dict[str, int]]) -> None:
    result = run(tenant[0])
    assert [d.day for d in result.days] == RANGE.dates()
    assert [d.dau for d in result.days] == [1, 1, 2, 1, 1]
    assert [d.mau for d in result.days] == [3, 4, 4, 5, 4]
    assert result.days[2].stickiness == 0.5
    assert (result.mean_dau, result.mean_mau, result.stickiness) == (pytest.approx(1.2), 4.0, pytest.approx(0.3))
    assert result.start_utc == utc(2025, 2, 27, 3) and result.end_utc == utc(2025, 3, 4, 3)
    assert "trailing 30" in result.definitions["mau"]


def test_filters_select_people(tenant: tuple[int, dict[str, int]]) -> None:
    result = run(tenant[0], filters=Filters(channels=("instagram",)))  # pA only
    assert [d.dau for d in result.days] == [0, 0, 1, 0, 0]
    assert [d.mau for d in result.days] == [1, 1, 1, 1, 1]


def test_an_empty_range(tenant: tuple[int, dict[str, int]]) -> None:
    with tenant_session(tenant[0]) as session:
        empty = active_users(session, ActiveUsersParams(DateRange(date(2024, 1, 1), date(2024, 1, 2)), TZ))
    assert [(d.dau, d.mau, d.stickiness) for d in empty.days] == [(0, 0, None), (0, 0, None)]
    assert empty.stickiness is None
