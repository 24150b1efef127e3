"""The facts job copies the conversation's assignee, inbox, team and status, and rewrites them when they change.

One conversation (SQLite and PostgreSQL), created Mon 2026-03-02 12:00Z in inbox "wa", assigned to Ana: the contact
writes at 12:00, Ana answers at 12:01 (first response 60 s, by Ana), the contact writes at 12:10 and Ana answers at
12:12 (a reply time of 120 s). It is then reassigned to Bruno in team "Vendas" and later resolved at 13:00Z (a
resolution of 3600 s). Per agent, the first response stays Ana's (she gave it); the reply and the resolution
count under the assignee, Bruno, once the job has run again.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select

from pulso.config import Settings
from pulso.metrics.overview import DateRange
from pulso.metrics.support_timing import TimingParams, support_timing
from pulso.pipeline.gold.conversation_facts import compute_conversation_facts
from pulso.store.models import Agent, Conversation, ConversationFactsRow, ConversationStatusChange, Inbox, Message, Team
from pulso.store.session import platform_session, tenant_session
from pulso.tenancy.service import create_tenant

TZ = "America/Sao_Paulo"
WEEK = DateRange(date(2026, 3, 1), date(2026, 3, 7))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


@pytest.fixture
def story(any_settings: Settings) -> dict[str, int]:
    with platform_session() as session:
        tenant = create_tenant(session, slug="a", name="A", timezone=TZ).id
    with tenant_session(tenant) as session:
        wa = Inbox(external_id="wa", name="WhatsApp", channel_type="whatsapp")
        ana, bruno = (
            Agent(external_id="ana", name="Ana", kind="human"),
            Agent(external_id="bruno", name="Bruno", kind="human"),
        )
        team = Team(external_id="t1", name="Vendas")
        session.add_all([wa, ana, bruno, team])
        session.flush()
        conversation = Conversation(
            external_id="c1",
            inbox_id=wa.id,
            assignee_agent_id=ana.id,
            created_at=utc(2026, 3, 2, 12),
            synced_at=utc(2026, 3, 2, 12, 30),
        )
        session.add(conversation)
        session.flush()
        for n, (minute, sender) in enumerate([(0, "contact"), (1, "agent"), (10, "contact"), (12, "agent")]):
            session.add(
                Message(
                    external_id=f"m{n}",
                    conversation_id=conversation.id,
                    direction="incoming" if sender == "contact" else "outgoing",
                    message_type="incoming" if sender == "contact" else "outgoing",
                    sender_kind=sender,
                    agent_id=ana.id if sender == "agent" else None,
                    created_at=utc(2026, 3, 2, 12, minute),
                )
            )
        return {
            "tenant": tenant,
            "conversation": conversation.id,
            "wa": wa.id,
            "ana": ana.id,
            "bruno": bruno.id,
            "team": team.id,
        }


def copied(story: dict[str, int]) -> tuple[Any, ...]:
    with tenant_session(story["tenant"]) as session:
        row = session.scalars(select(ConversationFactsRow)).one()
        return (row.assignee_agent_id, row.inbox_id, row.team_id, row.status)


def counts_per_agent(story: dict[str, int]) -> dict[str, dict[str | None, int]]:
    with tenant_session(story["tenant"]) as session:
        result = support_timing(session, TimingParams(WEEK, TZ, breakdown="agent"))
    return {metric: {s.key: s.count for s in rows} for metric, rows in result.rows.items()}


def rerun(story: dict[str, int], **changes: Any) -> int:
    with tenant_session(story["tenant"]) as session:
        conversation = session.get_one(Conversation, story["conversation"])
        for name, value in changes.items():
            setattr(conversation, name, value)
        return compute_conversation_facts(session)


def test_a_reassigned_conversation_counts_under_its_new_agent(story: dict[str, int]) -> None:
    ana, bruno = str(story["ana"]), str(story["bruno"])
    assert rerun(story) == 1
    assert copied(story) == (story["ana"], story["wa"], None, "open")
    assert counts_per_agent(story) == {"first_response": {ana: 1}, "reply": {ana: 1}, "resolution": {}}

    # reassigned only (no new message): the copied columns alone make the row change
    assert rerun(story, assignee_agent_id=story["bruno"], team_id=story["team"], synced_at=utc(2026, 3, 3)) == 1
    assert copied(story) == (story["bruno"], story["wa"], story["team"], "open")
    assert counts_per_agent(story) == {"first_response": {ana: 1}, "reply": {bruno: 1}, "resolution": {}}
    assert rerun(story) == 0  # recomputed (within the rescan overlap), identical, not written

    with tenant_session(story["tenant"]) as session:
        session.add(
            ConversationStatusChange(
                conversation_id=story["conversation"],
                at=utc(2026, 3, 2, 13),
                from_status="open",
                to_status="resolved",
                origin="reporting_event",
            )
        )
    assert rerun(story, status="resolved", synced_at=utc(2026, 3, 4)) == 1
    assert copied(story)[3] == "resolved"
    assert counts_per_agent(story)["resolution"] == {bruno: 1}
    with tenant_session(story["tenant"]) as session:
        result = support_timing(session, TimingParams(WEEK, TZ, breakdown="team"))
    assert [(s.key, s.count, s.median) for s in result.rows["resolution"]] == [(str(story["team"]), 1, 3600.0)]
