"""The CLV data function on SQLite and PostgreSQL: the latest run per customer (paged, one contact) and summed per
first-touch channel, campaign and RFM segment, checked against the job's own rows."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest
from sqlalchemy import select

from pulso.config import Settings
from pulso.errors import InvalidInputError, NotFoundError
from pulso.metrics.rfm import SEGMENTS, RfmParams, customer_segments
from pulso.ml.clv.values import CLVGroup, clv_by, clv_customers
from pulso.pipeline.gold.customer_value import build_customer_value
from pulso.store.models import CustomerValue, Tenant
from pulso.store.session import platform_session, tenant_session
from tests.metrics.helpers import TZ, seeded_tenant
from tests.ml.clv_tenant_data import CAMPAIGNS, CHANNELS, CUSTOMERS, NOW, seed_tenant


@pytest.fixture
def tenant(any_settings: Settings) -> tuple[int, dict[int, int]]:
    tenant_id, ids = seeded_tenant(seed_tenant)
    with tenant_session(tenant_id) as session:  # an older run, which no answer may mix in
        build_customer_value(session, None, now=NOW - timedelta(days=3))
        build_customer_value(session, None, now=NOW)
    return tenant_id, ids


def latest(tenant_id: int) -> pd.DataFrame:
    with tenant_session(tenant_id) as session:
        found = session.execute(
            select(
                CustomerValue.contact_id, CustomerValue.clv, CustomerValue.p_alive, CustomerValue.expected_purchases
            ).where(CustomerValue.computed_at == NOW)
        ).all()
    return pd.DataFrame(found, columns=["contact_id", "clv", "p_alive", "expected_purchases"]).set_index("contact_id")


def expected_groups(values: pd.DataFrame, labels: pd.Series) -> dict[str, tuple[int, float, float, float, float]]:
    grouped = values.groupby(labels.reindex(values.index).fillna("(none)"))
    return {
        str(key): (len(g), g["clv"].sum(), g["clv"].mean(), g["p_alive"].mean(), g["expected_purchases"].sum())
        for key, g in grouped
    }


def assert_groups(rows: list[CLVGroup], expected: dict[str, tuple[int, float, float, float, float]]) -> None:
    found = {r.key: (r.customers, r.clv_total, r.clv_mean, r.p_alive_mean, r.expected_purchases_total) for r in rows}
    assert set(found) == set(expected)
    for key, numbers in expected.items():
        assert found[key] == pytest.approx(numbers, rel=1e-9), key


@pytest.mark.parametrize(("by", "names"), [("channel", CHANNELS), ("campaign", CAMPAIGNS)])
def test_sums_per_first_touch(tenant: tuple[int, dict[int, int]], by: str, names: tuple[str | None, ...]) -> None:
    tenant_id, ids = tenant
    values = latest(tenant_id)
    labels = pd.Series({contact: names[n % len(names)] for n, contact in ids.items()}, dtype="object")
    with tenant_session(tenant_id) as session:
        result = clv_by(session, by, TZ)  # type: ignore[arg-type]
    assert result.run is not None and result.run.computed_at == NOW and result.run.model_version == "v2"
    assert_groups(result.rows, expected_groups(values, labels))
    totals = [row.clv_total for row in result.rows]
    assert totals == sorted(totals, reverse=True)
    assert result.total.customers == CUSTOMERS
    assert result.total.clv_total == pytest.approx(values["clv"].sum(), rel=1e-9)
    assert sum(totals) == pytest.approx(result.total.clv_total, rel=1e-9)
    # the seeding: every third customer has no channel, every second no campaign
    assert {row.key: row.customers for row in result.rows} == (
        {"google": 14, "meta": 13, "(none)": 13} if by == "channel" else {"gestao": 20, "(none)": 20}
    )


def test_sums_per_rfm_segment(tenant: tuple[int, dict[int, int]]) -> None:
    tenant_id, _ = tenant
    values = latest(tenant_id)
    with tenant_session(tenant_id) as session:
        segments = customer_segments(session, RfmParams(date(2025, 6, 1), TZ))  # the run's local day
        result = clv_by(session, "segment", TZ)
    assert len(segments) == CUSTOMERS and set(segments.values()) <= set(SEGMENTS)
    assert_groups(result.rows, expected_groups(values, pd.Series(segments, dtype="object")))
    assert len(result.rows) >= 4 and sum(row.customers for row in result.rows) == CUSTOMERS


def test_customer_pages_and_one_customer(tenant: tuple[int, dict[int, int]]) -> None:
    tenant_id, ids = tenant
    values = latest(tenant_id).sort_values("clv", ascending=False)
    with tenant_session(tenant_id) as session:
        first = clv_customers(session, limit=5)
        last = clv_customers(session, limit=5, offset=38)
        one = clv_customers(session, contact_id=ids[7])
        with pytest.raises(NotFoundError, match=r"^contact_id: contact 999999 has no lifetime value"):
            clv_customers(session, contact_id=999_999)
        with pytest.raises(InvalidInputError, match=r"^limit must be 1\.\.1000"):
            clv_customers(session, limit=0)
    assert (first.total, last.total, one.total) == (CUSTOMERS, CUSTOMERS, 1)
    assert [c.contact_id for c in first.customers] == list(values.index[:5])
    assert [c.contact_id for c in last.customers] == list(values.index[38:])
    [customer] = one.customers
    assert (customer.contact_id, customer.name, customer.first_touch_channel, customer.first_touch_campaign) == (
        ids[7], "Customer 7", "meta", None,  # 7 % 3 = 1: meta; 7 is odd: no campaign
    )  # fmt: skip
    assert customer.clv == pytest.approx(values.loc[ids[7], "clv"], rel=1e-12)


def test_a_tenant_without_a_run(tenant: tuple[int, dict[int, int]]) -> None:
    with platform_session() as session:
        other = session.scalars(select(Tenant.id).where(Tenant.slug == "u")).one()
    with tenant_session(other) as session:
        page = clv_customers(session)
        breakdown = clv_by(session, "channel", TZ)
        with pytest.raises(NotFoundError, match=r"^contact_id: no lifetime value computed yet"):
            clv_customers(session, contact_id=1)
        with pytest.raises(InvalidInputError, match=r"^by: must be one of channel, campaign, segment, got 'city'"):
            clv_by(session, "city", TZ)  # type: ignore[arg-type]
    assert (page.run, page.total, page.customers) == (None, 0, [])
    assert (breakdown.run, breakdown.rows, breakdown.total.customers, breakdown.total.clv_mean) == (None, [], 0, None)
