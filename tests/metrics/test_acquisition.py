"""Acquisition cohorts and conversion per segment on the hand-built March of test_revenue.py (read its docstring
first), on SQLite and PostgreSQL; tenant U holds the same rows.

Monthly cohorts per campaign, March, observed until as_of = 2025-06-15 00:00Z. Periods n = 0..3 exist for a
March cohort (1 March + 3 months = 1 June <= as_of < 1 July); period n is complete when 1 April (local) + n + 1
months <= as_of: n = 0 (1 May) and 1 (1 June) are, 2 and 3 are not.
- gestao: A and B, spend 300, CAC 150. Revenue by period: 0: 100 (A) + 300 + 10 (B's, a minute short of a month)
  = 410; 1: 100 (A, exactly a month later); 2: 100; 3: 0. Cumulative per customer 205, 255, 305, 305: payback 1.
- produtividade: D and E, spend 150, CAC 75. 0: 50 + 40 = 90; 1: 50. Cumulative 45, 70, 70, 70: never pays back.
- no campaign: G, no spend (CAC 0: payback None); 60 in period 0.
- lideres' 80 is unmatched: in no cohort.

Weekly cohorts, no breakdown (ISO weeks from Monday; 1 March 2025 is a Saturday):
- week of 24 Feb: E (local 1 March 00:00); spend of 1 March: 100; revenue 40 in week 0: 40 < 100, no payback.
- week of 3 March: A (5th), D (4th); spend 80 (lideres, 5th: without a breakdown every spend counts). Week 0:
  100 + 50 = 150 (75 a customer >= CAC 40: payback 1); A's 5 April and D's 4 April are 31 days later: week 4,
  100 + 50; A's 5 May is 61 days later: week 8. Weeks 0..14 exist (3 March + 15 weeks = 16 June > as_of).
- week of 10 March: G (16th, a Sunday); spend 150 (10th) + 200 (15th) = 350.
- week of 17 March: B; no spend.

Conversion per segment (leads of local March: A B C D F G; H merged, E and I earlier):
- first_touch_channel: paid_search 3 leads, 2 converted; organic_search 1/1 (F converted in April); paid_social
  1/1; none (G) 1/1. Total 6 leads, 5 converted.
- first_touch_source: google 4 (A B C F) / 3; facebook 1/1; none 1/1.
- city: São Paulo 2/2; none 2/2 (D's empty text and F's NULL); Campinas 1/0; Rio de Janeiro 1/1.
- attribute:plan: none 3/3 (D F G); equipe 2/1 (A C); starter 1/1.
- attribute:trial: none 3/2 (C D F); true 2/2 (A G); false 1/1 (B).
- attribute:seats: none 5/4; 5 1/1 (a number read as text).
"""

from __future__ import annotations

from datetime import date

import pytest

from pulso.config import Settings
from pulso.metrics.acquisition import (
    CohortParams,
    CohortResult,
    ConversionParams,
    acquisition_cohorts,
    conversion_rate,
)
from pulso.metrics.filters import Filters
from pulso.store.session import tenant_session
from tests.metrics.helpers import TZ, seeded_tenant
from tests.metrics.test_revenue import AS_OF, MARCH, seed


@pytest.fixture
def tenant(any_settings: Settings) -> int:
    return seeded_tenant(seed)[0]


def cohorts(tenant_id: int, **options: object) -> CohortResult:
    with tenant_session(tenant_id) as session:
        return acquisition_cohorts(session, CohortParams(MARCH, TZ, as_of=AS_OF, **options))  # type: ignore[arg-type]


def test_monthly_cohorts_per_campaign(tenant: int) -> None:
    result = cohorts(tenant, breakdown="campaign")
    found = {(c.start, c.key): c for c in result.cohorts}
    assert list(found) == [(date(2025, 3, 1), "gestao"), (date(2025, 3, 1), "produtividade"), (date(2025, 3, 1), None)]
    gestao = found[(date(2025, 3, 1), "gestao")]
    assert (gestao.customers, gestao.spend, gestao.cac, gestao.payback_periods) == (2, 300.0, 150.0, 1)
    assert [p.revenue for p in gestao.points] == [410.0, 100.0, 100.0, 0.0]
    assert [p.cumulative_revenue_per_customer for p in gestao.points] == [205.0, 255.0, 305.0, 305.0]
    assert [p.complete for p in gestao.points] == [True, True, False, False]
    social = found[(date(2025, 3, 1), "produtividade")]
    assert (social.customers, social.cac, social.payback_periods) == (2, 75.0, None)
    assert [p.cumulative_revenue_per_customer for p in social.points] == [45.0, 70.0, 70.0, 70.0]
    none = found[(date(2025, 3, 1), None)]
    assert (none.customers, none.spend, none.cac, none.payback_periods) == (1, 0.0, 0.0, None)
    assert none.points[0].revenue == 60.0
    assert result.unmatched_spend == 80.0 and "whole months" in result.definitions["period"]


def test_weekly_cohorts_without_breakdown(tenant: int) -> None:
    found = {c.start: c for c in cohorts(tenant, period="week").cohorts}
    assert list(found) == [date(2025, 2, 24), date(2025, 3, 3), date(2025, 3, 10), date(2025, 3, 17)]
    first = found[date(2025, 2, 24)]
    assert (first.customers, first.spend, first.points[0].revenue, first.payback_periods) == (1, 100.0, 40.0, None)
    third = found[date(2025, 3, 3)]
    assert (third.customers, third.spend, third.cac, third.payback_periods) == (2, 80.0, 40.0, 1)
    assert len(third.points) == 15
    assert [p.period for p in third.points if p.revenue] == [0, 4, 8]
    assert [p.revenue for p in third.points if p.revenue] == [150.0, 150.0, 100.0]
    assert third.points[8].cumulative_revenue_per_customer == 200.0
    assert (found[date(2025, 3, 10)].spend, found[date(2025, 3, 17)].spend) == (350.0, 0.0)


def test_cohorts_follow_the_filters(tenant: int) -> None:
    only = cohorts(tenant, breakdown="channel", filters=Filters(channels=("paid_social",)))
    assert [(c.key, c.customers, c.spend) for c in only.cohorts] == [("paid_social", 2, 150.0)]
    assert only.unmatched_spend == 0.0


def segments(tenant_id: int, segment: str) -> list[tuple[str | None, int, int]]:
    with tenant_session(tenant_id) as session:
        result = conversion_rate(session, ConversionParams(MARCH, TZ, segment=segment))
    assert (result.total.leads, result.total.converted) == (6, 5)
    return [(row.key, row.leads, row.converted) for row in result.rows]


def test_conversion_per_segment(tenant: int) -> None:
    assert segments(tenant, "first_touch_channel") == [
        ("paid_search", 3, 2), ("organic_search", 1, 1), ("paid_social", 1, 1), (None, 1, 1),
    ]  # fmt: skip
    assert segments(tenant, "first_touch_source") == [("google", 4, 3), ("facebook", 1, 1), (None, 1, 1)]
    assert segments(tenant, "city") == [("São Paulo", 2, 2), (None, 2, 2), ("Campinas", 1, 0), ("Rio de Janeiro", 1, 1)]
    assert segments(tenant, "first_touch_campaign") == [("gestao", 3, 2), (None, 2, 2), ("produtividade", 1, 1)]


def test_conversion_per_attribute(tenant: int) -> None:
    assert segments(tenant, "attribute:plan") == [(None, 3, 3), ("equipe", 2, 1), ("starter", 1, 1)]
    assert segments(tenant, "attribute:trial") == [(None, 3, 2), ("true", 2, 2), ("false", 1, 1)]
    assert segments(tenant, "attribute:seats") == [(None, 5, 4), ("5", 1, 1)]


def test_conversion_rate_and_filters(tenant: int) -> None:
    with tenant_session(tenant) as session:
        result = conversion_rate(session, ConversionParams(MARCH, TZ, filters=Filters(campaigns=("gestao",))))
    assert [(r.key, r.leads, r.converted) for r in result.rows] == [("paid_search", 3, 2)]
    assert result.rows[0].rate == pytest.approx(2 / 3) and result.total.rate == pytest.approx(2 / 3)


def test_bad_parameters_say_what_is_wrong() -> None:
    with pytest.raises(ValueError, match="segment: must be one of first_touch_channel"):
        ConversionParams(MARCH, TZ, segment="inbox")
    with pytest.raises(ValueError, match="attribute:<key>"):
        ConversionParams(MARCH, TZ, segment="attribute:x'; drop")
    with pytest.raises(ValueError, match="period must be one of month, week"):
        CohortParams(MARCH, TZ, period="day")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="breakdown must be one of none, channel, campaign"):
        CohortParams(MARCH, TZ, breakdown="inbox")  # type: ignore[arg-type]
