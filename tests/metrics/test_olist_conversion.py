"""Real data: the Olist marketing funnel (8,000 marketing-qualified leads, 842 closed deals) imported through the
product's own import path gives, per origin, the lead -> customer conversion a direct count of the CSVs gives.

The test only reshapes the two public CSVs into import files (column names the import understands); the import,
the identity matching and the metric are the product's:
- leads (olist_marketing_qualified_leads_dataset.csv) -> a contacts file: user_id = mql_id, first_seen_at and
  became_lead_at = first_contact_date, channel = origin (the first-touch channel), stage lead;
- deals (olist_closed_deals_dataset.csv) -> a second contacts file that finds each lead by user_id and sets
  became_customer_at = won_date, stage customer; and an orders file: order_id = deal-<mql_id>, user_id = mql_id,
  ordered_at = won_date, amount = declared_monthly_revenue (0 when empty).
Then ``conversion_rate(segment="first_touch_channel")`` over every lead (first contacts 2017-06-14 .. 2018-05-31)
must equal pandas' count per origin (a missing origin is the None segment), 842 of 8,000 overall, and revenue
over the deals' dates must equal the sum of declared_monthly_revenue.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from pulso.collect.imports import ImportRequest, run_import
from pulso.config import Settings
from pulso.metrics.acquisition import ConversionParams, conversion_rate
from pulso.metrics.overview import DateRange
from pulso.metrics.revenue import RevenueParams, revenue
from pulso.store.session import platform_session, tenant_session
from pulso.tenancy.service import create_tenant

pytestmark = pytest.mark.datasets
TZ = "America/Sao_Paulo"


def _import(kind: str, frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, index=False)
    summary = run_import(ImportRequest(kind, path, "olist"))
    assert summary.rejected == 0, summary.first_rejects[:3]
    assert summary.accepted == len(frame)


def test_conversion_per_origin_matches_the_csvs(shared_datasets: Path, any_settings: Settings, tmp_path: Path) -> None:
    folder = shared_datasets / "olist-marketing-funnel"
    leads = pd.read_csv(folder / "olist_marketing_qualified_leads_dataset.csv", dtype=str)
    deals = pd.read_csv(folder / "olist_closed_deals_dataset.csv", dtype=str)
    with platform_session() as session:
        tenant_id = create_tenant(session, slug="olist", name="Olist", timezone=TZ).id

    contacts = pd.DataFrame(
        {
            "user_id": leads.mql_id,
            "first_seen_at": leads.first_contact_date,
            "became_lead_at": leads.first_contact_date,
            "channel": leads.origin,
            "lifecycle_stage": "lead",
            "attributes.landing_page_id": leads.landing_page_id,
        }
    )
    _import("contacts", contacts, tmp_path / "leads.csv")
    won = pd.DataFrame({"user_id": deals.mql_id, "became_customer_at": deals.won_date, "lifecycle_stage": "customer"})
    _import("contacts", won, tmp_path / "deals.csv")
    amounts = pd.to_numeric(deals.declared_monthly_revenue).fillna(0.0)
    orders = pd.DataFrame(
        {
            "order_id": "deal-" + deals.mql_id,
            "user_id": deals.mql_id,
            "ordered_at": deals.won_date,
            "amount": amounts.map(lambda value: f"{value:.2f}"),
            "kind": "deal",
        }
    )
    _import("orders", orders, tmp_path / "orders.csv")

    converted_ids = set(deals.mql_id)
    expected = {  # a lead without an origin is the None segment
        (None if pd.isna(key) else key): (len(group), int(group.mql_id.isin(converted_ids).sum()))
        for key, group in leads.groupby("origin", dropna=False)
    }
    every_lead = DateRange(date(2017, 6, 1), date(2018, 6, 30))
    with tenant_session(tenant_id) as session:
        result = conversion_rate(session, ConversionParams(every_lead, TZ, segment="first_touch_channel"))
        money = revenue(session, RevenueParams(DateRange(date(2017, 12, 1), date(2018, 11, 30)), TZ))
    assert (result.total.leads, result.total.converted) == (8000, 842)
    assert {row.key: (row.leads, row.converted) for row in result.rows} == expected
    assert result.rows[0].key == "organic_search"  # the largest origin first
    assert money.orders == 842 and money.revenue == pytest.approx(float(amounts.sum()))
