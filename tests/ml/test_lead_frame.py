"""The lead frame on a hand-built tenant, on SQLite and PostgreSQL; tenant U holds the very same rows.

Now is 2025-06-01 12:00Z; window 7 days, horizon 30 days; time zone America/Sao_Paulo (UTC-3).

| contact | start                          | became customer | outcome                    | as_of                  |
|---------|--------------------------------|-----------------|----------------------------|------------------------|
| ana     | lead 03-03 12:00Z (09:00 local)| 03-05 12:00Z    | 1 (within 30 days)         | 03-05 12:00 (customer) |
| bia     | first conversation 03-10 15:00Z| never           | 0 (horizon passed)         | 03-17 15:00 (window)   |
| caio    | lead 05-30 12:00Z              | never           | NaN (still open)           | 06-01 12:00 (now)      |
| davi    | lead 04-01, customer 03-01     | before start    | not a lead                 |                        |
| eva     | first seen only, no lead, no conversation: not a lead                                    |

Ana: conversation 03-03 12:05Z (WhatsApp), first response 120 s (answered 12:07 < as_of); messages: in 12:05,
out 12:07, in 12:10, private note 12:08, in 03-06 (after conversion: not counted); events: track 03-02,
page 03-03 11:00, track 03-06 (after). Bia: Instagram conversation, first response 30 days (after as_of: not
answered); one message in at 15:00. Ana's last message before as_of, 03-03 12:10, is 1 day 23 h 50 min before
it (03-05 12:00).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pytest

from pulso.config import Settings
from pulso.ml.lead_frame import FEATURES, LeadFrameParams, lead_frame
from pulso.store.models import Contact, Conversation, ConversationFactsRow, ConversationInsight, Event, Inbox, Message
from pulso.store.session import tenant_session
from tests.metrics.helpers import TZ, seeded_tenant

NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, month, day, hour, minute, tzinfo=UTC)


def seed(tenant_id: int) -> dict[str, int]:
    with tenant_session(tenant_id) as session:
        wa = Inbox(external_id="wa", name="WhatsApp", channel_type="whatsapp")
        ig = Inbox(external_id="ig", name="Instagram", channel_type="instagram")
        people = {
            "ana": Contact(name="Ana", first_touch_channel="google", first_touch_campaign="implante",
                           first_seen_at=at(3, 2, 10), became_lead_at=at(3, 3, 12), became_customer_at=at(3, 5, 12)),
            "bia": Contact(name="Bia", first_touch_channel="instagram", first_seen_at=at(3, 10, 14)),
            "caio": Contact(name="Caio", first_seen_at=at(5, 30, 11), became_lead_at=at(5, 30, 12)),
            "davi": Contact(name="Davi", first_seen_at=at(2, 1, 10), became_lead_at=at(4, 1, 10),
                            became_customer_at=at(3, 1, 10)),
            "eva": Contact(name="Eva", first_seen_at=at(3, 1, 10)),
        }  # fmt: skip
        session.add_all([wa, ig, *people.values()])
        session.flush()
        ids = {key: contact.id for key, contact in people.items()}
        ana_talk = Conversation(external_id="c1", inbox_id=wa.id, contact_id=ids["ana"], created_at=at(3, 3, 12, 5))
        bia_talk = Conversation(external_id="c2", inbox_id=ig.id, contact_id=ids["bia"], created_at=at(3, 10, 15))
        session.add_all([ana_talk, bia_talk])
        session.flush()
        for talk, seconds in ((ana_talk, 120), (bia_talk, 30 * 86400)):
            session.add(ConversationFactsRow(conversation_id=talk.id, created_at=talk.created_at,
                                             first_response_seconds=seconds, handled_by="human_only",
                                             inbox_id=talk.inbox_id, status="open"))  # fmt: skip
        messages: list[tuple[Any, str, datetime, bool]] = [
            (ana_talk, "incoming", at(3, 3, 12, 5), False),
            (ana_talk, "outgoing", at(3, 3, 12, 7), False),
            (ana_talk, "outgoing", at(3, 3, 12, 8), True),
            (ana_talk, "incoming", at(3, 3, 12, 10), False),
            (ana_talk, "incoming", at(3, 6, 9), False),
            (bia_talk, "incoming", at(3, 10, 15), False),
        ]
        for n, (talk, direction, when, private) in enumerate(messages):
            session.add(Message(external_id=f"m{n}", conversation_id=talk.id, direction=direction,
                                sender_kind="contact" if direction == "incoming" else "agent", is_private=private,
                                created_at=when))  # fmt: skip
        for n, (kind, when) in enumerate((("track", at(3, 2, 10)), ("page", at(3, 3, 11)), ("track", at(3, 6, 10)))):
            session.add(Event(message_id=f"e{n}", type=kind, name="x", contact_id=ids["ana"], properties={},
                              occurred_at=when, received_at=when))  # fmt: skip
        session.add(ConversationInsight(conversation_id=ana_talk.id, analyzer="offline", interest="Alto", score=80.0))
        return ids


@pytest.fixture
def tenant(any_settings: Settings) -> tuple[int, dict[str, int]]:
    return seeded_tenant(seed)


def frame(tenant_id: int) -> pd.DataFrame:
    with tenant_session(tenant_id) as session:
        return lead_frame(session, LeadFrameParams(NOW, TZ, timedelta(days=7), timedelta(days=30)))


def test_leads_outcomes_and_as_of(tenant: tuple[int, dict[str, int]]) -> None:
    tenant_id, ids = tenant
    found = frame(tenant_id)
    assert sorted(found.index) == sorted([ids["ana"], ids["bia"], ids["caio"]])
    ana, bia, caio = (found.loc[ids[k]] for k in ("ana", "bia", "caio"))
    assert (ana["converted"], bia["converted"]) == (1.0, 0.0) and math.isnan(caio["converted"])
    assert (ana["started_at"], ana["as_of"]) == (at(3, 3, 12), at(3, 5, 12))
    assert (bia["started_at"], bia["as_of"]) == (at(3, 10, 15), at(3, 17, 15))
    assert (caio["started_at"], caio["as_of"]) == (at(5, 30, 12), NOW)
    assert set(FEATURES) <= set(found.columns)


def test_features_count_only_what_came_before_as_of(tenant: tuple[int, dict[str, int]]) -> None:
    tenant_id, ids = tenant
    found = frame(tenant_id)
    ana, bia, caio = (found.loc[ids[k]] for k in ("ana", "bia", "caio"))
    assert (ana["first_touch_channel"], ana["first_touch_campaign"], ana["first_inbox_channel"]) == (
        "google", "implante", "whatsapp")  # fmt: skip
    assert (ana["start_hour"], ana["start_weekday"]) == (9, 1)  # Monday 2025-03-03 09:00 local
    assert (ana["conversations"], ana["messages_in"], ana["messages_out"]) == (1, 2, 1)
    assert (ana["first_response_seconds"], ana["answered"]) == (120.0, 1)
    assert ana["days_since_last_message"] == pytest.approx(1 + 1430 / 1440)
    assert ana["engagement_decay"] == pytest.approx(math.exp(-(1 + 1430 / 1440) / 7))
    assert (ana["events"], ana["page_views"], ana["ai_interest"], ana["ai_score"]) == (1, 1, "Alto", 80.0)
    assert (bia["first_inbox_channel"], bia["answered"], bia["messages_in"], bia["events"]) == ("instagram", 0, 1, 0)
    assert math.isnan(bia["first_response_seconds"]) and bia["days_since_last_message"] == 7.0
    assert (caio["conversations"], caio["messages_in"], caio["answered"]) == (0, 0, 0)
    assert caio["ai_interest"] is None or (isinstance(caio["ai_interest"], float) and math.isnan(caio["ai_interest"]))


def test_bad_parameters() -> None:
    with pytest.raises(ValueError, match=r"^now: a timezone-aware time"):
        LeadFrameParams(datetime(2025, 1, 1), TZ)
    with pytest.raises(ValueError, match=r"^window: from 1 hour up to the horizon"):
        LeadFrameParams(NOW, TZ, timedelta(days=100), timedelta(days=90))
