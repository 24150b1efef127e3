"""``/api/v1/analytics/clv`` over HTTP with read API keys, on SQLite and PostgreSQL: tenant T has a
gold.customer_value run of tests/ml/clv_tenant_data.py; tenant U holds the same orders but no run yet."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pulso.api.app import create_app
from pulso.config import Settings
from pulso.pipeline.gold.customer_value import build_customer_value
from pulso.security.api_keys import create_key
from pulso.store.session import platform_session, tenant_session
from pulso.tenancy.service import create_tenant
from tests.ml.clv_tenant_data import CUSTOMERS, NOW, seed_tenant


@pytest.fixture
def world(any_settings: Settings) -> Iterator[dict[str, Any]]:
    with platform_session() as session:
        t = create_tenant(session, slug="t", name="T", timezone="America/Sao_Paulo").id
        u = create_tenant(session, slug="u", name="U", timezone="America/Sao_Paulo").id
        keys = {
            "t": create_key(session, tenant_id=t, kind="read")[1],
            "u": create_key(session, tenant_id=u, kind="read")[1],
        }
    ids = {"t": seed_tenant(t), "u": seed_tenant(u)}
    with tenant_session(t) as session:
        build_customer_value(session, None, now=NOW)
    with TestClient(create_app(any_settings)) as client:
        yield {"client": client, "keys": keys, "ids": ids}


def get(world: dict[str, Any], key: str = "t", **params: Any) -> Any:
    headers = {"Authorization": f"Bearer {world['keys'][key]}"}
    return world["client"].get("/api/v1/analytics/clv", params=params, headers=headers)


def test_customers_highest_first_in_pages(world: dict[str, Any]) -> None:
    body = get(world, limit=1000).json()
    assert body["total"] == CUSTOMERS and len(body["customers"]) == CUSTOMERS
    clv = [c["clv"] for c in body["customers"]]
    assert clv == sorted(clv, reverse=True)
    assert body["run"]["computed_at"] == NOW.isoformat() and body["run"]["horizon_days"] == 365
    model = body["run"]["model"]
    assert (model["kind"], model["version"], model["params"]["time_unit"]) == ("clv", "v1", "D")
    assert set(model["params"]["bgnbd"]) == {"r", "alpha", "a", "b"} and model["metrics"]["customers"] == CUSTOMERS
    assert set(body["definitions"]) >= {"clv", "p_alive", "expected_purchases"}
    page = get(world, limit=3, offset=2).json()
    assert (page["limit"], page["offset"], page["total"]) == (3, 2, CUSTOMERS)
    assert page["customers"] == body["customers"][2:5]
    assert set(page["customers"][0]) == {
        "contact_id", "name", "first_touch_channel", "first_touch_campaign", "clv", "p_alive", "expected_purchases",
    }  # fmt: skip


def test_one_customer(world: dict[str, Any]) -> None:
    contact = world["ids"]["t"][4]  # customer 4: channel meta (4 % 3), campaign gestao (even)
    body = get(world, contact_id=contact).json()
    [customer] = body["customers"]
    assert (customer["contact_id"], customer["first_touch_channel"], customer["first_touch_campaign"]) == (
        contact, "meta", "gestao",
    )  # fmt: skip
    everyone = {c["contact_id"]: c for c in get(world, limit=1000).json()["customers"]}
    assert customer == everyone[contact]


def test_per_channel_campaign_and_segment(world: dict[str, Any]) -> None:
    everyone = get(world, limit=1000).json()["customers"]
    for by in ("channel", "campaign", "segment"):
        body = get(world, by=by).json()
        assert body["by"] == by and body["run"]["model"]["version"] == "v1"
        assert sum(row["customers"] for row in body["rows"]) == body["total"]["customers"] == CUSTOMERS
        assert body["total"]["clv_total"] == pytest.approx(sum(c["clv"] for c in everyone), rel=1e-9)
        assert body["total"]["key"] == "(total)"
    channels = {row["key"]: row for row in get(world, by="channel").json()["rows"]}
    google = [c for c in everyone if c["first_touch_channel"] == "google"]
    assert channels["google"]["customers"] == len(google) == 14
    assert channels["google"]["clv_total"] == pytest.approx(sum(c["clv"] for c in google), rel=1e-9)
    assert channels["google"]["p_alive_mean"] == pytest.approx(sum(c["p_alive"] for c in google) / 14, rel=1e-9)


def test_csv(world: dict[str, Any]) -> None:
    response = get(world, by="campaign", format="csv")
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["campaign", "customers", "clv_total", "clv_mean", "p_alive_mean", "expected_purchases_total",
                       "expected_purchases_mean"]  # fmt: skip
    assert {row[0] for row in rows[1:]} == {"gestao", "(none)", "(total)"} and rows[-1][:2] == ["(total)", "40"]
    customers = list(csv.reader(io.StringIO(get(world, format="csv", limit=2).text)))
    assert customers[0][:2] == ["contact_id", "name"] and len(customers) == 3


def test_the_other_tenant_sees_nothing_of_t(world: dict[str, Any]) -> None:
    body = get(world, key="u").json()
    assert (body["run"], body["total"], body["customers"]) == (None, 0, [])
    assert body["note"].startswith("no lifetime value computed yet")
    assert get(world, key="u", by="segment").json()["rows"] == []
    t_customer = world["ids"]["t"][0]
    response = get(world, key="u", contact_id=t_customer)
    assert response.status_code == 404 and response.json()["message"].startswith("contact_id: no lifetime value")
    u_customer = world["ids"]["u"][0]  # U's own contact, unknown to T's run
    assert get(world, contact_id=u_customer).status_code == 404


BAD = [
    ({"by": "city"}, "by: must be one of channel, campaign, segment, got 'city'"),
    ({"by": "channel", "contact_id": 1}, "contact_id: not with by (a breakdown sums every customer)"),
    ({"limit": 0}, "limit: must be between 1 and 1000, got 0"),
    ({"limit": 1001}, "limit: must be between 1 and 1000, got 1001"),
    ({"offset": -1}, "offset: must be between 0 and 1000000000, got -1"),
    ({"format": "xml"}, "format: must be one of json, csv, got 'xml'"),
]


def test_bad_requests_say_what_is_wrong(any_settings: Settings) -> None:
    """No data needed: the parameters are refused before any is read."""
    with platform_session() as session:
        tenant_id = create_tenant(session, slug="t", name="T", timezone="America/Sao_Paulo").id
        key = create_key(session, tenant_id=tenant_id, kind="read")[1]
    with TestClient(create_app(any_settings)) as client:
        for params, message in BAD:
            response = client.get("/api/v1/analytics/clv", params=params, headers={"Authorization": f"Bearer {key}"})
            assert (response.status_code, response.json()["message"]) == (400, message), params
        malformed = client.get(  # not a 64-bit id
            "/api/v1/analytics/clv", params={"contact_id": 2**63}, headers={"Authorization": f"Bearer {key}"}
        )
        assert malformed.status_code == 422
        assert client.get("/api/v1/analytics/clv").status_code == 401
        wrong = client.get("/api/v1/analytics/clv", headers={"Authorization": "Bearer pk_read_nope"})
        assert wrong.status_code == 401
        operation = client.get("/openapi.json").json()["paths"]["/api/v1/analytics/clv"]["get"]
        assert "docs/models.md" in operation["description"]
