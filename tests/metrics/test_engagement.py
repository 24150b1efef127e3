"""Engagement on a hand-built week, on SQLite and PostgreSQL (tenant U holds the same rows).

Time zone America/Sao_Paulo; range 2025-03-01..07 = [03-01 03:00Z, 03-08 03:00Z); as_of = 03-08 03:00Z. Contacts a
(customer since 03-04 12:00), f (customer since 03-06 00:00), b, c, d, h (leads), e (no messages). Inbox wa, except
cx (ig). Messages (UTC; "note" is private and never counts):

| conv | created | contact | messages |
|---|---|---|---|
| ca1 | 03-02 10:00 | a | in 10:00, out 10:02, in 10:12, note 10:13, out 10:20, in 03-04 12:30 |
| cb1 | 03-03 09:00 | b | in 09:00, in 09:01, out 09:11 |
| cx | 03-06 15:00 | b | out 15:00, in 15:30 |
| cc0 | 02-10 12:00 | c | in 02-10 12:00 (before the range) |
| cc1 | 03-05 12:00 | c | in 12:00 |
| cd0 | 02-25 12:00 | d | in 12:00, out 12:05 (before the range) |
| ch0 | 02-01 12:00 | h | in 12:00 (before the range) |
| ch1 | 03-02 12:00 | h | out 12:00 |
| ce | 03-06 12:00 | e | none |
| cf | 03-05 20:00 | f | in 20:00, out 20:05 |

Worked out:
- response: in-range conversations where we wrote: ca1 (answered 10:12), cb1 (no), cx (answered 15:30), ch1 (no),
  cf (no): 2/5.
- messages until conversion: a before 03-04 12:00: in 2, out 2, total 4; f: 1, 1, 2. Medians 1.5, 1.5, 3.
- gaps: contact_to_us 120 (ca1), 480 (ca1, the note skipped), 600 (cb1), 300 (cf): median (300+480)/2 = 390, P90
  480 + 0.7 x 120 = 564, mean 375; us_to_contact 600, 180,600 (03-02 10:20 -> 03-04 12:30), 1,800 (cx): median
  1,800, mean 61,000; same_side 60 (cb1); all eight: median (480+600)/2 = 540, mean 184,560 / 8 = 23,070.
- re-engagement, 7 days (last incoming before 02-22 03:00Z): c (02-10, back 03-05) and h (02-01, only we wrote):
  1/2; 3 days (before 02-26 03:00Z): also d (02-25 12:00): 1/3.
- decay (7 days): days since the last message: b 1.479 (03-06 15:30), f 2.288, c 2.625, a 3.604, h 5.625, d 10.622;
  hot <= 7 ln(4/3) = 2.014 days, warm <= 7 ln 2 = 4.852, cooling <= 7 ln 4 = 9.704: hot b, warm f c a, cooling h,
  cold d.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from typing import Any

import pytest

from pulso.config import Settings
from pulso.metrics.engagement import EngagementParams, engagement, engagement_contacts
from pulso.metrics.filters import Filters
from pulso.metrics.overview import DateRange
from pulso.store.models import Contact, Conversation, Inbox, Message
from pulso.store.session import tenant_session
from tests.metrics.helpers import TZ, seeded_tenant

RANGE = DateRange(date(2025, 3, 1), date(2025, 3, 7))
AS_OF = datetime(2025, 3, 8, 3, tzinfo=UTC)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


CONVERSATIONS: list[tuple[str, datetime, str, list[tuple[datetime, str]]]] = [
    (
        "ca1",
        utc(2025, 3, 2, 10),
        "a",
        [
            (utc(2025, 3, 2, 10), "in"),
            (utc(2025, 3, 2, 10, 2), "out"),
            (utc(2025, 3, 2, 10, 12), "in"),
            (utc(2025, 3, 2, 10, 13), "note"),
            (utc(2025, 3, 2, 10, 20), "out"),
            (utc(2025, 3, 4, 12, 30), "in"),
        ],
    ),
    ("cb1", utc(2025, 3, 3, 9), "b", [(utc(2025, 3, 3, 9), "in"), (utc(2025, 3, 3, 9, 1), "in"),
                                      (utc(2025, 3, 3, 9, 11), "out")]),
    ("cx", utc(2025, 3, 6, 15), "b", [(utc(2025, 3, 6, 15), "out"), (utc(2025, 3, 6, 15, 30), "in")]),
    ("cc0", utc(2025, 2, 10, 12), "c", [(utc(2025, 2, 10, 12), "in")]),
    ("cc1", utc(2025, 3, 5, 12), "c", [(utc(2025, 3, 5, 12), "in")]),
    ("cd0", utc(2025, 2, 25, 12), "d", [(utc(2025, 2, 25, 12), "in"), (utc(2025, 2, 25, 12, 5), "out")]),
    ("ch0", utc(2025, 2, 1, 12), "h", [(utc(2025, 2, 1, 12), "in")]),
    ("ch1", utc(2025, 3, 2, 12), "h", [(utc(2025, 3, 2, 12), "out")]),
    ("ce", utc(2025, 3, 6, 12), "e", []),
    ("cf", utc(2025, 3, 5, 20), "f", [(utc(2025, 3, 5, 20), "in"), (utc(2025, 3, 5, 20, 5), "out")]),
]  # fmt: skip


def seed(tenant_id: int) -> dict[str, int]:
    with tenant_session(tenant_id) as session:
        wa = Inbox(external_id="wa", name="WhatsApp", channel_type="whatsapp")
        ig = Inbox(external_id="ig", name="Instagram", channel_type="instagram")
        customers = {"a": utc(2025, 3, 4, 12), "f": utc(2025, 3, 6)}
        people = {
            name: Contact(
                name=name,
                lifecycle_stage="customer" if name in customers else "lead",
                became_customer_at=customers.get(name),
            )
            for name in "abcdefh"
        }
        session.add_all([wa, ig, *people.values()])
        session.flush()
        ids = {name: contact.id for name, contact in people.items()} | {"ig": ig.id}
        for key, created, person, messages in CONVERSATIONS:
            conversation = Conversation(
                external_id=key,
                inbox_id=(ig if key == "cx" else wa).id,
                contact_id=people[person].id,
                created_at=created,
            )
            session.add(conversation)
            session.flush()
            for n, (at, kind) in enumerate(messages):
                session.add(
                    Message(
                        external_id=f"{key}-{n}",
                        conversation_id=conversation.id,
                        direction="incoming" if kind == "in" else "outgoing",
                        sender_kind="contact" if kind == "in" else "agent",
                        is_private=kind == "note",
                        created_at=at,
                    )
                )
        return ids


@pytest.fixture
def tenant(any_settings: Settings) -> tuple[int, dict[str, int]]:
    return seeded_tenant(seed)


def run(tenant_id: int, **options: Any) -> Any:
    with tenant_session(tenant_id) as session:
        return engagement(session, EngagementParams(RANGE, TZ, **options))


def test_response_rate_of_the_conversations_we_wrote_in(tenant: tuple[int, dict[str, int]]) -> None:
    tenant_id, ids = tenant
    response = run(tenant_id).response
    assert (response.base, response.hits, response.rate) == (5, 2, 0.4)
    only_ig = run(tenant_id, filters=Filters(inbox_ids=(ids["ig"],))).response  # cx
    assert (only_ig.base, only_ig.hits) == (1, 1)


def test_messages_until_conversion(tenant: tuple[int, dict[str, int]]) -> None:
    counts = run(tenant[0]).messages_until_conversion
    summary = {name: (s.count, s.mean, s.median) for name, s in counts.items()}
    assert summary == {"incoming": (2, 1.5, 1.5), "outgoing": (2, 1.5, 1.5), "total": (2, 3.0, 3.0)}


def test_reengagement_after_silence(tenant: tuple[int, dict[str, int]]) -> None:
    week = run(tenant[0]).reengagement
    assert (week.base, week.hits, week.rate) == (2, 1, 0.5)
    three_days = run(tenant[0], silence_days=3).reengagement
    assert (three_days.base, three_days.hits) == (3, 1)


def test_time_between_messages_by_direction(tenant: tuple[int, dict[str, int]]) -> None:
    gaps = run(tenant[0]).time_between_messages
    contact_to_us, us_to_contact = gaps["contact_to_us"], gaps["us_to_contact"]
    assert (contact_to_us.count, contact_to_us.mean, contact_to_us.median) == (4, 375.0, 390.0)
    assert contact_to_us.p90 == pytest.approx(564.0)
    assert (us_to_contact.count, us_to_contact.mean, us_to_contact.median) == (3, 61_000.0, 1_800.0)
    assert (gaps["same_side"].count, gaps["same_side"].median) == (1, 60.0)
    assert (gaps["all"].count, gaps["all"].mean, gaps["all"].median) == (8, 23_070.0, 540.0)


def test_decay_bands_and_lists(tenant: tuple[int, dict[str, int]]) -> None:
    tenant_id, ids = tenant
    result = run(tenant_id, listed=2)
    assert result.as_of == AS_OF
    assert [(band.band, band.contacts) for band in result.decay_bands] == [
        ("hot", 1),
        ("warm", 3),
        ("cooling", 1),
        ("cold", 1),
    ]
    assert [c.name for c in result.top] == ["b", "f"] and [c.name for c in result.bottom] == ["d", "h"]
    b = result.top[0]
    days = (AS_OF - utc(2025, 3, 6, 15, 30)).total_seconds() / 86_400  # 1 day 11.5 hours
    assert (b.contact_id, b.days_since_last_message) == (ids["b"], pytest.approx(days))
    assert b.score == pytest.approx(math.exp(-days / 7))
    one_day = run(tenant_id, decay_days=1)  # hot <= 0.288 days, warm <= 0.693, cooling <= 1.386: all cold
    assert [band.contacts for band in one_day.decay_bands] == [0, 0, 0, 6]


def test_contacts_page(tenant: tuple[int, dict[str, int]]) -> None:
    with tenant_session(tenant[0]) as session:
        page = engagement_contacts(session, EngagementParams(RANGE, TZ), offset=2, limit=2)
    assert page.total == 6 and [c.name for c in page.rows] == ["c", "a"]  # e has no messages


def test_bad_parameters() -> None:
    with pytest.raises(ValueError, match="silence_days: between 1 and 365, got 0"):
        EngagementParams(RANGE, TZ, silence_days=0)
    with pytest.raises(ValueError, match="decay_days: more than 0"):
        EngagementParams(RANGE, TZ, decay_days=0)
