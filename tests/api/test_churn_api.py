"""``GET /api/v1/analytics/churn-risk`` over HTTP with read API keys, on SQLite and PostgreSQL.

Tenant T holds two scoring runs written by hand (the scoring itself is tested in tests/ml/test_churn.py):
the latest, at NOW, of customers c0..c5 with (churn risk, P(alive), value to date):

    c0 (0.9, 0.2, 100)  c1 (0.8, 0.5, 1000)  c2 (0.6, -, 500)  c3 (0.4, 0.9, 2000)  c4 (0.2, 0.95, 50)  c5 (0.7, 0.1, 0)

so value at risk = 90, 800, 300, 800, 10, 0; and one a day earlier, of c0 (0.5) and c6 (0.3), who is no longer a
current customer. By risk: c0 c1 c5 c2 c3 c4; by value at risk: c1 c3 (tie, lower id first) c2 c0 c4 c5; by
P(alive): c5 c0 c1 c3 c4, then c2 (missing last). Tenant U holds three scores of its own; each key sees its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pulso.api.app import create_app
from pulso.config import Settings
from pulso.security.api_keys import create_key
from pulso.store.models import ChurnScore, Contact, ModelVersion
from pulso.store.session import platform_session, tenant_session
from pulso.tenancy.service import create_tenant
from tests.api.fuzz import assert_never_5xx

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
EARLIER = NOW - timedelta(days=1)
LATEST = [(0.9, 0.2, 100.0), (0.8, 0.5, 1000.0), (0.6, None, 500.0), (0.4, 0.9, 2000.0), (0.2, 0.95, 50.0),
          (0.7, 0.1, 0.0)]  # fmt: skip
REASON = {"column": "recency_days", "text": "No purchase for 210 days (raises)", "log_odds": 1.2, "direction": "raises"}


def seed_scores(
    tenant: int, latest: list[tuple[float, float | None, float]], earlier: list[tuple[int, float]]
) -> list[int]:
    """Contacts c0..cN, the latest run's scores in order, and earlier ones as (contact index, risk)."""
    with tenant_session(tenant) as session:
        model = ModelVersion(kind="churn", version="v1", code_version="test", data_hash="h", is_active=True)
        contacts = [Contact(name=f"c{n}") for n in range(len(latest) + 1)]
        session.add_all([model, *contacts])
        session.flush()
        ids = [c.id for c in contacts]

        def score(n: int, risk: float, p_alive: float | None, value: float, at: datetime) -> ChurnScore:
            return ChurnScore(tenant_id=tenant, contact_id=ids[n], model_version_id=model.id, churn_risk=risk,
                              p_alive=p_alive, total_value=value, reasons=[REASON],
                              last_purchase_at=NOW - timedelta(days=210), scored_at=at)  # fmt: skip

        session.add_all(score(n, *row, NOW) for n, row in enumerate(latest))
        session.add_all(score(n, risk, 0.5, 10.0, EARLIER) for n, risk in earlier)
    return ids


@pytest.fixture
def world(any_settings: Settings) -> Iterator[dict[str, Any]]:
    with platform_session() as session:
        t = create_tenant(session, slug="t", name="T").id
        u = create_tenant(session, slug="u", name="U").id
        keys = {
            "t": create_key(session, tenant_id=t, kind="read")[1],
            "u": create_key(session, tenant_id=u, kind="read")[1],
            "write": create_key(session, tenant_id=t, kind="write")[1],
        }
    ids = seed_scores(t, LATEST, [(0, 0.5), (6, 0.3)])
    u_ids = seed_scores(u, [(0.9, 0.2, 10.0)] * 3, [])[:3]
    with TestClient(create_app(any_settings)) as client:
        yield {"client": client, "keys": keys, "ids": ids, "u_ids": u_ids}


def get(world: dict[str, Any], key: str = "t", **params: Any) -> Any:
    headers = {"Authorization": f"Bearer {world['keys'][key]}"}
    return world["client"].get("/api/v1/analytics/churn-risk", params=params, headers=headers)


def names(body: dict[str, Any]) -> list[str]:
    return [c["name"] for c in body["customers"]]


def test_ranked_list_sorts_pages_and_one_customer(world: dict[str, Any]) -> None:
    response = get(world)
    assert response.status_code == 200
    body = response.json()
    assert (body["total"], body["limit"], body["offset"], body["sort"], body["min_risk"]) == (6, 50, 0, "risk", 0.0)
    assert body["scored_at"] == "2026-03-01T12:00:00+00:00" and "value_at_risk" in body["definitions"]
    assert names(body) == ["c0", "c1", "c5", "c2", "c3", "c4"]
    assert body["customers"][0] == {
        "contact_id": world["ids"][0], "name": "c0", "churn_risk": 0.9, "p_alive": 0.2,
        "value_at_risk": pytest.approx(90.0), "total_value": 100.0, "last_purchase_at": "2025-08-03T12:00:00+00:00",
        "reasons": [REASON], "model_version": "v1", "scored_at": "2026-03-01T12:00:00+00:00",
    }  # fmt: skip
    assert names(get(world, sort="value_at_risk").json()) == ["c1", "c3", "c2", "c0", "c4", "c5"]
    assert names(get(world, sort="p_alive").json()) == ["c5", "c0", "c1", "c3", "c4", "c2"]
    page = get(world, limit=2, offset=1).json()
    assert (page["total"], names(page)) == (6, ["c1", "c5"])
    risky = get(world, min_risk=0.6).json()
    assert (risky["total"], names(risky)) == (4, ["c0", "c1", "c5", "c2"])

    one = get(world, contact_id=world["ids"][0]).json()
    assert one["customer"]["churn_risk"] == 0.9
    assert [(h["scored_at"][:10], h["churn_risk"]) for h in one["history"]] == [
        ("2026-03-01", 0.9),
        ("2026-02-28", 0.5),
    ]
    gone = get(world, contact_id=world["ids"][6]).json()  # not in the latest run: its last score, dated
    assert (gone["customer"]["churn_risk"], gone["customer"]["scored_at"][:10]) == (0.3, "2026-02-28")


def test_errors_and_keys(world: dict[str, Any]) -> None:
    for params, status, text in (
        ({"limit": 0}, 400, "limit: between 1 and 1000, got 0"),
        ({"offset": -5}, 400, "offset: between 0 and 1000000000, got -5"),
        ({"min_risk": 1.2}, 400, "min_risk: a probability between 0 and 1, got 1.2"),
        ({"sort": "clv"}, 400, "sort: must be one of risk, value_at_risk, p_alive, got 'clv'"),
        ({"offset": 10**20}, 400, "offset: between 0 and 1000000000, got 100000000000000000000"),
        ({"contact_id": 0}, 400, "contact_id: a positive contact id, got 0"),
        ({"contact_id": 2**63}, 400, "contact_id: a positive contact id, got 9223372036854775808"),
        ({"contact_id": 999_999}, 404, "contact_id: 999999 has no churn score"),
    ):
        response = get(world, **params)
        assert (response.status_code, response.json()["message"][: len(text)]) == (status, text)
    assert get(world, limit="many").status_code == 422
    client = world["client"]
    assert client.get("/api/v1/analytics/churn-risk").status_code == 401
    assert get(world, key="write").status_code == 401


def test_each_key_sees_its_own_tenant(world: dict[str, Any]) -> None:
    mine = get(world, key="u").json()
    assert mine["total"] == 3 and {c["contact_id"] for c in mine["customers"]} == set(world["u_ids"])
    assert get(world, key="u", contact_id=world["ids"][0]).status_code == 404
    assert get(world, key="t", contact_id=world["u_ids"][0]).status_code == 404
    theirs = get(world, key="t", limit=1000).json()["customers"]
    assert not {c["contact_id"] for c in theirs} & set(world["u_ids"])


@pytest.mark.slow
def test_never_answers_5xx(sqlite_settings: Settings) -> None:
    """Schemathesis on the app's own OpenAPI schema (as tests/api/test_revenue_fuzz.py)."""
    with platform_session() as session:
        tenant = create_tenant(session, slug="t", name="T").id
        key = create_key(session, tenant_id=tenant, kind="read")[1]
    seed_scores(tenant, LATEST, [(0, 0.5)])
    assert_never_5xx(sqlite_settings, "^/api/v1/analytics/churn-risk$", key, operations=1, examples=25)
