"""Team and bot performance on a hand-built week, on SQLite and PostgreSQL.

Time zone America/Sao_Paulo; range 2025-03-01..07 = [03-01 03:00Z, 03-08 03:00Z). Contacts: p1 became a customer
03-05 12:00Z, p3 on 02-20 (before the range), p2 and p4 never.

| conv | created (UTC) | assignee | status   | contact | handled_by | reopens | labels         | resolved at |
|------|---------------|----------|----------|---------|------------|---------|----------------|-------------|
| k1   | 03-02 12:00   | Ana      | resolved | p1      | human_only | 0       |                | 03-02 13:00 |
| k2   | 03-03 12:00   | Ana      | resolved | p1      | handed_off | 1       | preco, humano  | 03-03 14:00 |
| k3   | 03-04 12:00   | Ana      | open     | p2      | handed_off | 0       | preco          |             |
| k4   | 03-04 13:00   | -        | resolved | p4      | bot_only   | 0       |                | 03-04 13:05 |
| k5   | 03-05 10:00   | -        | open     | p2      | bot_only   | 0       |                |             |
| k6   | 03-06 10:00   | Bruno    | resolved | p3      | human_only | 0       |                | 03-06 11:00 |
| k7   | 03-09 10:00   | -        | open     | p4      | unanswered | 0       |  (after the range)           |

Worked out: Ana 3 conversations, 1 open, 2 resolved, 1 never reopened (FCR 0.5), 1 conversion (p1, a customer
after k1 began); Bruno 1, FCR 1, no conversion (p3 converted before the range); unassigned 2, FCR 1. Bot: 2 alone
(1 resolved) + 2 handed off = 4: autonomy 1/4, hand-off 2/4; reasons preco 2, humano 1. Recontact within 7 days:
k1 (p1 came back with k2) and k4 (p4 with k7, 4 days 21 hours later) of k1, k2, k4, k6: 2/4; within 3 days: 1/4.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from pulso.config import Settings
from pulso.metrics.overview import DateRange
from pulso.metrics.team_performance import TeamParams, team_performance
from pulso.store.models import Agent, Contact, Conversation, ConversationFactsRow, Inbox
from pulso.store.session import tenant_session
from tests.metrics.helpers import TZ, copied_columns, seeded_tenant

RANGE = DateRange(date(2025, 3, 1), date(2025, 3, 7))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def seed(tenant_id: int) -> dict[str, int]:
    with tenant_session(tenant_id) as session:
        inbox = Inbox(external_id="wa", name="WhatsApp", channel_type="whatsapp")
        ana = Agent(external_id="ana", name="Ana", kind="human")
        bruno = Agent(external_id="bruno", name="Bruno", kind="human")
        people = {
            "p1": Contact(lifecycle_stage="customer", became_customer_at=utc(2025, 3, 5, 12)),
            "p2": Contact(lifecycle_stage="lead"),
            "p3": Contact(lifecycle_stage="customer", became_customer_at=utc(2025, 2, 20, 12)),
            "p4": Contact(lifecycle_stage="lead"),
        }
        session.add_all([inbox, ana, bruno, *people.values()])
        session.flush()
        rows: list[tuple[Any, ...]] = [
            ("k1", utc(2025, 3, 2, 12), ana, "resolved", "p1", "human_only", 0, [], utc(2025, 3, 2, 13)),
            (
                "k2",
                utc(2025, 3, 3, 12),
                ana,
                "resolved",
                "p1",
                "handed_off",
                1,
                ["preco", "humano"],
                utc(2025, 3, 3, 14),
            ),
            ("k3", utc(2025, 3, 4, 12), ana, "open", "p2", "handed_off", 0, ["preco"], None),
            ("k4", utc(2025, 3, 4, 13), None, "resolved", "p4", "bot_only", 0, [], utc(2025, 3, 4, 13, 5)),
            ("k5", utc(2025, 3, 5, 10), None, "open", "p2", "bot_only", 0, [], None),
            ("k6", utc(2025, 3, 6, 10), bruno, "resolved", "p3", "human_only", 0, [], utc(2025, 3, 6, 11)),
            ("k7", utc(2025, 3, 9, 10), None, "open", "p4", "unanswered", 0, [], None),
        ]
        for key, created, agent, status, person, handled_by, reopens, labels, resolved_at in rows:
            conversation = Conversation(
                external_id=key,
                inbox_id=inbox.id,
                assignee_agent_id=agent.id if agent else None,
                contact_id=people[person].id,
                status=status,
                labels=labels,
                created_at=created,
                resolved_at=resolved_at,
            )
            session.add(conversation)
            session.flush()
            session.add(
                ConversationFactsRow(
                    conversation_id=conversation.id,
                    created_at=created,
                    **copied_columns(conversation),
                    handled_by=handled_by,
                    reopen_count=reopens,
                    labels=labels,
                    resolutions=1 if resolved_at else 0,
                )
            )
        return {"ana": ana.id, "bruno": bruno.id}


@pytest.fixture
def tenant(any_settings: Settings) -> tuple[int, dict[str, int]]:
    return seeded_tenant(seed)


def run(tenant_id: int, **options: Any) -> Any:
    with tenant_session(tenant_id) as session:
        return team_performance(session, TeamParams(RANGE, TZ, **options))


def test_load_first_contact_resolution_and_conversions_per_agent(tenant: tuple[int, dict[str, int]]) -> None:
    tenant_id, ids = tenant
    agents = {a.agent_id: a for a in run(tenant_id).agents}
    ana, bruno, nobody = agents[ids["ana"]], agents[ids["bruno"]], agents[None]
    assert (ana.conversations, ana.open_now, ana.resolved, ana.first_contact_resolution) == (3, 1, 2, 0.5)
    assert (ana.conversions, ana.conversions_per_day) == (1, pytest.approx(1 / 7))
    assert (bruno.conversations, bruno.first_contact_resolution, bruno.conversions) == (1, 1.0, 0)
    assert (nobody.conversations, nobody.open_now, nobody.first_contact_resolution) == (2, 1, 1.0)
    assert list(agents) == [*sorted([ids["ana"], ids["bruno"]]), None]


def test_bot_autonomy_hand_offs_and_reasons(tenant: tuple[int, dict[str, int]]) -> None:
    bot = run(tenant[0]).bot
    assert (bot.bot_conversations, bot.bot_only, bot.bot_resolved, bot.handed_off) == (4, 2, 1, 2)
    assert (bot.autonomy_rate, bot.handoff_rate) == (0.25, 0.5)
    assert bot.handoff_reasons == [("preco", 2), ("humano", 1)]


def test_recontact_rate(tenant: tuple[int, dict[str, int]]) -> None:
    week = run(tenant[0]).recontact
    assert (week.resolved_with_contact, week.recontacted, week.rate) == (4, 2, 0.5)
    three_days = run(tenant[0], recontact_days=3).recontact
    assert (three_days.recontacted, three_days.rate) == (1, 0.25)


def test_bad_parameters() -> None:
    with pytest.raises(ValueError, match="recontact_days: between 1 and 365, got 0"):
        TeamParams(RANGE, TZ, recontact_days=0)
