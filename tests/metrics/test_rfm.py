"""RFM scores, ties and segments on ten hand-built customers, on SQLite and PostgreSQL.

As of 2025-03-31 in America/Sao_Paulo (UTC-3). Ten customers: score = 1 + floor((rank - 1) / 2) for n = 10, rank
= RANK() from the worst value up (ties share the lowest rank).

| c   | last day | recency | F | M    | R rank -> R | F rank -> F | M rank -> M | FM = (F+M+1)//2 | segment            |
|-----|----------|---------|---|------|-------------|-------------|-------------|-----------------|--------------------|
| c1  | 03-31 *  | 0       | 5 | 1000 | 10 -> 5     | 9 -> 5      | 10 -> 5     | 5               | Champions          |
| c2  | 03-30    | 1       | 4 | 900  | 8 -> 4      | 8 -> 4      | 9 -> 5      | 5               | Loyal              |
| c3  | 03-30    | 1       | 1 | 50   | 8 -> 4      | 1 -> 1      | 1 -> 1      | 1               | Promising          |
| c4  | 03-20    | 11      | 3 | 500  | 7 -> 4      | 6 -> 3      | 6 -> 3      | 3               | Potential Loyalist |
| c5  | 03-10    | 21      | 2 | 300  | 6 -> 3      | 4 -> 2      | 4 -> 2      | 2               | About to Sleep     |
| c6  | 03-01    | 30      | 2 | 300  | 5 -> 3      | 4 -> 2      | 4 -> 2      | 2               | About to Sleep     |
| c7  | 02-15    | 44      | 5 | 800  | 4 -> 2      | 9 -> 5      | 8 -> 4      | 5               | Can't Lose Them    |
| c8  | 02-01    | 58      | 1 | 100  | 3 -> 2      | 1 -> 1      | 3 -> 2      | 2               | Hibernating        |
| c9  | 01-10    | 80      | 1 | 60   | 1 -> 1      | 1 -> 1      | 2 -> 1      | 1               | Lost               |
| c10 | 01-10    | 80      | 3 | 700  | 1 -> 1      | 6 -> 3      | 7 -> 4      | 4               | At Risk            |

Ties: c2/c3 share recency rank 8, c9/c10 rank 1; F = 1 (c3, c8, c9) all rank 1, F = 5 (c1, c7) rank 9; M = 300
(c5, c6) rank 4. * c1's last order is at 04-01 02:30Z, local 03-31 23:30; its order at 04-01 03:00Z (local April)
is after as_of, c3's cancelled order of 03-31 is no revenue, and an order without a contact is nobody's.
Only Instagram first touches (c1, c2; n = 2, score = 1 + floor(5 (rank - 1) / 2): ranks 1, 2 -> 1, 3): c1 R3 F3 M3
FM 3 = Need Attention, c2 R1 F1 M1 = Lost.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from pulso.config import Settings
from pulso.metrics.filters import Filters
from pulso.metrics.rfm import GRID, SEGMENTS, RfmParams, rfm, rfm_customers
from pulso.store.models import Contact, Order
from pulso.store.session import tenant_session
from tests.metrics.helpers import TZ, seeded_tenant

AS_OF = date(2025, 3, 31)
CUSTOMERS = {  # last local day, frequency, monetary
    "c1": (date(2025, 3, 31), 5, 1000), "c2": (date(2025, 3, 30), 4, 900), "c3": (date(2025, 3, 30), 1, 50),
    "c4": (date(2025, 3, 20), 3, 500), "c5": (date(2025, 3, 10), 2, 300), "c6": (date(2025, 3, 1), 2, 300),
    "c7": (date(2025, 2, 15), 5, 800), "c8": (date(2025, 2, 1), 1, 100), "c9": (date(2025, 1, 10), 1, 60),
    "c10": (date(2025, 1, 10), 3, 700),
}  # fmt: skip
SEGMENT_OF = {
    "c1": "Champions", "c2": "Loyal", "c3": "Promising", "c4": "Potential Loyalist", "c5": "About to Sleep",
    "c6": "About to Sleep", "c7": "Can't Lose Them", "c8": "Hibernating", "c9": "Lost", "c10": "At Risk",
}  # fmt: skip


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def seed(tenant_id: int) -> dict[str, int]:
    with tenant_session(tenant_id) as session:
        people = {
            name: Contact(name=name, first_touch_channel="instagram" if name in ("c1", "c2") else "whatsapp")
            for name in CUSTOMERS
        }
        session.add_all(people.values())
        session.flush()
        number = 0
        for name, (last, frequency, monetary) in CUSTOMERS.items():
            # the last order at local noon of its day (c1's at 23:30), earlier ones a week apart; 10 each but one
            amounts = [monetary - 10 * (frequency - 1)] + [10] * (frequency - 1)
            for back, amount in enumerate(amounts):
                at = datetime(last.year, last.month, last.day, 15, tzinfo=UTC) - timedelta(weeks=back)
                if name == "c1" and back == 0:
                    at = utc(2025, 4, 1, 2, 30)
                number += 1
                session.add(
                    Order(external_id=f"o{number}", contact_id=people[name].id, amount=Decimal(amount), ordered_at=at)
                )
        extra = [
            ("c1", "completed", utc(2025, 4, 1, 3)),  # local 1 April: after as_of
            ("c3", "cancelled", utc(2025, 3, 31, 15)),  # not revenue
            (None, "completed", utc(2025, 3, 31, 15)),  # nobody's
        ]
        for index, (name, status, at) in enumerate(extra):
            session.add(
                Order(
                    external_id=f"x{index}", contact_id=people[name].id if name else None, amount=Decimal(5000),
                    status=status, ordered_at=at,
                )
            )  # fmt: skip
        return {name: person.id for name, person in people.items()}


@pytest.fixture
def tenant(any_settings: Settings) -> tuple[int, dict[str, int]]:
    return seeded_tenant(seed)


def test_scores_ties_and_segments(tenant: tuple[int, dict[str, int]]) -> None:
    tenant_id, ids = tenant
    names = {contact_id: name for name, contact_id in ids.items()}
    with tenant_session(tenant_id) as session:
        page = rfm_customers(session, RfmParams(AS_OF, TZ), limit=20)
    found = {names[c.contact_id]: (c.recency, c.frequency, c.monetary, c.r, c.f, c.m, c.fm) for c in page.customers}
    assert found == {
        "c1": (0, 5, 1000.0, 5, 5, 5, 5), "c2": (1, 4, 900.0, 4, 4, 5, 5), "c3": (1, 1, 50.0, 4, 1, 1, 1),
        "c4": (11, 3, 500.0, 4, 3, 3, 3), "c5": (21, 2, 300.0, 3, 2, 2, 2), "c6": (30, 2, 300.0, 3, 2, 2, 2),
        "c7": (44, 5, 800.0, 2, 5, 4, 5), "c8": (58, 1, 100.0, 2, 1, 2, 2), "c9": (80, 1, 60.0, 1, 1, 1, 1),
        "c10": (80, 3, 700.0, 1, 3, 4, 4),
    }  # fmt: skip
    assert {names[c.contact_id]: c.segment for c in page.customers} == SEGMENT_OF
    assert page.total == 10 and [names[c.contact_id] for c in page.customers][:3] == ["c1", "c2", "c7"]


def test_segment_summary(tenant: tuple[int, dict[str, int]]) -> None:
    with tenant_session(tenant[0]) as session:
        result = rfm(session, RfmParams(AS_OF, TZ))
    assert result.customers == 10 and [s.segment for s in result.segments] == list(SEGMENTS)
    by_name = {s.segment: s for s in result.segments}
    sleepy = by_name["About to Sleep"]  # c5, c6: recency (21 + 30) / 2, 2 orders, 300 each
    assert (sleepy.customers, sleepy.revenue, sleepy.mean_recency, sleepy.mean_frequency) == (2, 600.0, 25.5, 2.0)
    assert sleepy.mean_monetary == 300.0
    assert (by_name["Champions"].customers, by_name["Champions"].revenue) == (1, 1000.0)
    assert (by_name["New Customers"].customers, by_name["New Customers"].mean_recency) == (0, None)
    assert sum(s.revenue for s in result.segments) == 4710.0  # 1000+900+50+500+300+300+800+100+60+700
    assert result.end_utc == utc(2025, 4, 1, 3) and result.start_utc is not None
    assert "RANK()" in result.definitions["scores"]


def test_pages_segment_choice_and_filters(tenant: tuple[int, dict[str, int]]) -> None:
    tenant_id, ids = tenant
    names = {contact_id: name for name, contact_id in ids.items()}
    with tenant_session(tenant_id) as session:
        page = rfm_customers(session, RfmParams(AS_OF, TZ), limit=3, offset=5)  # by money: ..c4, c5, c6, c8..
        sleepy = rfm_customers(session, RfmParams(AS_OF, TZ), segment="About to Sleep")
        instagram = rfm_customers(session, RfmParams(AS_OF, TZ, filters=Filters(channels=("instagram",))))
    assert [names[c.contact_id] for c in page.customers] == ["c5", "c6", "c8"] and page.total == 10
    assert sleepy.total == 2 and {names[c.contact_id] for c in sleepy.customers} == {"c5", "c6"}
    assert {names[c.contact_id]: (c.r, c.f, c.m, c.segment) for c in instagram.customers} == {
        "c1": (3, 3, 3, "Need Attention"),
        "c2": (1, 1, 1, "Lost"),
    }


def test_the_grid_names_every_cell_with_the_eleven_segments() -> None:
    assert sorted(GRID) == [1, 2, 3, 4, 5] and all(len(row) == 5 for row in GRID.values())
    assert {name for row in GRID.values() for name in row} == set(SEGMENTS)
    assert GRID[5][0] == "New Customers" and GRID[3][2] == "Need Attention" and GRID[1][4] == "Can't Lose Them"


def test_bad_parameters_say_what_is_wrong(tenant: tuple[int, dict[str, int]]) -> None:
    with tenant_session(tenant[0]) as session:
        with pytest.raises(ValueError, match="segment must be one of Champions"):
            rfm_customers(session, RfmParams(AS_OF, TZ), segment="Whales")
        with pytest.raises(ValueError, match=r"limit must be 1\.\.1000"):
            rfm_customers(session, RfmParams(AS_OF, TZ), limit=0)
