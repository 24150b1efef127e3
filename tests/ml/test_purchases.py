"""The purchase log and the per-acquisition sums on a hand-built tenant, on SQLite and PostgreSQL.

Ana (google): completed 100.00 on 03-01, refunded 50.00 on 03-02 (not revenue), completed 30.50 on 04-01.
Bia (meta) was merged into Ana: her completed 20.00 on 03-15 is Ana's. Caio (no channel): completed 10.00 on
05-01. An order without a contact is left out.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pandas as pd
import pytest

from pulso.config import Settings
from pulso.ml.purchases import by_acquisition, purchase_log
from pulso.store.models import Contact, Order
from pulso.store.session import tenant_session
from tests.metrics.helpers import seeded_tenant


def at(month: int, day: int) -> datetime:
    return datetime(2025, month, day, 12, tzinfo=UTC)


def seed(tenant_id: int) -> dict[str, int]:
    with tenant_session(tenant_id) as session:
        ana = Contact(name="Ana", first_touch_channel="google")
        caio = Contact(name="Caio")
        session.add_all([ana, caio])
        session.flush()
        bia = Contact(name="Bia", first_touch_channel="meta", merged_into_id=ana.id)
        session.add(bia)
        session.flush()
        orders = [
            (ana.id, "100.00", "completed", at(3, 1)),
            (ana.id, "50.00", "refunded", at(3, 2)),
            (ana.id, "30.50", "completed", at(4, 1)),
            (bia.id, "20.00", "completed", at(3, 15)),
            (caio.id, "10.00", "completed", at(5, 1)),
            (None, "99.00", "completed", at(3, 3)),
        ]
        for n, (contact, amount, status, when) in enumerate(orders):
            session.add(Order(external_id=f"o{n}", contact_id=contact, amount=Decimal(amount), status=status,
                              ordered_at=when))  # fmt: skip
        return {"ana": ana.id, "caio": caio.id}


@pytest.fixture
def tenant(any_settings: Settings) -> tuple[int, dict[str, int]]:
    return seeded_tenant(seed)


def test_purchase_log(tenant: tuple[int, dict[str, int]]) -> None:
    tenant_id, ids = tenant
    with tenant_session(tenant_id) as session:
        log = purchase_log(session)
        before_april = purchase_log(session, until=at(4, 1))
    assert list(log.itertuples(index=False, name=None)) == [
        (ids["ana"], pd.Timestamp(at(3, 1)), 100.0),
        (ids["ana"], pd.Timestamp(at(3, 15)), 20.0),
        (ids["ana"], pd.Timestamp(at(4, 1)), 30.5),
        (ids["caio"], pd.Timestamp(at(5, 1)), 10.0),
    ]
    assert before_april["value"].tolist() == [100.0, 20.0]


def test_by_acquisition(tenant: tuple[int, dict[str, int]]) -> None:
    tenant_id, ids = tenant
    per_customer = pd.DataFrame({"clv": [300.0, 40.0]}, index=[ids["ana"], ids["caio"]])
    with tenant_session(tenant_id) as session:
        table = by_acquisition(session, per_customer, "first_touch_channel")
        with pytest.raises(ValueError, match=r"^by: must be first_touch_channel or first_touch_campaign"):
            by_acquisition(session, per_customer, "city")  # type: ignore[arg-type]
    assert table.to_dict("index") == {
        "google": {"customers": 1, "clv_sum": 300.0, "clv_mean": 300.0},
        "(none)": {"customers": 1, "clv_sum": 40.0, "clv_mean": 40.0},
    }
