"""The churn frame on a hand-built tenant, on SQLite and PostgreSQL.

as_of 2025-06-01 00:00Z, horizon 30 days, now 2025-07-15 (the horizon is over: labels are known).
Ana: completed orders 2025-01-10 (100), 2025-01-10 again (50, same day), 2025-05-02 (30), 2025-06-10 (after as_of,
inside the horizon: she stays, churned 0). Messages from her 2025-05-20 and 2025-03-01; NPS 9 (2025-02-01), then
6 (2025-05-25); CSAT 5 (2025-07-01, after as_of: not used). Bia: one order 2025-02-01 (80), nothing after: churned 1.
Caio: first order 2025-06-05, after as_of: not a customer yet.
Ana: recency 30 days (05-02 -> 06-01), frequency 1 (two distinct days), mean 60, total 180, tenure 141 days 15 hours,
1 purchase in the last 90 days (05-02), 1 message in the last 30 days, last message 12 days before.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from pulso.config import Settings
from pulso.ml.churn_frame import ChurnFrameParams, churn_frame
from pulso.store.models import Contact, Conversation, Feedback, Inbox, Message, Order
from pulso.store.session import tenant_session
from tests.metrics.helpers import seeded_tenant

AS_OF = datetime(2025, 6, 1, tzinfo=UTC)
NOW = datetime(2025, 7, 15, tzinfo=UTC)


def day(month: int, dd: int, hour: int = 12) -> datetime:
    return datetime(2025, month, dd, hour, tzinfo=UTC)


def seed(tenant_id: int) -> dict[str, int]:
    with tenant_session(tenant_id) as session:
        inbox = Inbox(external_id="wa", name="WhatsApp", channel_type="whatsapp")
        ana, bia, caio = Contact(name="Ana"), Contact(name="Bia"), Contact(name="Caio")
        session.add_all([inbox, ana, bia, caio])
        session.flush()
        orders = [(ana, "100", day(1, 10, 9)), (ana, "50", day(1, 10, 18)), (ana, "30", day(5, 2, 0)),
                  (ana, "70", day(6, 10)), (bia, "80", day(2, 1)), (caio, "20", day(6, 5))]  # fmt: skip
        for n, (who, amount, when) in enumerate(orders):
            session.add(Order(external_id=f"o{n}", contact_id=who.id, amount=Decimal(amount), ordered_at=when))
        talk = Conversation(external_id="c1", inbox_id=inbox.id, contact_id=ana.id, created_at=day(3, 1))
        session.add(talk)
        session.flush()
        for n, when in enumerate((day(3, 1), day(5, 20, 0))):
            session.add(Message(external_id=f"m{n}", conversation_id=talk.id, direction="incoming",
                                sender_kind="contact", created_at=when))  # fmt: skip
        answers = [("nps", 9, day(2, 1)), ("nps", 6, day(5, 25)), ("csat", 5, day(7, 1))]
        for n, (kind, score, when) in enumerate(answers):
            session.add(Feedback(external_id=f"f{n}", contact_id=ana.id, kind=kind, score=score, answered_at=when))
        return {"ana": ana.id, "bia": bia.id, "caio": caio.id}


@pytest.fixture
def tenant(any_settings: Settings) -> tuple[int, dict[str, int]]:
    return seeded_tenant(seed)


def test_churn_features_and_labels(tenant: tuple[int, dict[str, int]]) -> None:
    tenant_id, ids = tenant
    with tenant_session(tenant_id) as session:
        found = churn_frame(session, ChurnFrameParams(AS_OF, NOW, timedelta(days=30)))
        open_ = churn_frame(session, ChurnFrameParams(NOW, NOW, timedelta(days=30)))
    assert sorted(found.index) == sorted([ids["ana"], ids["bia"]])
    ana, bia = found.loc[ids["ana"]], found.loc[ids["bia"]]
    assert (ana["churned"], bia["churned"]) == (0.0, 1.0)
    assert (ana["recency_days"], ana["frequency"], ana["monetary_mean"], ana["total_value"]) == (30.0, 1, 60.0, 180.0)
    assert ana["tenure_days"] == pytest.approx(141 + 15 / 24)  # 01-10 09:00 -> 06-01 00:00
    assert (ana["purchases_last_90_days"], ana["messages_last_30_days"]) == (1, 1)
    assert ana["days_since_last_message"] == 12.0
    assert (ana["last_nps"], bia["frequency"]) == (6.0, 0)
    assert math.isnan(ana["last_csat"]) and math.isnan(bia["last_nps"])
    assert open_["churned"].isna().all() and ids["caio"] in open_.index


def test_bad_parameters() -> None:
    with pytest.raises(ValueError, match=r"^as_of: not after now"):
        ChurnFrameParams(NOW, AS_OF)
    with pytest.raises(ValueError, match=r"^horizon: at least one day"):
        ChurnFrameParams(AS_OF, NOW, timedelta(hours=1))
