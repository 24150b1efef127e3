"""The dashboard summary, trends and live state on a hand-built fortnight, on SQLite and PostgreSQL.

Time zone America/Sao_Paulo (UTC-3). Range 2025-03-01..07 = [03-01 03:00Z, 03-08 03:00Z); the previous period is
02-22..28. Inboxes wa (whatsapp) and ig (instagram); agent Ana.

| contact | first touch            | lead (UTC)  | customer (UTC) | orders                                        |
|---------|------------------------|-------------|----------------|-----------------------------------------------|
| p1      | instagram / promo      | 03-02 12:00 | 03-05 12:00    | 200.00 completed 03-05; 50.00 cancelled      |
| p2      | whatsapp               | 03-03 12:00 |                | 80.00 pending (no revenue)                    |
| p3      | google / busca         | 02-25 12:00 | 02-27 12:00    | 100.00 completed 02-27 (previous period)      |
| p4      | -                      | 03-08 02:00 |                | (local 03-07 23:00: inside the range)         |

| conv | inbox | contact | created (UTC)             | status   | assignee | first response | messages               |
|------|-------|---------|---------------------------|----------|----------|----------------|------------------------|
| c1   | wa    | p1      | 03-02 12:00               | resolved | Ana      | 120 s          | 2                      |
| c2   | ig    | p2      | 03-03 12:00               | open     | -        | (none yet)     | 1                      |
| c3   | wa    | p3      | 02-25 12:00 (previous)    | resolved | Ana      | 60 s           | 1                      |
| c4   | wa    | p4      | 03-08 02:30 (local 03-07) | open     | Ana      | 300 s          | 2: 02:35 in, 02:40 Ana |

CSAT answers: c1 5, c2 3, c3 4. A fifth contact (lead 03-04) was merged into p1: it counts nowhere.
An analyzer classed c4's interest Alto. Spend: promo (instagram) 50.00 on 03-01 and 03-02; busca (google) 40.00
on 02-26.

Worked out, range vs previous: conversations 3 vs 1; messages 5 vs 1; leads 3 (p1, p2, p4) vs 1; customers 1 vs 1;
lead conversion 1/3 vs 1/1; revenue 200 vs 100; spend 100 vs 40; ROI (200-100)/100 = 1.0 vs (100-40)/40 = 1.5;
median first response median(120, 300) = 210 vs 60; CSAT 1 of 2 rated 4-5 = 50 vs 1 of 1 = 100.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from pulso.config import Settings
from pulso.metrics.dashboard import SummaryParams, TrendsParams, realtime, summary, trends
from pulso.metrics.filters import Filters
from pulso.metrics.overview import DateRange
from pulso.pipeline.gold.daily_metrics import build_daily_metrics
from pulso.store.models import (
    Agent,
    Campaign,
    CampaignSpend,
    Contact,
    Conversation,
    ConversationFactsRow,
    ConversationInsight,
    Event,
    Feedback,
    Inbox,
    Message,
    Order,
)
from pulso.store.session import tenant_session
from tests.metrics.helpers import TZ, copied_columns, seeded_tenant

RANGE = DateRange(date(2025, 3, 1), date(2025, 3, 7))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def seed(tenant_id: int) -> dict[str, int]:
    with tenant_session(tenant_id) as session:
        wa = Inbox(external_id="wa", name="WhatsApp", channel_type="whatsapp")
        ig = Inbox(external_id="ig", name="Instagram", channel_type="instagram")
        ana = Agent(external_id="ana", name="Ana", kind="human")
        people = {
            "p1": Contact(
                lifecycle_stage="customer",
                became_lead_at=utc(2025, 3, 2, 12),
                became_customer_at=utc(2025, 3, 5, 12),
                first_touch_channel="instagram",
                first_touch_campaign="promo",
            ),
            "p2": Contact(lifecycle_stage="lead", became_lead_at=utc(2025, 3, 3, 12), first_touch_channel="whatsapp"),
            "p3": Contact(
                lifecycle_stage="customer",
                became_lead_at=utc(2025, 2, 25, 12),
                became_customer_at=utc(2025, 2, 27, 12),
                first_touch_channel="google",
                first_touch_campaign="busca",
            ),
            "p4": Contact(lifecycle_stage="lead", became_lead_at=utc(2025, 3, 8, 2)),
        }
        promo = Campaign(channel="instagram", name="promo")
        busca = Campaign(channel="google", name="busca")
        session.add_all([wa, ig, ana, promo, busca, *people.values()])
        session.flush()
        conversations = {
            "c1": Conversation(
                external_id="c1", inbox_id=wa.id, contact_id=people["p1"].id, assignee_agent_id=ana.id,
                status="resolved", created_at=utc(2025, 3, 2, 12),
            ),
            "c2": Conversation(
                external_id="c2", inbox_id=ig.id, contact_id=people["p2"].id, status="open",
                created_at=utc(2025, 3, 3, 12),
            ),
            "c3": Conversation(
                external_id="c3", inbox_id=wa.id, contact_id=people["p3"].id, assignee_agent_id=ana.id,
                status="resolved", created_at=utc(2025, 2, 25, 12),
            ),
            "c4": Conversation(
                external_id="c4", inbox_id=wa.id, contact_id=people["p4"].id, assignee_agent_id=ana.id,
                status="open", created_at=utc(2025, 3, 8, 2, 30), first_reply_at=utc(2025, 3, 8, 2, 40),
            ),
        }  # fmt: skip
        session.add_all(conversations.values())
        session.flush()
        messages = [
            ("m1", "c1", "incoming", "contact", None, utc(2025, 3, 2, 12)),
            ("m2", "c1", "outgoing", "agent", ana.id, utc(2025, 3, 2, 12, 2)),
            ("m3", "c2", "incoming", "contact", None, utc(2025, 3, 3, 12)),
            ("m4", "c3", "incoming", "contact", None, utc(2025, 2, 25, 12)),
            ("m5", "c4", "incoming", "contact", None, utc(2025, 3, 8, 2, 35)),
            ("m6", "c4", "outgoing", "agent", ana.id, utc(2025, 3, 8, 2, 40)),
        ]
        session.add_all(
            Message(
                external_id=key, conversation_id=conversations[conv].id, direction=direction, sender_kind=sender,
                agent_id=agent, created_at=at,
            )
            for key, conv, direction, sender, agent, at in messages
        )  # fmt: skip
        for key, first_response in (("c1", 120), ("c2", None), ("c3", 60), ("c4", 300)):
            conversation = conversations[key]
            session.add(
                ConversationFactsRow(
                    conversation_id=conversation.id,
                    created_at=conversation.created_at,
                    **copied_columns(conversation),
                    first_response_seconds=first_response,
                    handled_by="human_only" if first_response else "unanswered",
                )
            )
        orders = [
            ("o1", "p1", "200.00", "completed", utc(2025, 3, 5, 13)),
            ("o2", "p1", "50.00", "cancelled", utc(2025, 3, 5, 14)),
            ("o3", "p2", "80.00", "pending", utc(2025, 3, 4, 12)),
            ("o4", "p3", "100.00", "completed", utc(2025, 2, 27, 13)),
        ]
        session.add_all(
            Order(external_id=key, contact_id=people[who].id, amount=Decimal(amount), status=status, ordered_at=at)
            for key, who, amount, status, at in orders
        )
        session.add_all(
            [
                CampaignSpend(campaign_id=promo.id, day=date(2025, 3, 1), cost=Decimal("50.00")),
                CampaignSpend(campaign_id=promo.id, day=date(2025, 3, 2), cost=Decimal("50.00")),
                CampaignSpend(campaign_id=busca.id, day=date(2025, 2, 26), cost=Decimal("40.00")),
            ]
        )
        session.add(
            Event(
                message_id="e1", type="track", name="page_viewed", occurred_at=utc(2025, 3, 8, 2, 50),
                received_at=utc(2025, 3, 8, 2, 50),
            )
        )  # fmt: skip
        session.flush()
        merged = Contact(lifecycle_stage="lead", became_lead_at=utc(2025, 3, 4, 12), merged_into_id=people["p1"].id)
        session.add(merged)
        session.add_all(
            Feedback(
                external_id=key, conversation_id=conversations[conv].id, kind="csat", score=score, answered_at=at,
            )
            for key, conv, score, at in (
                ("f1", "c1", 5, utc(2025, 3, 2, 13)),
                ("f2", "c2", 3, utc(2025, 3, 3, 13)),
                ("f3", "c3", 4, utc(2025, 2, 25, 13)),
            )
        )  # fmt: skip
        session.add(ConversationInsight(conversation_id=conversations["c4"].id, analyzer="offline", interest="Alto"))
        session.flush()
        build_daily_metrics(session, None)
        return {"ana": ana.id, "wa": wa.id}


Pair = tuple[float | None, float | None]
EXPECTED: dict[str, Pair] = {
    "conversations": (3, 1),
    "messages": (5, 1),
    "leads": (3, 1),
    "customers": (1, 1),
    "lead_conversion": (1 / 3, 1.0),
    "revenue": (200, 100),
    "spend": (100, 40),
    "roi": (1.0, 1.5),
    "median_first_response": (210, 60),
    "csat": (50, 100),
}


@pytest.fixture
def tenant(any_settings: Settings) -> tuple[int, dict[str, int]]:
    return seeded_tenant(seed)


def rounded(kpis: dict[str, Pair]) -> dict[str, Pair]:
    return {k: (None if a is None else round(a, 9), None if b is None else round(b, 9)) for k, (a, b) in kpis.items()}


def numbers(tenant_id: int, filters: Filters | None = None) -> dict[str, Pair]:
    with tenant_session(tenant_id) as session:
        result = summary(session, SummaryParams(RANGE, TZ, filters or Filters()))
    return rounded({k.key: (k.value, k.previous) for k in result.kpis})


def test_summary_from_gold_daily_metrics(tenant: tuple[int, dict[str, int]]) -> None:
    t, _ = tenant
    with tenant_session(t) as session:
        result = summary(session, SummaryParams(RANGE, TZ))
    assert result.source == "gold"
    assert rounded({k.key: (k.value, k.previous) for k in result.kpis}) == rounded(EXPECTED)
    assert result.kpi("roi").change == pytest.approx(-0.5)  # a ratio changes in points: 1.0 - 1.5
    assert result.kpi("revenue").change == pytest.approx(1.0)  # a count relatively: (200 - 100) / 100
    assert not result.kpi("median_first_response").higher_is_better
    assert result.previous_range == DateRange(date(2025, 2, 22), date(2025, 2, 28))


def test_silver_reads_the_same_as_gold_when_a_filter_keeps_everything(tenant: tuple[int, dict[str, int]]) -> None:
    t, _ = tenant
    every_status = Filters(statuses=("open", "resolved", "pending", "snoozed"))
    assert numbers(t, every_status) == rounded(EXPECTED)


def test_summary_with_filters(tenant: tuple[int, dict[str, int]]) -> None:
    t, ids = tenant
    # the promo campaign: p1 and its c1 (2 messages, 120 s), its 200.00, promo's 100.00 of spend
    promo = numbers(t, Filters(campaigns=("promo",)))
    assert {k: v[0] for k, v in promo.items()} == (
        {
            "conversations": 1, "messages": 2, "leads": 1, "customers": 1, "lead_conversion": 1.0, "revenue": 200,
            "spend": 100, "roi": 1.0, "median_first_response": 120, "csat": 100,
        }
    )  # fmt: skip
    # channel whatsapp: conversations in the wa inbox (c1, c4: 4 messages, median(120, 300)); contacts first
    # touched on whatsapp (p2: a lead, no revenue); spend of whatsapp campaigns (none), so no ROI
    whatsapp = numbers(t, Filters(channels=("whatsapp",)))
    assert {k: v[0] for k, v in whatsapp.items()} == (
        {
            "conversations": 2, "messages": 4, "leads": 1, "customers": 0, "lead_conversion": 0.0, "revenue": 0,
            "spend": 0, "roi": None, "median_first_response": 210, "csat": 100,
        }
    )  # fmt: skip
    # Ana's conversations: c1, c4 (and c3 before the range); contacts who have one: p1, p3, p4
    ana = numbers(t, Filters(agent_ids=(ids["ana"],)))
    assert (ana["conversations"], ana["leads"], ana["revenue"]) == ((2, 1), (2, 1), (200, 100))
    # AI class Alto: only c4 was classed so; its contact p4 is a lead of the range with no orders
    alto = numbers(t, Filters(ai_classes=("Alto",)))
    assert (alto["conversations"], alto["messages"], alto["leads"], alto["revenue"]) == ((1, 0), (2, 0), (1, 0), (0, 0))
    assert alto["median_first_response"] == (300, None)


def test_trends_per_week_with_the_previous_totals(tenant: tuple[int, dict[str, int]]) -> None:
    t, _ = tenant
    with tenant_session(t) as session:
        weekly = trends(session, TrendsParams(RANGE, TZ, "week"))
        filtered = trends(session, TrendsParams(RANGE, TZ, "week", Filters(campaigns=("promo",))))
        daily = trends(session, TrendsParams(RANGE, TZ, "day"))
    # 2025-03-01 is a Saturday: the range spans the weeks of Monday 02-24 (03-01, 03-02) and 03-03 (03-03..07)
    assert weekly.periods == (date(2025, 2, 24), date(2025, 3, 3))
    assert weekly.series["conversations"] == (1, 2)  # c1 | c2, c4 (local 03-07 23:30)
    assert weekly.series["messages"] == (2, 3)
    assert weekly.series["leads"] == (1, 2)
    assert weekly.series["revenue"] == (0, 200)
    assert weekly.series["spend"] == (100, 0)
    assert weekly.previous_totals == {
        "conversations": 1, "messages": 1, "leads": 1, "customers": 1, "revenue": 100, "spend": 40,
    }  # fmt: skip
    assert filtered.source == "silver" and filtered.series["conversations"] == (1, 0)
    assert filtered.series["revenue"] == (0, 200) and filtered.previous_totals["spend"] == 0
    assert len(daily.periods) == 7 and daily.series["conversations"] == (0, 1, 1, 0, 0, 0, 1)


def test_realtime_state(tenant: tuple[int, dict[str, int]]) -> None:
    t, _ = tenant
    now = utc(2025, 3, 8, 3, 10)  # local 03-08 00:10: nothing was created since local midnight
    with tenant_session(t) as session:
        live = realtime(session, TZ, now=now)
    assert (live.open_conversations, live.unassigned_open, live.waiting_first_response) == (2, 1, 1)
    assert live.oldest_wait_seconds == 4 * 86400 + 15 * 3600 + 10 * 60  # c2, waiting since 03-03 12:00
    assert live.conversations_today == 0
    # since 02:10: m5 in, m6 out by Ana; the event at 02:50
    assert (live.messages_last_hour, live.incoming_last_hour, live.events_last_hour) == (2, 1, 1)
    assert live.agents_active_last_hour == 1
    with tenant_session(t) as session:
        later = realtime(session, TZ, now=utc(2025, 3, 8, 4, 0))
    assert (later.messages_last_hour, later.agents_active_last_hour) == (0, 0)
