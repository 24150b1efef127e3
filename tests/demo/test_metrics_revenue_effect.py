"""The revenue metrics recover the demo's planted LTV gap (effect 1, docs/demo-data.md) on the small seed.

InsightOS customers whose first-touch campaign is google_gestao_agil pick dearer plans: the expected LTV ratio
against every other first touch is 311 / 135 = 2.30 (``true_ltv_ratio()``). Here it is measured the product's way,
through the ROI query object per first-touch campaign over the whole history, as the API would: the campaign's
row LTV (revenue to date per customer acquired) against the pooled other rows (revenue to date of their customers
over their customers). Tolerance 1.7-2.9, as tests/demo/test_effects.py allows for ~240 customers; the value
must also match the direct SQL measure of pulso.demo.verify (effects.ltv_ratio), which reads the same orders.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from pulso.demo.effects import LTV_CAMPAIGN, true_ltv_ratio
from pulso.demo.verify import EffectReport
from pulso.metrics.overview import DateRange
from pulso.metrics.revenue import RoiParams, roi_by_channel
from pulso.store.engine import app_engine
from pulso.store.models import Tenant
from pulso.store.session import platform_session, tenant_session
from tests.demo.helpers import END_DATE, SeededDemo


def test_roi_per_campaign_recovers_the_ltv_gap(seeded: SeededDemo, effects: EffectReport) -> None:
    engine = app_engine(seeded.settings)
    with platform_session(engine=engine) as session:
        tenant = session.scalars(select(Tenant).where(Tenant.slug == "insightos")).one()
        tenant_id, timezone = tenant.id, tenant.timezone
    history = DateRange(END_DATE - timedelta(days=182), END_DATE - timedelta(days=1))
    as_of = datetime.combine(END_DATE, time.min, ZoneInfo(timezone)).astimezone(UTC)
    with tenant_session(tenant_id, engine=engine) as session:
        result = roi_by_channel(session, RoiParams(history, timezone, breakdown="campaign", as_of=as_of))
    rows = {row.key: row for row in result.rows}
    campaign = rows[LTV_CAMPAIGN]
    others = [row for key, row in rows.items() if key != LTV_CAMPAIGN]
    other_customers = sum(row.new_customers for row in others)
    assert campaign.new_customers >= 50 and other_customers >= 120
    other_ltv = sum(row.customer_revenue_to_date for row in others) / other_customers
    assert campaign.ltv is not None
    ratio = campaign.ltv / other_ltv
    assert 1.7 < ratio < 2.9, (ratio, true_ltv_ratio())
    assert ratio == pytest.approx(effects.ltv_ratio, rel=1e-6)
    # the campaign's spend reached its row through the campaign name (campaigns.channel is google_ads, the
    # contacts' first-touch channel paid_search): nothing paid is unmatched, the newsletter has no spend
    assert campaign.spend > 0 and result.unmatched_spend == []
