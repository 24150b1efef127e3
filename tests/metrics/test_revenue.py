"""Revenue and acquisition return per first-touch channel and campaign, on a hand-built March, on SQLite and
PostgreSQL.

Tenant time zone America/Sao_Paulo (UTC-3). Range 2025-03-01 .. 2025-03-31 = [03-01 03:00Z, 04-01 03:00Z);
revenue "to date" is observed until as_of = 2025-06-15 00:00Z. Every timestamp below is UTC.

Campaigns (spend import: channel is the ad network) and their spend:
- google_ads / gestao: 02-28 50 (out), 03-01 100, 03-15 200, 04-01 70 (out) -> 300 in March.
- meta_ads / produtividade: 03-10 150.
- linkedin_ads / lideres: 03-05 80; no contact carries it: unmatched.

Contacts (channel, campaign; lead, customer; completed orders unless said):
- A paid_search, gestao; lead 03-02, customer 03-05 12:00; orders 03-05 12:00 100, 04-05 12:00 100 (exactly one
  month later: month 1), 05-05 12:00 100 (month 2), 04-20 50 refunded, 03-25 999 pending (neither is revenue).
- B paid_search, gestao; lead 03-10, customer 03-20 12:00; orders 03-20 12:00 300, 04-20 11:59 10 (a minute short
  of a month: month 0).
- C paid_search, gestao; lead 03-12; never a customer.
- D paid_social, produtividade; lead 03-03, customer 03-04; orders 03-04 50, 04-04 50 (month 1).
- E paid_social, produtividade; lead 02-20 (before the range), customer 03-01 03:00 (local midnight: in the
  range); order 03-01 03:00 40.
- F organic_search, no campaign; lead 03-31 03:00 (local 31 March 00:00: in), customer 04-01 03:00 (local 1 April:
  out); order 04-01 03:00 500.
- G no first touch at all; lead 03-15, customer 03-16; order 03-16 60.
- H paid_search, gestao, lead 03-20, customer 03-21, merged into A: left out everywhere.
- I display, produtividade; lead 01-10; order 03-01 02:59:59 1000 (local 28 February): counts nowhere. I makes
  produtividade's contacts 2 paid_social + 1 display, so its spend goes to paid_social.
- An order without a contact: 03-08 25 (unattributed revenue).

Per channel, worked out:
- paid_search: spend 300; leads A B C = 3; conversions A B = 2; new customers A B = 2; revenue in March
  100 + 300 = 400; customers' revenue to date 300 (A) + 310 (B) = 610 (= the conversions' too).
  conversion 2/3; value per conversion 610/2 = 305; ROI (400-300)/300 = 1/3; ROAS 4/3; CPA 300/2 = 150;
  CAC 150; LTV 610/2 = 305; LTV:CAC 305/150; payback: month 0 brings 100 + 300 + 10 = 410, 205 a customer >= 150:
  1 month.
- paid_social: spend 150; leads D = 1; conversions 1; new customers D E = 2; revenue 50 + 40 = 90; to date
  100 + 40 = 140 (conversions: D's 100). ROI (90-150)/150 = -0.4; ROAS 0.6; CPA 150; CAC 75; LTV 70;
  LTV:CAC 70/75; payback: month 0 90/2 = 45, month 1 +50 -> 70 < 75: never, None.
- organic_search: leads F = 1, conversions 1, no customer in March, no revenue in March; the conversion's revenue
  to date 500. No spend: ROI, ROAS None; CPA 0 / 1 = 0; CAC, LTV None.
- None (G): leads 1, conversions 1, customers 1, revenue 60. CAC 0 / 1 = 0, so LTV:CAC and payback None.
- Total: spend 300 + 150 + 80 (unmatched) = 530; leads 6; conversions 5; customers 5; revenue 400 + 90 + 60 + 25
  (unattributed) = 575; customers' revenue to date 610 + 140 + 60 = 810; ROI 45/530; CAC 530/5 = 106; LTV 162;
  payback: month 0 = 410 + 90 + 60 = 560, 112 a customer >= 106: 1.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from pulso.config import Settings
from pulso.metrics.filters import Filters
from pulso.metrics.overview import DateRange
from pulso.metrics.revenue import RevenueParams, RoiParams, RoiResult, RoiRow, revenue, roi_by_channel
from pulso.store.models import Campaign, CampaignSpend, Contact, Order
from pulso.store.session import tenant_session
from tests.metrics.helpers import TZ, seeded_tenant

MARCH = DateRange(date(2025, 3, 1), date(2025, 3, 31))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


AS_OF = utc(2025, 6, 15)
SPEND = [
    ("google_ads", "gestao", [(date(2025, 2, 28), "50"), (date(2025, 3, 1), "100"), (date(2025, 3, 15), "200"),
                              (date(2025, 4, 1), "70")]),
    ("meta_ads", "produtividade", [(date(2025, 3, 10), "150")]),
    ("linkedin_ads", "lideres", [(date(2025, 3, 5), "80")]),
]  # fmt: skip
# name: channel, campaign, source, city, attributes, lead, customer
CONTACTS: dict[str, tuple[Any, ...]] = {
    "A": ("paid_search", "gestao", "google", "São Paulo", {"plan": "equipe", "trial": True},
          utc(2025, 3, 2, 12), utc(2025, 3, 5, 12)),
    "B": ("paid_search", "gestao", "google", "São Paulo", {"plan": "starter", "trial": False},
          utc(2025, 3, 10, 12), utc(2025, 3, 20, 12)),
    "C": ("paid_search", "gestao", "google", "Campinas", {"plan": "equipe"}, utc(2025, 3, 12, 12), None),
    "D": ("paid_social", "produtividade", "facebook", "", {"seats": 5}, utc(2025, 3, 3, 12), utc(2025, 3, 4, 12)),
    "E": ("paid_social", "produtividade", "facebook", None, {}, utc(2025, 2, 20, 12), utc(2025, 3, 1, 3)),
    "F": ("organic_search", None, "google", None, {}, utc(2025, 3, 31, 3), utc(2025, 4, 1, 3)),
    "G": (None, None, None, "Rio de Janeiro", {"trial": True}, utc(2025, 3, 15, 12), utc(2025, 3, 16, 12)),
    "H": ("paid_search", "gestao", "google", None, {}, utc(2025, 3, 20, 12), utc(2025, 3, 21, 12)),
    "I": ("display", "produtividade", "google", None, {}, utc(2025, 1, 10, 12), None),
}  # fmt: skip
ORDERS = [  # contact (None: no contact), amount, ordered at, status
    ("A", "100", utc(2025, 3, 5, 12), "completed"),
    ("A", "100", utc(2025, 4, 5, 12), "completed"),
    ("A", "100", utc(2025, 5, 5, 12), "completed"),
    ("A", "50", utc(2025, 4, 20, 12), "refunded"),
    ("A", "999", utc(2025, 3, 25, 12), "pending"),
    ("B", "300", utc(2025, 3, 20, 12), "completed"),
    ("B", "10", utc(2025, 4, 20, 11, 59), "completed"),
    ("D", "50", utc(2025, 3, 4, 12), "completed"),
    ("D", "50", utc(2025, 4, 4, 12), "completed"),
    ("E", "40", utc(2025, 3, 1, 3), "completed"),
    ("F", "500", utc(2025, 4, 1, 3), "completed"),
    ("G", "60", utc(2025, 3, 16, 12), "completed"),
    ("I", "1000", utc(2025, 3, 1, 2, 59, 59), "completed"),
    (None, "25", utc(2025, 3, 8, 12), "completed"),
]


def seed(tenant_id: int) -> dict[str, int]:
    """The March above for one tenant; returns the contact ids by name."""
    with tenant_session(tenant_id) as session:
        for channel, name, days in SPEND:
            campaign = Campaign(channel=channel, name=name)
            session.add(campaign)
            session.flush()
            for day, cost in days:
                session.add(CampaignSpend(campaign_id=campaign.id, day=day, cost=Decimal(cost)))
        contacts = {}
        for name, (channel, campaign_name, source, city, attributes, lead, customer) in CONTACTS.items():
            contacts[name] = Contact(
                name=name,
                first_touch_channel=channel,
                first_touch_campaign=campaign_name,
                first_touch_source=source,
                city=city,
                attributes=attributes,
                lifecycle_stage="customer" if customer else "lead",
                became_lead_at=lead,
                became_customer_at=customer,
            )
        session.add_all(contacts.values())
        session.flush()
        contacts["H"].merged_into_id = contacts["A"].id
        for number, (owner, amount, at, status) in enumerate(ORDERS):
            contact_id = contacts[owner].id if owner else None
            session.add(
                Order(external_id=f"o{number}", contact_id=contact_id, amount=Decimal(amount), ordered_at=at,
                      status=status)
            )  # fmt: skip
        return {name: contact.id for name, contact in contacts.items()}


@pytest.fixture
def tenant(any_settings: Settings) -> int:
    return seeded_tenant(seed)[0]


def roi(tenant_id: int, **options: Any) -> RoiResult:
    with tenant_session(tenant_id) as session:
        return roi_by_channel(session, RoiParams(MARCH, TZ, as_of=AS_OF, **options))


def test_roi_per_channel(tenant: int) -> None:
    result = roi(tenant)
    rows = {row.key: row for row in result.rows}
    assert list(rows) == ["organic_search", "paid_search", "paid_social", None]
    search = rows["paid_search"]
    assert (search.spend, search.new_leads, search.conversions, search.new_customers) == (300.0, 3, 2, 2)
    assert (search.revenue, search.customer_revenue_to_date, search.conversion_revenue_to_date) == (400, 610, 610)
    assert search.conversion_rate == pytest.approx(2 / 3)
    assert search.average_value_per_conversion == 305.0
    assert search.roi == pytest.approx(1 / 3) and search.roas == pytest.approx(4 / 3)
    assert (search.cpa, search.cac, search.ltv) == (150.0, 150.0, 305.0)
    assert search.ltv_to_cac == pytest.approx(305 / 150) and search.payback_months == 1

    social = rows["paid_social"]
    assert (social.spend, social.new_leads, social.conversions, social.new_customers) == (150.0, 1, 1, 2)
    assert (social.revenue, social.customer_revenue_to_date, social.conversion_revenue_to_date) == (90, 140, 100)
    assert social.roi == pytest.approx(-0.4) and social.roas == pytest.approx(0.6)
    assert (social.cpa, social.cac, social.ltv) == (150.0, 75.0, 70.0)
    assert social.ltv_to_cac == pytest.approx(70 / 75) and social.payback_months is None

    organic = rows["organic_search"]
    assert (organic.new_leads, organic.conversions, organic.new_customers, organic.revenue) == (1, 1, 0, 0)
    assert (organic.roi, organic.roas, organic.cpa, organic.cac, organic.ltv) == (None, None, 0.0, None, None)
    assert organic.average_value_per_conversion == 500.0

    nobody = rows[None]
    assert (nobody.new_leads, nobody.conversions, nobody.new_customers, nobody.revenue) == (1, 1, 1, 60)
    assert (nobody.cac, nobody.ltv, nobody.ltv_to_cac, nobody.payback_months) == (0.0, 60.0, None, None)


def test_totals_hold_unmatched_spend_and_unattributed_revenue(tenant: int) -> None:
    result = roi(tenant)
    assert [(c.channel, c.campaign, c.cost) for c in result.unmatched_spend] == [
        ("linkedin_ads", "lideres", Decimal("80"))
    ]
    assert result.unattributed_revenue == 25.0
    total = result.total
    assert total.is_total and total.key is None
    assert (total.spend, total.new_leads, total.conversions, total.new_customers) == (530.0, 6, 5, 5)
    assert (total.revenue, total.customer_revenue_to_date) == (575.0, 810.0)
    assert total.roi == pytest.approx(45 / 530) and (total.cac, total.ltv) == (106.0, 162.0)
    assert total.payback_months == 1
    assert result.start_utc == utc(2025, 3, 1, 3) and result.end_utc == utc(2025, 4, 1, 3)
    assert "first_touch_campaign" in result.definitions["attribution"]


def test_roi_per_campaign(tenant: int) -> None:
    """gestao and produtividade are paid_search and paid_social again; F and G share the no-campaign row: leads 2,
    conversions 2, one customer (G), revenue 60, the conversions' revenue to date 500 + 60."""
    rows = {row.key: row for row in roi(tenant, breakdown="campaign").rows}
    assert list(rows) == ["gestao", "produtividade", None]
    assert (rows["gestao"].spend, rows["gestao"].roi) == (300.0, pytest.approx(1 / 3))
    assert (rows["produtividade"].spend, rows["produtividade"].cac) == (150.0, 75.0)
    none = rows[None]
    assert (none.spend, none.new_leads, none.conversions, none.new_customers, none.revenue) == (0.0, 2, 2, 1, 60)
    assert none.conversion_revenue_to_date == 560.0


def test_filters_narrow_contacts_and_spend(tenant: int) -> None:
    """channel paid_social: only D and E, only produtividade's spend (lideres' own channel is linkedin_ads), and no
    unattributed revenue (an order without a contact passes no filter)."""
    social = roi(tenant, filters=Filters(channels=("paid_social",)))
    assert [row.key for row in social.rows] == ["paid_social"]
    assert (social.total.spend, social.total.revenue, social.unattributed_revenue) == (150.0, 90.0, 0.0)
    assert social.unmatched_spend == []
    lideres = roi(tenant, filters=Filters(campaigns=("lideres",)))
    assert lideres.rows == [] and lideres.total.spend == 80.0 and lideres.total.roi == -1.0


def test_an_empty_range_divides_by_nothing(tenant: int) -> None:
    with tenant_session(tenant) as session:
        empty = roi_by_channel(session, RoiParams(DateRange(date(2024, 1, 1), date(2024, 1, 31)), TZ, as_of=AS_OF))
    assert empty.rows == [] and empty.total == RoiRow(None, is_total=True)
    assert (empty.total.roi, empty.total.cac, empty.total.ltv, empty.total.cpa) == (None, None, None, None)


def test_revenue_totals_and_local_days(tenant: int) -> None:
    """Completed orders of local March: A 100, B 300, D 50, E 40 (03-01 03:00Z is local midnight), G 60 and the
    contactless 25 = 575 in 6 orders from 5 customers. I's 1000 is local 28 February: out."""
    with tenant_session(tenant) as session:
        result = revenue(session, RevenueParams(MARCH, TZ))
        search = revenue(session, RevenueParams(MARCH, TZ, Filters(channels=("paid_search",))))
    assert (result.revenue, result.orders, result.paying_customers) == (575.0, 6, 5)
    assert result.unattributed_revenue == 25.0 and result.average_order_value == pytest.approx(575 / 6)
    days = {d.day: d for d in result.days}
    assert len(days) == 31 and days[date(2025, 3, 1)].revenue == 40.0 and days[date(2025, 3, 2)].orders == 0
    assert days[date(2025, 3, 20)].revenue == 300.0 and days[date(2025, 3, 31)].revenue == 0.0
    assert (search.revenue, search.orders, search.unattributed_revenue) == (400.0, 2, 0.0)


def test_bad_parameters_say_what_is_wrong() -> None:
    with pytest.raises(ValueError, match="breakdown must be one of channel, campaign"):
        RoiParams(MARCH, TZ, breakdown="inbox")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="as_of must be timezone-aware"):
        RoiParams(MARCH, TZ, as_of=datetime(2025, 6, 1))
