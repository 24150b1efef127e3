"""``/api/v1/analytics/lead-score`` over HTTP with real read keys, on SQLite and PostgreSQL.

Tenant T holds the 150 leads of tests/ml/activity_seed.py, trained and scored by the score updater, then scored
once more by ``pulso score leads``' service (so every open lead has two scores); tenant U holds the same rows and
no scores."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from pulso.api.app import create_app
from pulso.config import Settings
from pulso.ml.leads.activity import score_open_leads
from pulso.ml.leads.updater import update_lead_scores
from pulso.security.api_keys import create_key
from pulso.store.models import LeadScore, ModelVersion
from pulso.store.session import platform_session, tenant_session
from pulso.store.types import utcnow
from pulso.tenancy.service import get_tenant
from tests.metrics.helpers import seeded_tenant
from tests.ml.activity_seed import open_leads, seed_leads

N = 150
OPEN = open_leads(N, horizon_days=90)


@pytest.fixture
def world(any_settings: Settings) -> Iterator[dict[str, Any]]:
    tenant_id, ids = seeded_tenant(partial(seed_leads, now=utcnow(), n=N))
    with tenant_session(tenant_id) as session:
        update_lead_scores(session)
        score_open_leads(session)
    with tenant_session(tenant_id) as session:
        version = session.scalars(select(ModelVersion)).one()
        latest = {row.contact_id: row.score for row in session.scalars(select(LeadScore).order_by(LeadScore.id))}
        thresholds = (version.metrics["grades"], version.metrics["quartile_cuts"])
    with platform_session() as session:
        keys = {slug: create_key(session, tenant_id=get_tenant(session, slug).id, kind="read")[1] for slug in "tu"}
    with TestClient(create_app(any_settings)) as client:
        yield {"client": client, "keys": keys, "ids": ids, "latest": latest, "thresholds": thresholds}


def get(world: dict[str, Any], key: str = "t", **params: Any) -> Any:
    headers = {"Authorization": f"Bearer {world['keys'][key]}"} if key else {}
    return world["client"].get("/api/v1/analytics/lead-score", params=params, headers=headers)


def test_one_lead(world: dict[str, Any]) -> None:
    lead = world["ids"]["lead9"]  # open, by referral
    body = get(world, lead_id=lead).json()
    grades, cuts = world["thresholds"]
    score = world["latest"][lead]
    assert (body["lead_id"], body["name"], body["open"], body["score"]) == (lead, "Lead 9", True, score)
    expected_grade = "A" if score >= grades["a"] else "C" if score < grades["c"] else "B"
    assert (body["grade"], body["grade_name"]) == (
        expected_grade,
        {"A": "Alto", "B": "Médio", "C": "Baixo"}[body["grade"]],
    )
    assert body["tier"] == 1 + sum(score < cut for cut in cuts)
    assert "Came through referral (raises)" in [r["text"] for r in body["reasons"]["raises"]]
    assert all(r["log_odds"] < 0 for r in body["reasons"]["lowers"])
    assert (body["model"]["version"], body["model"]["source"]) == ("v1", "activity")
    assert [h["version"] for h in body["history"]] == ["v1", "v1"]
    assert body["history"][-1]["scored_at"] == body["scored_at"] and body["history"][-1]["score"] == score


def test_ranked_open_leads(world: dict[str, Any]) -> None:
    body = get(world, limit=5).json()
    ids = {v: int(k.removeprefix("lead")) for k, v in world["ids"].items() if k.startswith("lead")}
    assert (body["total"], body["limit"], body["horizon_days"]) == (len(OPEN), 5, 90)
    listed = [lead["score"] for lead in body["leads"]]
    assert len(listed) == 5 and listed == sorted(listed, reverse=True)
    assert listed[0] == max(world["latest"][world["ids"][f"lead{i}"]] for i in OPEN)
    everyone = get(world, limit=1000).json()["leads"]
    assert sorted(ids[lead["lead_id"]] for lead in everyone) == OPEN  # converted and finished leads are not listed
    assert {"grade", "tier", "version", "reasons", "scored_at"} <= set(everyone[0])
    assert get(world).json()["limit"] == 50 and len(get(world).json()["leads"]) == 50


def test_errors_and_other_tenants(world: dict[str, Any]) -> None:
    lead = world["ids"]["lead9"]
    unknown = get(world, lead_id=10**9)
    assert unknown.status_code == 404 and unknown.json()["message"] == f"lead_id: no lead {10**9} in this tenant"
    converted = world["ids"]["lead6"]  # converted two days after its start: never open, never scored
    never = get(world, lead_id=converted)
    assert never.status_code == 404 and never.json()["message"].startswith(f"lead_id: lead {converted} has no score")
    for params in ({"lead_id": "abc"}, {"lead_id": 0}, {"lead_id": 2**63}, {"limit": 0}, {"limit": 1001}):
        assert get(world, **params).status_code == 422, params
    assert get(world, key="", lead_id=lead).status_code == 401
    assert get(world, key="u", lead_id=lead).status_code == 404  # T's lead, asked with U's key
    assert get(world, key="u").json()["total"] == 0
    described = world["client"].get("/openapi.json").json()["paths"]["/api/v1/analytics/lead-score"]["get"]
    assert "quartile tier" in described["description"] and len(described["summary"]) > 20
