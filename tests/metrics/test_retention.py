"""Retention (first-time and recurring cohorts) on a hand-built month, on SQLite and PostgreSQL.

Time zone America/Sao_Paulo (UTC-3, no DST since 2019). Weekly cohorts for the range 2025-03-03 (Mon) .. 03-16:
W0 = 03-03..03-09, W1 = 03-10..03-16, then W2 = 03-17..23, W3 = 03-24..30. Completed orders (UTC):

| person | orders                                                      | first-ever | local weeks   |
|--------|-------------------------------------------------------------|------------|---------------|
| p1     | 03-03 12:00, 03-11 12:00, 03-25 12:00                       | W0         | W0, W1, W3    |
| p2     | 02-20 12:00, 03-04 12:00, 03-18 12:00                       | February   | Feb, W0, W2   |
| p3     | 03-10 02:30 (local 03-09 23:30: W0), 03-12 12:00            | W0         | W0, W1        |
| p4     | 03-13 12:00 (+ a cancelled one 03-20, not counted)          | W1         | W1            |
| p5     | 03-17 02:00 (local 03-16 23:00: W1), 03-24 12:00            | W1         | W1, W3        |
| nobody | 03-05 12:00 (an order without a contact: nobody's)          |            |               |

first_time: W0 = {p1, p3} (p2 first ordered in February): N0 2, N1 2 (p1, p3), N2 0. W1 = {p4, p5}: N0 2, N1 0,
N2 1 (p5 on 03-24). Weighted average: N0 4/4, N1 2/4, N2 1/4.
recurring: W0 = {p1, p2, p3}: N0 3, N1 2 (p1, p3), N2 1 (p2 on 03-18). W1 = {p1, p3, p4, p5}: N0 4, N1 0 (p2's
03-18 order: not a W1 member), N2 2 (p1, p5). Weighted average: N0 7/7, N1 2/7, N2 3/7.
Messages: p1 writes on 03-18 12:00 (W2); an agent's reply to p3 on 03-11 does not count. Events: p4 'signup' on
03-05 (W0), p1 'login' on 03-04 (another event).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from pulso.config import Settings
from pulso.metrics.activity import Action
from pulso.metrics.cohorts import RetentionParams, RetentionResult, retention
from pulso.metrics.filters import Filters
from pulso.metrics.overview import DateRange
from pulso.store.models import Contact, Conversation, Event, Inbox, Message, Order
from pulso.store.session import tenant_session
from tests.metrics.helpers import TZ, seeded_tenant

RANGE = DateRange(date(2025, 3, 3), date(2025, 3, 16))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def seed(tenant_id: int) -> dict[str, int]:
    with tenant_session(tenant_id) as session:
        people = {
            name: Contact(name=name, first_touch_channel="instagram" if name == "p1" else "whatsapp")
            for name in ("p1", "p2", "p3", "p4", "p5")
        }
        inbox = Inbox(external_id="wa", name="WhatsApp", channel_type="whatsapp")
        session.add_all([inbox, *people.values()])
        session.flush()
        orders = [
            ("p1", utc(2025, 3, 3, 12)), ("p1", utc(2025, 3, 11, 12)), ("p1", utc(2025, 3, 25, 12)),
            ("p2", utc(2025, 2, 20, 12)), ("p2", utc(2025, 3, 4, 12)), ("p2", utc(2025, 3, 18, 12)),
            ("p3", utc(2025, 3, 10, 2, 30)), ("p3", utc(2025, 3, 12, 12)),
            ("p4", utc(2025, 3, 13, 12)),
            ("p5", utc(2025, 3, 17, 2)), ("p5", utc(2025, 3, 24, 12)),
            (None, utc(2025, 3, 5, 12)),
        ]  # fmt: skip
        for number, (person, at) in enumerate(orders):
            contact_id = people[person].id if person else None
            session.add(Order(external_id=f"o{number}", contact_id=contact_id, amount=Decimal(100), ordered_at=at))
        session.add(
            Order(
                external_id="cancelled", contact_id=people["p4"].id, amount=Decimal(100),
                status="cancelled", ordered_at=utc(2025, 3, 20, 12),
            )
        )  # fmt: skip
        c1 = Conversation(external_id="c1", inbox_id=inbox.id, contact_id=people["p1"].id, created_at=utc(2025, 3, 18))
        c3 = Conversation(external_id="c3", inbox_id=inbox.id, contact_id=people["p3"].id, created_at=utc(2025, 3, 11))
        session.add_all([c1, c3])
        session.flush()
        session.add_all(
            [
                Message(
                    external_id="m1", conversation_id=c1.id, direction="incoming", sender_kind="contact",
                    created_at=utc(2025, 3, 18, 12),
                ),
                Message(
                    external_id="m2", conversation_id=c3.id, direction="outgoing", sender_kind="agent",
                    created_at=utc(2025, 3, 11, 12),
                ),
            ]
        )  # fmt: skip
        for number, (person, name, at) in enumerate(
            [("p4", "signup", utc(2025, 3, 5, 12)), ("p1", "login", utc(2025, 3, 4, 12))]
        ):
            session.add(
                Event(
                    message_id=f"e{number}", type="track", name=name, contact_id=people[person].id,
                    occurred_at=at, received_at=at,
                )
            )  # fmt: skip
        return {name: person.id for name, person in people.items()}


@pytest.fixture
def tenant(any_settings: Settings) -> tuple[int, dict[str, int]]:
    return seeded_tenant(seed)


def run(tenant_id: int, **options: object) -> RetentionResult:
    settings: dict[str, object] = {"max_period": 2, **options}
    with tenant_session(tenant_id) as session:
        return retention(session, RetentionParams(RANGE, TZ, **settings))  # type: ignore[arg-type]


def table(result: RetentionResult) -> list[tuple[str, int, tuple[int | None, ...]]]:
    return [(c.first_day.isoformat(), c.size, c.retained) for c in result.cohorts]


def test_first_time_cohorts_by_week(tenant: tuple[int, dict[str, int]]) -> None:
    result = run(tenant[0])
    assert table(result) == [("2025-03-03", 2, (2, 2, 0)), ("2025-03-10", 2, (2, 0, 1))]
    assert [cell.rate for cell in result.average] == [1.0, 0.5, 0.25]
    assert [(cell.cohorts, cell.size, cell.retained) for cell in result.average][2] == (2, 4, 1)
    assert result.cohorts[1].rates == (1.0, 0.0, 0.5)
    assert result.start_utc == utc(2025, 3, 3, 3) and result.end_utc == utc(2025, 3, 17, 3)
    assert "first-ever" in result.definitions["type"] and "completed order" in result.definitions["start_action"]


def test_recurring_cohorts_by_week(tenant: tuple[int, dict[str, int]]) -> None:
    result = run(tenant[0], retention_type="recurring")
    assert table(result) == [("2025-03-03", 3, (3, 2, 1)), ("2025-03-10", 4, (4, 0, 2))]
    assert [cell.rate for cell in result.average] == [1.0, pytest.approx(2 / 7), pytest.approx(3 / 7)]


def test_periods_not_reached_are_none_and_left_out_of_the_average(tenant: tuple[int, dict[str, int]]) -> None:
    result = run(tenant[0], observed_until=date(2025, 3, 20))  # W3 (from 03-24) has not begun
    assert table(result) == [("2025-03-03", 2, (2, 2, 0)), ("2025-03-10", 2, (2, 0, None))]
    assert [(cell.cohorts, cell.size, cell.retained) for cell in result.average] == [(2, 4, 4), (2, 4, 2), (1, 2, 0)]


def test_other_actions_and_filters(tenant: tuple[int, dict[str, int]]) -> None:
    # start: order, return: an incoming message. Only p1 writes, on 03-18: W0 (first-time) N2.
    by_message = run(tenant[0], return_action=Action("message"))
    assert table(by_message) == [("2025-03-03", 2, (0, 0, 1)), ("2025-03-10", 2, (0, 0, 0))]
    # start: the 'signup' event (p4, W0), return: an order (p4's on 03-13, W1).
    signups = run(tenant[0], start_action=Action.parse("event:signup"), return_action=Action("order"))
    assert table(signups) == [("2025-03-03", 1, (0, 1, 0)), ("2025-03-10", 0, (0, 0, 0))]
    assert [cell.rate for cell in signups.average] == [0.0, 1.0, 0.0]
    # only contacts first touched on Instagram: p1.
    instagram = run(tenant[0], filters=Filters(channels=("instagram",)))
    assert table(instagram) == [("2025-03-03", 1, (1, 1, 0)), ("2025-03-10", 0, (0, 0, 0))]


def test_monthly_and_daily_cohorts(tenant: tuple[int, dict[str, int]]) -> None:
    with tenant_session(tenant[0]) as session:
        months = RetentionParams(
            DateRange(date(2025, 2, 1), date(2025, 3, 31)), TZ, period="month", retention_type="recurring",
            max_period=1,
        )  # fmt: skip
        monthly = retention(session, months)
    # February: p2 (returns in March); March: all five, nobody orders in April.
    assert table(monthly) == [("2025-02-01", 1, (1, 1)), ("2025-03-01", 5, (5, 0))]
    # days: p3's order at 03-10 02:30Z is local 03-09; p3 returns on 03-12 (N = 3).
    daily = run(tenant[0], period="day", max_period=3)
    assert ("2025-03-09", 1, (1, 0, 0, 1)) in table(daily)
    assert ("2025-03-03", 1, (1, 0, 0, 0)) in table(daily) and len(daily.cohorts) == 14


def test_bad_parameters_say_what_is_wrong() -> None:
    with pytest.raises(ValueError, match="period must be one of day, week, month"):
        RetentionParams(RANGE, TZ, period="year")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="retention_type must be one of"):
        RetentionParams(RANGE, TZ, retention_type="sometimes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_period must be between 0 and 60"):
        RetentionParams(RANGE, TZ, max_period=61)
    with pytest.raises(ValueError, match="event:<name>"):
        Action.parse("event:")
    with pytest.raises(ValueError, match="must be order, message or event:<name>"):
        Action.parse("pageview")
