"""The conversation funnel on a hand-built week, on SQLite and PostgreSQL (tenant U holds the same rows).

Time zone America/Sao_Paulo; range 2025-03-01..07 = [03-01 03:00Z, 03-08 03:00Z). Default rules: qualified =
label orcamento/qualificado/qualified or AI interest Alto/Médio; scheduled = label agendado/agendamento/scheduled or
a booking (scheduled, completed, no_show) of the contact within 30 days; customer = became_customer_at within 30
days or a completed order within 30 days. Conversations of contacts already customers when they began are left out.

Contacts: p1 customer since 03-03 15:00 (campaign promo; a completed booking ordered then), p2 lead, p3 customer
since 02-10, p4 lead, p5 customer since 03-20 12:00 (a booking still 'scheduled', ordered 03-06 12:00), p6 visitor
with contact attribute plano=premium.

| conv | created (UTC) | inbox | agent | contact | labels | other | messages (last kept) | level |
|---|---|---|---|---|---|---|---|---|
| k1 | 03-02 12:00 | wa | ana | p1 | orcamento | valor 5.0 | in, out, in | 3 |
| k2 | 03-03 10:00 | wa | ana | p2 | agendado | urgente true, valor 5; AI Baixo | in, out | 2 |
| k3 | 03-04 10:00 | ig | bruno | p3 | orcamento | (existing customer: left out) | in | (1) |
| k4 | 03-04 12:00 | ig | bruno | p4 |  | AI Alto, valor "5" | none | 1 |
| k5 | 03-05 12:00 | ig | - | p5 | duvida |  | none | 3 |
| k6 | 03-06 12:00 | wa | ana | p6 |  | (p6: plano premium) | in, out | 0 |
| k7 | 03-06 14:00 | wa | bruno | p2 |  | urgente "true" (text) | in, private note | 0 |
| k8 | 03-09 12:00 | wa | ana | p4 | agendado | after the range |  | - |
| k9 | 03-07 12:00 | wa | ana | p1 |  | (p1 a customer since 03-03) | in | (0) |

Worked out (conversations): k1 3, k2 2, k4 1, k5 3, k6 0, k7 0: reached 6 / 4 / 3 / 2; from top 4/6, 3/6, 2/6; from
previous 4/6, 3/4, 2/3; lead rate 4/6, customer rate 2/6. People: p1 3, p2 max(2, 0) = 2, p4 1, p5 3, p6 0:
5 / 4 / 3 / 2. Time to conversion: k1 03-02 12:00 -> 03-03 15:00 = 27 h = 97,200 s; k5 03-05 12:00 -> 03-20 12:00 =
15 days = 1,296,000 s.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from pulso.config import Settings
from pulso.metrics.conversation_funnel import (
    ConversationFunnelParams,
    abandonment,
    conversation_funnel,
    time_to_conversion,
)
from pulso.metrics.filters import Filters
from pulso.metrics.funnel_rules import FunnelRules
from pulso.metrics.overview import DateRange
from pulso.store.models import Agent, Contact, Conversation, ConversationInsight, Inbox, Message, Order
from pulso.store.session import tenant_session
from tests.metrics.helpers import TZ, seeded_tenant

RANGE = DateRange(date(2025, 3, 1), date(2025, 3, 7))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def seed(tenant_id: int) -> dict[str, int]:
    with tenant_session(tenant_id) as session:
        wa = Inbox(external_id="wa", name="WhatsApp", channel_type="whatsapp")
        ig = Inbox(external_id="ig", name="Instagram", channel_type="instagram")
        ana = Agent(external_id="ana", name="Ana", kind="human")
        bruno = Agent(external_id="bruno", name="Bruno", kind="human")
        lead_at = utc(2025, 2, 1)
        people = {
            "p1": Contact(
                lifecycle_stage="customer",
                became_lead_at=lead_at,
                became_customer_at=utc(2025, 3, 3, 15),
                first_touch_campaign="promo",
            ),
            "p2": Contact(lifecycle_stage="lead", became_lead_at=lead_at),
            "p3": Contact(lifecycle_stage="customer", became_lead_at=lead_at, became_customer_at=utc(2025, 2, 10)),
            "p4": Contact(lifecycle_stage="lead", became_lead_at=lead_at),
            "p5": Contact(lifecycle_stage="customer", became_lead_at=lead_at, became_customer_at=utc(2025, 3, 20, 12)),
            "p6": Contact(lifecycle_stage="visitor", attributes={"plano": "premium"}),
        }
        session.add_all([wa, ig, ana, bruno, *people.values()])
        session.flush()
        rows: list[tuple[Any, ...]] = [
            # key, created, inbox, agent, contact, labels, attributes, messages (minutes after creation, direction)
            ("k1", utc(2025, 3, 2, 12), wa, ana, "p1", ["orcamento"], {"valor": 5.0}, [(0, "in"), (5, "out"), (10, "in")]),  # noqa: E501
            ("k2", utc(2025, 3, 3, 10), wa, ana, "p2", ["agendado"], {"urgente": True, "valor": 5}, [(0, "in"), (3, "out")]),  # noqa: E501
            ("k3", utc(2025, 3, 4, 10), ig, bruno, "p3", ["orcamento"], {}, [(0, "in")]),
            ("k4", utc(2025, 3, 4, 12), ig, bruno, "p4", [], {"valor": "5"}, []),
            ("k5", utc(2025, 3, 5, 12), ig, None, "p5", ["duvida"], {}, []),
            ("k6", utc(2025, 3, 6, 12), wa, ana, "p6", [], {}, [(0, "in"), (2, "out")]),
            ("k7", utc(2025, 3, 6, 14), wa, bruno, "p2", [], {"urgente": "true"}, [(0, "in"), (5, "note")]),
            ("k8", utc(2025, 3, 9, 12), wa, ana, "p4", ["agendado"], {}, [(0, "in")]),
            ("k9", utc(2025, 3, 7, 12), wa, ana, "p1", [], {}, [(0, "in")]),
        ]  # fmt: skip
        ids: dict[str, int] = {"ana": ana.id, "bruno": bruno.id, "wa": wa.id, "ig": ig.id}
        for key, created, inbox, agent, person, labels, attributes, messages in rows:
            conversation = Conversation(
                external_id=key,
                inbox_id=inbox.id,
                assignee_agent_id=agent.id if agent else None,
                contact_id=people[person].id,
                labels=labels,
                attributes=attributes,
                created_at=created,
            )
            session.add(conversation)
            session.flush()
            ids[key] = conversation.id
            for n, (minutes, kind) in enumerate(messages):
                session.add(
                    Message(
                        external_id=f"{key}-m{n}",
                        conversation_id=conversation.id,
                        direction="incoming" if kind == "in" else "outgoing",
                        sender_kind="contact" if kind == "in" else "agent",
                        is_private=kind == "note",
                        created_at=utc(created.year, created.month, created.day, created.hour, minutes),
                    )
                )
        session.add_all(
            [
                ConversationInsight(conversation_id=ids["k4"], analyzer="llm", interest="Alto"),
                ConversationInsight(conversation_id=ids["k2"], analyzer="llm", interest="Baixo"),
                Order(
                    external_id="o1",
                    contact_id=people["p1"].id,
                    kind="booking",
                    amount=150,
                    status="completed",
                    ordered_at=utc(2025, 3, 3, 15),
                ),
                Order(
                    external_id="o5",
                    contact_id=people["p5"].id,
                    kind="booking",
                    amount=900,
                    status="scheduled",
                    ordered_at=utc(2025, 3, 6, 12),
                ),
            ]
        )
        return ids


@pytest.fixture
def tenant(any_settings: Settings) -> tuple[int, dict[str, int]]:
    return seeded_tenant(seed)


def params(**options: Any) -> ConversationFunnelParams:
    settings = options.pop("settings", None)
    rules = FunnelRules.from_settings({"conversation_funnel": settings} if settings else None)
    return ConversationFunnelParams(RANGE, TZ, rules=rules, **options)


def funnel(tenant_id: int, **options: Any) -> Any:
    with tenant_session(tenant_id) as session:
        return conversation_funnel(session, params(**options))


def reached(group: Any) -> list[int]:
    return [stage.count for stage in group.stages]


def test_counts_conversions_and_rates(tenant: tuple[int, dict[str, int]]) -> None:
    total = funnel(tenant[0]).total
    assert reached(total) == [6, 4, 3, 2]
    assert [s.from_top for s in total.stages] == [None, 4 / 6, 3 / 6, 2 / 6]
    assert [s.from_previous for s in total.stages] == [None, 4 / 6, 3 / 4, 2 / 3]
    assert (total.lead_rate, total.customer_rate) == (4 / 6, 2 / 6)


def test_people_count_once_at_their_furthest_stage(tenant: tuple[int, dict[str, int]]) -> None:
    assert reached(funnel(tenant[0], unit="people").total) == [5, 4, 3, 2]


def test_existing_customers_are_left_out_unless_asked(tenant: tuple[int, dict[str, int]]) -> None:
    # with k3 (p3, label orcamento: 1) and k9 (p1 after converting: 0): levels 3, 2, 1, 1, 3, 0, 0, 0
    included = funnel(tenant[0], settings={"include_existing_customers": True}).total
    assert reached(included) == [8, 5, 3, 2]


@pytest.mark.parametrize(
    ("breakdown", "expected"),
    [
        ("inbox", {"wa": [4, 2, 2, 1], "ig": [2, 2, 1, 1]}),  # wa: k1 3, k2 2, k6 0, k7 0; ig: k4 1, k5 3
        ("channel", {"whatsapp": [4, 2, 2, 1], "instagram": [2, 2, 1, 1]}),
        ("agent", {"ana": [3, 2, 2, 1], "bruno": [2, 1, 0, 0], None: [1, 1, 1, 1]}),  # ana k1 k2 k6, bruno k4 k7
        ("campaign", {"promo": [1, 1, 1, 1], None: [5, 3, 2, 1]}),
    ],
)
def test_breakdowns(tenant: tuple[int, dict[str, int]], breakdown: str, expected: dict[Any, list[int]]) -> None:
    tenant_id, ids = tenant
    rows = {row.key: reached(row) for row in funnel(tenant_id, breakdown=breakdown).rows}
    named = {(str(ids[k]) if k in ids else k): v for k, v in expected.items()}
    assert rows == named


def test_global_filters_apply_over_conversations(tenant: tuple[int, dict[str, int]]) -> None:
    tenant_id, ids = tenant
    assert reached(funnel(tenant_id, filters=Filters(channels=("instagram",))).total) == [2, 2, 1, 1]  # k4, k5
    assert reached(funnel(tenant_id, filters=Filters(agent_ids=(ids["bruno"],))).total) == [2, 1, 0, 0]  # k4, k7
    assert reached(funnel(tenant_id, filters=Filters(ai_classes=("Alto",))).total) == [1, 1, 0, 0]  # k4


NEVER = {"labels": ["nunca"]}


@pytest.mark.parametrize(
    ("qualified", "count"),
    [
        ({"labels": ["agendado", "orcamento"]}, 2),  # k1, k2
        ({"attributes": {"plano": "premium"}}, 1),  # k6 through its contact
        ({"attributes": {"plano": ["gold", "premium"]}}, 1),
        ({"attributes": {"urgente": True}}, 1),  # k2; k7's text "true" is not true
        ({"attributes": {"valor": 5}}, 2),  # k1 (5.0) and k2 (5); k4's text "5" is not 5
        ({"interest": ["Alto"]}, 1),  # k4
        ({"orders": {"kinds": ["booking"]}}, 2),  # k1 (o1), k5 (o5)
        ({"orders": {"kinds": ["booking"], "statuses": ["completed"]}}, 1),  # k1
        ({"lifecycle": ["customer"]}, 2),  # k1 (1 day later), k5 (15 days later)
        ({"lifecycle": ["lead"]}, 5),  # all but k6 (p6 is a visitor)
    ],
)
def test_each_kind_of_rule(tenant: tuple[int, dict[str, int]], qualified: dict[str, Any], count: int) -> None:
    settings = {"qualified": qualified, "scheduled": NEVER, "customer": NEVER}
    assert reached(funnel(tenant[0], settings=settings).total) == [6, count, 0, 0]


def test_the_window_bounds_bookings_and_lifecycle(tenant: tuple[int, dict[str, int]]) -> None:
    # 10 days: p5 became a customer 15 days after k5 (too late), but booked (o5) 1 day after it
    settings = {"qualified": NEVER, "scheduled": {"orders": {}}, "customer": {"lifecycle": ["customer"]}}
    assert reached(funnel(tenant[0], settings={**settings, "window_days": 10}).total) == [6, 2, 2, 1]
    assert reached(funnel(tenant[0], settings={**settings, "window_days": 16}).total) == [6, 2, 2, 2]


def test_abandonment_by_who_spoke_last(tenant: tuple[int, dict[str, int]]) -> None:
    with tenant_session(tenant[0]) as session:
        result = abandonment(session, params())
    described = [(a.stage, a.reached, a.contact_waiting, a.awaiting_contact, a.no_messages) for a in result.total]
    # stopped at 0: k6 (we spoke last), k7 (the contact; the private note does not count); at 1: k4 (no messages);
    # at 2: k2 (we spoke last)
    assert described == [("conversations", 6, 1, 1, 0), ("qualified", 4, 0, 0, 1), ("scheduled", 3, 0, 1, 0)]
    assert [a.rate for a in result.total] == [2 / 6, 1 / 4, 1 / 3]
    assert result.rows == []


def test_abandonment_by_inbox_and_per_conversation_only(tenant: tuple[int, dict[str, int]]) -> None:
    tenant_id, ids = tenant
    with tenant_session(tenant_id) as session:
        rows = abandonment(session, params(breakdown="inbox")).rows
        with pytest.raises(ValueError, match="unit: abandonment is counted per conversation"):
            abandonment(session, params(unit="people"))
    wa = [(a.stage, a.reached, a.stopped) for a in rows if a.key == str(ids["wa"])]
    assert wa == [("conversations", 4, 2), ("qualified", 2, 0), ("scheduled", 2, 1)]  # k6 k7 | - | k2


def test_time_to_conversion(tenant: tuple[int, dict[str, int]]) -> None:
    tenant_id, ids = tenant
    with tenant_session(tenant_id) as session:
        result = time_to_conversion(session, params())
        people = time_to_conversion(session, params(unit="people", breakdown="inbox"))
    stats = result.total.stats
    # 97,200 s and 1,296,000 s: median = mean = 696,600; P90 = 97,200 + 0.9 x 1,198,800 = 1,176,120
    assert (stats.count, stats.mean, stats.median, stats.p90) == (2, 696_600, 696_600, pytest.approx(1_176_120))
    assert dict(result.total.histogram) == {
        "< 1 hour": 0,
        "1-24 hours": 0,
        "1-3 days": 1,
        "3-7 days": 0,
        "7-14 days": 0,
        "14-30 days": 1,
        ">= 30 days": 0,
    }
    assert result.undated == 0
    by_inbox = {row.key: (row.stats.count, row.stats.median) for row in people.rows}
    assert by_inbox == {str(ids["wa"]): (1, 97_200), str(ids["ig"]): (1, 1_296_000)}


def test_customers_without_a_date_are_counted_apart(tenant: tuple[int, dict[str, int]]) -> None:
    settings = {"qualified": NEVER, "scheduled": NEVER, "customer": {"labels": ["agendado"]}}
    with tenant_session(tenant[0]) as session:
        result = time_to_conversion(session, params(settings=settings))
    assert (result.undated, result.total.stats.count, result.total.stats.median) == (1, 0, None)  # k2
