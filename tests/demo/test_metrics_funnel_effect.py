"""The funnel query object finds the demo's planted funnel (effect 2, docs/demo-data.md) on a small seed.

The demo writes InsightOS's events straight into silver ``events`` (identity-resolved: ``contact_id`` on every event
of a signed-up visitor), so the funnel reads them as the product would after the silver job. Signups from the
first day of the history to 31 days before its end, with a 30-day window, so that every counted signup had time
to go through the trial (subscription at trial end, 5-16 days after signup).
"""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from pulso.demo.effects import FUNNEL_STEP_PROBABILITIES, FUNNEL_STEPS, LARGEST_DROP
from pulso.metrics.funnels import FunnelParams, FunnelStep, dropped, funnel
from pulso.metrics.overview import DateRange
from pulso.store.engine import app_engine
from pulso.store.models import Tenant
from pulso.store.session import platform_session, tenant_session
from tests.demo.helpers import END_DATE, SeededDemo

RANGE = DateRange(END_DATE - timedelta(days=182), END_DATE - timedelta(days=31))


@pytest.fixture(scope="module")
def insightos(seeded: SeededDemo) -> tuple[int, str, Any]:
    """The session's small demo (tests/demo/conftest.py), read only."""
    engine = app_engine(seeded.settings)
    with platform_session(engine=engine) as session:
        tenant = session.scalars(select(Tenant).where(Tenant.slug == "insightos")).one()
        return tenant.id, tenant.timezone, engine


def test_the_funnel_finds_the_largest_drop_at_verified_to_project_created(insightos: tuple[int, str, Any]) -> None:
    tenant_id, timezone, engine = insightos
    steps = tuple(FunnelStep(name) for name in FUNNEL_STEPS)
    params = FunnelParams(
        RANGE, timezone, steps, conversion_window=timedelta(days=30), breakdown="first_touch_campaign"
    )
    with tenant_session(tenant_id, engine=engine) as session:
        result = funnel(session, params)
        lost = dropped(session, params, 2, limit=5)
    rates = [step.conversion_from_previous for step in result.total.steps[1:]]
    assert result.total.steps[0].count > 500  # ~840 signups in the small demo's first five months
    lowest = min(range(len(rates)), key=lambda i: rates[i] or 0.0)
    assert (FUNNEL_STEPS[lowest], FUNNEL_STEPS[lowest + 1]) == LARGEST_DROP
    for (a, b), rate, truth in zip(itertools.pairwise(FUNNEL_STEPS), rates, FUNNEL_STEP_PROBABILITIES, strict=True):
        # ~250 users reach the last step: 0.08 is about three standard errors, as test_effects.py allows
        assert rate is not None and abs(rate - truth) < 0.08, (a, b, rate)
    # the first-touch campaign groups (top 10 + the rest) add up to everyone
    assert result.breakdown and sum(s.steps[0].count for s in result.breakdown) == result.total.steps[0].count
    assert len(lost.people) == 5 and all(p.contact_id is not None for p in lost.people)
