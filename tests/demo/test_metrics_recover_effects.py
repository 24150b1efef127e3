"""The metrics engine finds the demo's planted effects (docs/demo-data.md) on a small seed: here the slow agent.

The effect tests (test_effects.py) measure the seeded rows directly; this one goes the product's way: the
per-conversation facts job, then the support-timing query object, as a dashboard or the API would.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from pulso.config import Settings
from pulso.demo.effects import SLOW_AGENT, SORRISO_AGENTS
from pulso.metrics.overview import DateRange
from pulso.metrics.support_timing import SlaThresholds, TimingParams, sla_compliance, support_timing
from pulso.pipeline.gold.conversation_facts import compute_conversation_facts
from pulso.store.engine import app_engine, dispose_engines
from pulso.store.models import Agent, Tenant
from pulso.store.session import platform_session, tenant_session
from tests.demo.helpers import END_DATE, SeededDemo, demo_copy


@pytest.fixture(scope="module")
def sorriso(tmp_path_factory: pytest.TempPathFactory, seeded: SeededDemo) -> Iterator[tuple[int, str, Any]]:
    """A copy of the session's small demo (tests/demo/conftest.py): the facts job writes to it."""
    settings: Settings = demo_copy(seeded, tmp_path_factory.mktemp("demo-metrics") / "data")
    engine = app_engine(settings)
    with platform_session(engine=engine) as session:
        tenant = session.scalars(select(Tenant).where(Tenant.slug == "sorriso")).one()
        tenant_id, timezone = tenant.id, tenant.timezone
    with tenant_session(tenant_id, engine=engine) as session:
        compute_conversation_facts(session)
    yield tenant_id, timezone, engine
    dispose_engines()


def test_support_timing_finds_the_slow_agent(sorriso: tuple[int, str, Any]) -> None:
    tenant_id, timezone, engine = sorriso
    whole = TimingParams(DateRange(date(2020, 1, 1), END_DATE), timezone, breakdown="agent")
    with tenant_session(tenant_id, engine=engine) as session:
        agents = {str(i): key for i, key in session.execute(select(Agent.id, Agent.external_id))}
        rows = support_timing(session, whole).rows["first_response"]
        sla = sla_compliance(session, whole, SlaThresholds())
    p95 = {agents[row.key]: row.p95 for row in rows if row.key is not None and agents[row.key] in _humans()}
    assert set(p95) == _humans()
    slow = p95[SLOW_AGENT]
    assert all(slow > 3 * value for agent, value in p95.items() if agent != SLOW_AGENT and value), p95
    truth = {a.external_id: a.p95_first_response_seconds for a in SORRISO_AGENTS}
    for agent, value in p95.items():  # each within 35% of its log-normal's P95, as test_effects.py allows
        assert value == pytest.approx(truth[agent], rel=0.35), agent
    compliance = {agents[r.key]: r.compliance for r in sla.rows["first_response"] if r.key in agents}
    assert compliance[SLOW_AGENT] == min(v for k, v in compliance.items() if k in _humans() and v is not None)


def _humans() -> set[str]:
    """The human agents: first response is the first human reply, so the bot (which answers at once) has none."""
    return {a.external_id for a in SORRISO_AGENTS if a.kind == "human"}
