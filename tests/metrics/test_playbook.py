"""The playbook matrix on hand-built contacts, on SQLite and PostgreSQL.

Range 2025-03-01..07 in America/Sao_Paulo = [03-01 03:00Z, 03-08 03:00Z). Per contact, the latest insight of their
conversations created in the range, and the latest lead score scored before 03-08 03:00Z, else the insight's score:

| contact | insight intent (score)                         | lead scores                 | score | band     | action  |
|---------|------------------------------------------------|-----------------------------|-------|----------|---------|
| q1      | purchase (90), Instagram inbox                 | -                           | 90    | high     | CONVERT |
| q2      | Booking (20): purchase in any case             | 10 on 03-01, 75 on 03-05    | 75    | high     | CONVERT |
| q3      | purchase (50)                                  | -                           | 50    | medium   | PUSH    |
| q4      | question (80)                                  | 30 on 03-10 (after the end) | 80    | high     | PUSH    |
| q5      | purchase (95) on 03-02, complaint (45) on 03-04 | -                          | 45    | medium   | NURTURE |
| q6      | none (none)                                    | -                           | -     | unscored | DISCARD |
| q7      | purchase (10)                                  | -                           | 10    | low      | NURTURE |
| q8      | purchase (99), conversation of 02-27           | -                           | not counted (before)       |
| q9      | pricing (39.9)                                 | -                           | 39.9  | low      | DISCARD |

Two contacts per action; CONVERT lists q1 (90) before q2 (75), DISCARD q9 (39.9) before the unscored q6.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from pulso.config import Settings
from pulso.metrics.filters import Filters
from pulso.metrics.overview import DateRange
from pulso.metrics.playbook import RULES, PlaybookParams, PlaybookResult, playbook
from pulso.store.models import Contact, Conversation, ConversationInsight, Inbox, LeadScore
from pulso.store.session import tenant_session
from tests.metrics.helpers import TZ, seeded_tenant

RANGE = DateRange(date(2025, 3, 1), date(2025, 3, 7))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def seed(tenant_id: int) -> dict[str, int]:
    with tenant_session(tenant_id) as session:
        wa = Inbox(external_id="wa", name="WhatsApp", channel_type="whatsapp")
        ig = Inbox(external_id="ig", name="Instagram", channel_type="instagram")
        people = {name: Contact(name=name) for name in ("q1", "q2", "q3", "q4", "q5", "q6", "q7", "q8", "q9")}
        session.add_all([wa, ig, *people.values()])
        session.flush()
        insights = [  # contact, conversation created, intent, score, insight created
            ("q1", utc(2025, 3, 2, 12), "purchase", 90.0, utc(2025, 3, 2, 13)),
            ("q2", utc(2025, 3, 2, 12), "Booking", 20.0, utc(2025, 3, 2, 13)),
            ("q3", utc(2025, 3, 3, 12), "purchase", 50.0, utc(2025, 3, 3, 13)),
            ("q4", utc(2025, 3, 3, 12), "question", 80.0, utc(2025, 3, 3, 13)),
            ("q5", utc(2025, 3, 2, 12), "purchase", 95.0, utc(2025, 3, 2, 13)),
            ("q5", utc(2025, 3, 4, 12), "complaint", 45.0, utc(2025, 3, 4, 13)),
            ("q6", utc(2025, 3, 5, 12), None, None, utc(2025, 3, 5, 13)),
            ("q7", utc(2025, 3, 5, 12), "purchase", 10.0, utc(2025, 3, 5, 13)),
            ("q8", utc(2025, 2, 27, 12), "purchase", 99.0, utc(2025, 3, 2, 13)),
            ("q9", utc(2025, 3, 6, 12), "pricing", 39.9, utc(2025, 3, 6, 13)),
        ]
        for number, (name, created, intent, score, analysed) in enumerate(insights):
            inbox = ig if name == "q1" else wa
            conversation = Conversation(
                external_id=f"k{number}", inbox_id=inbox.id, contact_id=people[name].id, created_at=created
            )
            session.add(conversation)
            session.flush()
            session.add(
                ConversationInsight(
                    conversation_id=conversation.id, analyzer="test", intent=intent, score=score, created_at=analysed
                )
            )
        for name, score, at in (("q2", 10.0, utc(2025, 3, 1, 12)), ("q2", 75.0, utc(2025, 3, 5, 12)),
                                ("q4", 30.0, utc(2025, 3, 10, 12))):  # fmt: skip
            session.add(LeadScore(contact_id=people[name].id, score=score, scored_at=at))
        return {name: person.id for name, person in people.items()}


@pytest.fixture
def tenant(any_settings: Settings) -> tuple[int, dict[str, int]]:
    return seeded_tenant(seed)


def run(tenant_id: int, **options: object) -> PlaybookResult:
    with tenant_session(tenant_id) as session:
        return playbook(session, PlaybookParams(RANGE, TZ, **options))  # type: ignore[arg-type]


def test_matrix_cells_actions_and_contacts(tenant: tuple[int, dict[str, int]]) -> None:
    tenant_id, ids = tenant
    names = {contact_id: name for name, contact_id in ids.items()}
    result = run(tenant_id)
    assert result.actions == {"CONVERT": 2, "PUSH": 2, "NURTURE": 2, "DISCARD": 2}
    assert [(c.intent, c.band, c.action, c.contacts) for c in result.cells] == [
        ("Booking", "high", "CONVERT", 1),
        ("complaint", "medium", "NURTURE", 1),
        ("pricing", "low", "DISCARD", 1),
        ("purchase", "high", "CONVERT", 1),
        ("purchase", "medium", "PUSH", 1),
        ("purchase", "low", "NURTURE", 1),
        ("question", "high", "PUSH", 1),
        (None, "unscored", "DISCARD", 1),
    ]
    listed = {action: [(names[c.contact_id], c.score) for c in rows] for action, rows in result.contacts.items()}
    assert listed == {
        "CONVERT": [("q1", 90.0), ("q2", 75.0)],
        "PUSH": [("q4", 80.0), ("q3", 50.0)],
        "NURTURE": [("q5", 45.0), ("q7", 10.0)],
        "DISCARD": [("q9", pytest.approx(39.9)), ("q6", None)],
    }
    assert result.start_utc == utc(2025, 3, 1, 3) and result.rules == RULES


def test_filters_and_limits(tenant: tuple[int, dict[str, int]]) -> None:
    tenant_id, ids = tenant
    only_instagram = run(tenant_id, filters=Filters(channels=("instagram",)))
    assert only_instagram.actions == {"CONVERT": 1, "PUSH": 0, "NURTURE": 0, "DISCARD": 0}
    assert [c.contact_id for c in only_instagram.contacts["CONVERT"]] == [ids["q1"]]
    one_each = run(tenant_id, contacts_per_action=1)
    assert [len(rows) for rows in one_each.contacts.values()] == [1, 1, 1, 1]
    stricter = run(tenant_id, purchase_intents=("purchase",))  # Booking is no longer a buying intent: PUSH
    assert stricter.actions == {"CONVERT": 1, "PUSH": 3, "NURTURE": 2, "DISCARD": 2}


def test_every_rule_is_a_known_action() -> None:
    assert {g for g, _ in RULES} == {"purchase", "other"} and len(RULES) == 8
    assert RULES[("purchase", "high")] == "CONVERT" and RULES[("other", "low")] == "DISCARD"
    with pytest.raises(ValueError, match="contacts_per_action must be between 0 and 1000"):
        PlaybookParams(RANGE, TZ, contacts_per_action=-1)
