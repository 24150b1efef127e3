"""Chatwoot database -> sync -> silver -> gold facts, checked against the scenario's hand-worked numbers, and the
agreement with Chatwoot's own reporting_events on the same data."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from pulso.connectors.chatwoot.agreement import agreement_report
from pulso.connectors.chatwoot.fixture.scenario import ScenarioFacts
from pulso.connectors.chatwoot.sync import ChatwootSync
from pulso.pipeline.gold.conversation_facts import compute_conversation_facts
from pulso.store import tenant_session
from pulso.store.models import Agent, Conversation, ConversationFactsRow
from tests.connectors.chatwoot.conftest import Linked

pytestmark = pytest.mark.postgres
EXPECTED = ScenarioFacts()


def _facts(linked: Linked) -> dict[int, Any]:
    """Facts by Chatwoot display id (= the scenario's conversation number in account 1)."""
    with tenant_session(linked.tenant_id) as session:
        rows = session.execute(
            select(Conversation.display_id, ConversationFactsRow, Agent.external_id)
            .join(ConversationFactsRow, ConversationFactsRow.conversation_id == Conversation.id)
            .outerjoin(Agent, Agent.id == ConversationFactsRow.first_response_agent_id)
        ).all()
    return {int(display): (facts, agent) for display, facts, agent in rows}


def test_facts_from_the_synced_scenario_match_the_hand_worked_numbers(linked: Linked) -> None:
    ChatwootSync(linked.config(), settings=linked.settings).run()
    with tenant_session(linked.tenant_id) as session:
        assert compute_conversation_facts(session) == 4
    facts = _facts(linked)
    c1, c2, c3, c4 = (facts[n][0] for n in (1, 2, 3, 4))
    # first response excludes bot time: from the hand-off (10:02) to Ana (10:05), not from creation (300 s)
    assert c1.first_response_seconds == EXPECTED.first_human_reply_from_last_handoff_or_reopen_seconds[1] == 180
    assert facts[1][1] == "cw:user:1"  # Ana answered first
    assert c1.handled_by == "handed_off" and c1.bot_messages == 1 and c1.private_notes == 1
    assert [seconds for seconds, _ in c1.reply_times] == [EXPECTED.reply_time_seconds[0]]
    assert c1.csat_score == 5 and c1.labels == ["limpeza"]
    # C2: Instagram inbox with business hours; reopened once, resolved twice
    assert c2.first_response_seconds == EXPECTED.first_human_reply_from_creation_seconds[2] == 59400
    assert c2.first_response_business_seconds == EXPECTED.chatwoot_first_response_business_seconds[2] == 5400
    assert [pair[0] for pair in c2.first_responses] == [59400, 1200]  # one per reopen period
    assert c2.reopen_count == 1 and c2.resolutions == 2
    assert (c2.resolution_seconds, c2.resolution_business_seconds) == (149400, 41400)
    assert [pair[0] for pair in c2.reply_times] == [EXPECTED.reply_time_seconds[1]]
    assert (c2.messages_in, c2.messages_out) == (2, 3)  # the deleted reply still counts as sent
    assert c3.handled_by == "bot_only" and c3.first_response_seconds is None and c3.resolution_seconds == 300
    assert c4.handled_by == "unanswered" and c4.first_response_seconds is None and c4.private_notes == 1


def test_agreement_with_chatwoot_reporting_events(linked: Linked) -> None:
    ChatwootSync(linked.config(), settings=linked.settings).run()
    with tenant_session(linked.tenant_id) as session:
        report = agreement_report(session)
    first = report.get("first_response")
    assert (first.compared, first.agreeing) == (2, 2)  # C1 and C2; Chatwoot-style values agree exactly
    resolved = report.get("conversation_resolved")
    assert (resolved.compared, resolved.agreeing) == (3, 3)  # C1, C2 (two resolves), C3
    assert report.get("reply_time").agreeing == report.get("reply_time").compared == 2
    assert "| first_response | 2 | 2 | 100.0% |" in report.to_markdown()
