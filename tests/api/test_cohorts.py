"""Cohorts and segments over HTTP with read API keys, on SQLite and PostgreSQL.

Tenant T holds the retention month of tests/metrics/test_retention.py, tenant U the ten RFM customers of
tests/metrics/test_rfm.py: each key sees its own tenant's numbers only.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pulso.api.app import create_app
from pulso.config import Settings
from pulso.security.api_keys import create_key
from pulso.store.session import platform_session
from pulso.tenancy.service import create_tenant
from tests.metrics import test_retention, test_rfm


@pytest.fixture
def world(any_settings: Settings) -> Iterator[dict[str, Any]]:
    with platform_session() as session:
        t = create_tenant(session, slug="t", name="T", timezone="America/Sao_Paulo").id
        u = create_tenant(session, slug="u", name="U", timezone="America/Sao_Paulo").id
        keys = {
            "t": create_key(session, tenant_id=t, kind="read")[1],
            "u": create_key(session, tenant_id=u, kind="read")[1],
        }
    test_retention.seed(t)
    test_rfm.seed(u)
    with TestClient(create_app(any_settings)) as client:
        yield {"client": client, "keys": keys}


def get(world: dict[str, Any], path: str, key: str = "t", **params: Any) -> Any:
    headers = {"Authorization": f"Bearer {world['keys'][key]}"}
    return world["client"].get(f"/api/v1/analytics/{path}", params=params, headers=headers)


def rows_of(response: Any) -> list[list[str]]:
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.text)))


def test_retention_json_and_csv(world: dict[str, Any]) -> None:
    week = {"start": "2025-03-03", "end": "2025-03-16", "max_period": 2}
    body = get(world, "retention", **week).json()
    assert [(c["cohort"], c["size"], c["retained"]) for c in body["cohorts"]] == [
        ("2025-03-03", 2, [2, 2, 0]),
        ("2025-03-10", 2, [2, 0, 1]),
    ]
    assert [cell["rate"] for cell in body["average"]] == [1.0, 0.5, 0.25]
    assert body["start_action"] == body["return_action"] == "order" and body["range"]["timezone"] == "America/Sao_Paulo"
    recurring = get(world, "retention", type="recurring", **week).json()
    assert [c["size"] for c in recurring["cohorts"]] == [3, 4]
    messages = get(world, "retention", return_action="message", **week).json()
    assert (
        messages["cohorts"][0]["retained"] == [0, 0, 1]
        and "incoming message" in messages["definitions"]["return_action"]
    )
    table = rows_of(get(world, "retention", format="csv", **week))
    assert table[0] == ["cohort", "size", "period", "retained", "rate"]
    assert table[1] == ["2025-03-03", "2", "0", "2", "1.0"] and table[-1] == ["average", "4", "2", "1", "0.25"]
    assert [c["size"] for c in get(world, "retention", key="u", **week).json()["cohorts"]] != [2, 2]


def test_rfm_for_the_keys_tenant_only(world: dict[str, Any]) -> None:
    body = get(world, "rfm", key="u", as_of="2025-03-31").json()
    assert body["customers"] == 10 and body["as_of"] == "2025-03-31" and body["end_utc"].startswith("2025-04-01T03:00")
    segments = {s["segment"]: s for s in body["segments"]}
    assert (segments["About to Sleep"]["customers"], segments["About to Sleep"]["revenue"]) == (2, 600.0)
    assert body["grid"]["R5"]["FM1"] == "New Customers" and "RANK()" in body["definitions"]["scores"]
    assert get(world, "rfm", as_of="2025-03-31").json()["customers"] == 5  # T: the five retention customers
    table = rows_of(get(world, "rfm", key="u", as_of="2025-03-31", format="csv"))
    assert table[0][:3] == ["segment", "customers", "revenue"] and table[1][:2] == ["Champions", "1"]


def test_rfm_customer_pages(world: dict[str, Any]) -> None:
    page = get(world, "rfm/customers", key="u", as_of="2025-03-31", limit=3, offset=1).json()
    assert page["total"] == 10 and [c["name"] for c in page["customers"]] == ["c2", "c7", "c10"]
    sleepy = get(world, "rfm/customers", key="u", as_of="2025-03-31", segment="About to Sleep").json()
    assert sleepy["total"] == 2 and {c["name"] for c in sleepy["customers"]} == {"c5", "c6"}
    table = rows_of(get(world, "rfm/customers", key="u", as_of="2025-03-31", limit=1, format="csv"))
    assert table == [
        ["contact_id", "name", "recency", "frequency", "monetary", "r", "f", "m", "fm", "segment"],
        [table[1][0], "c1", "0", "5", "1000.0", "5", "5", "5", "5", "Champions"],
    ]


def test_seasonal_index_and_procedure_trends(world: dict[str, Any]) -> None:
    # T: 11 completed orders in local March 2025 (10 with a contact, 1 without), 1 in February, all of 100.
    body = get(world, "seasonal-index", as_of="2025-03-15", baseline="previous_periods", baseline_periods=1).json()
    assert body["current_period"] == "2025-03-01" and body["baseline_period_starts"] == ["2025-02-01"]
    assert (body["total"]["current_orders"], body["total"]["baseline_orders"], body["total"]["index"]) == (
        11,
        1.0,
        1100.0,
    )
    seasonal_csv = rows_of(get(world, "seasonal-index", as_of="2025-03-15", format="csv"))
    assert seasonal_csv[0][-1] == "index" and seasonal_csv[-1][0] == "(all)"
    trends = get(world, "procedure-trends", start="2025-03-01", end="2025-03-31").json()
    assert trends["periods"] == ["2025-03-01"] and trends["range"]["end"] == "2025-03-31"
    (product,) = trends["products"]
    assert (product["orders"], product["revenue"], product["periods"][0]["change"]) == (11, 1100.0, 10.0)
    assert trends["growing"] == [{"product": None, "last_change": 1000.0}] and trends["declining"] == []
    trends_csv = rows_of(get(world, "procedure-trends", start="2025-03-01", end="2025-03-31", format="csv"))
    assert trends_csv == [
        ["product", "period", "orders", "revenue", "change"],
        ["", "2025-03-01", "11", "1100.0", "10.0"],
    ]


def test_active_users_and_playbook(world: dict[str, Any]) -> None:
    # T on 03-03: p1's order; on 03-04: p1's 'login' event and p2's order. Trailing 30 days add p2's 02-20 order.
    body = get(world, "active-users", start="2025-03-03", end="2025-03-04").json()
    assert [(d["day"], d["dau"], d["mau"]) for d in body["days"]] == [("2025-03-03", 1, 2), ("2025-03-04", 2, 2)]
    assert body["stickiness"] == 0.75 and "incoming message" in body["definitions"]["active"]
    table = rows_of(get(world, "active-users", start="2025-03-03", end="2025-03-04", format="csv"))
    assert table[1] == ["2025-03-03", "1", "2", "0.5"]
    other = get(world, "active-users", key="u", start="2025-03-03", end="2025-03-04").json()
    assert [d["dau"] for d in other["days"]] == [2, 0]  # U: c1's and c5's earlier orders fall on 03-03
    playbook = get(world, "playbook", start="2025-03-01", end="2025-03-31").json()
    assert playbook["actions"] == {"CONVERT": 0, "PUSH": 0, "NURTURE": 0, "DISCARD": 0}  # T has no insights
    assert {"intent_group": "purchase", "band": "high", "action": "CONVERT"} in playbook["rules"]
    assert rows_of(get(world, "playbook", format="csv"))[0] == [
        "action",
        "contact_id",
        "name",
        "intent",
        "score",
        "band",
    ]


@pytest.mark.parametrize(
    ("path", "params", "message"),
    [
        ("retention", {"period": "year"}, "period: must be one of day, week, month, got 'year'"),
        ("retention", {"type": "sometimes"}, "type: must be one of first_time, recurring, got 'sometimes'"),
        (
            "retention",
            {"start_action": "pageview"},
            "start_action: must be order, message or event:<name>, got 'pageview'",
        ),
        (
            "retention",
            {"return_action": "event:"},
            "return_action: event actions are written event:<name>, got 'event:'",
        ),
        ("retention", {"max_period": 99}, "max_period: must be between 0 and 60, got 99"),
        ("retention", {"start": "2025-02-30"}, "start: not a date (YYYY-MM-DD): '2025-02-30'"),
        ("rfm", {"as_of": "yesterday"}, "as_of: not a date (YYYY-MM-DD): 'yesterday'"),
        (
            "rfm/customers",
            {"segment": "Whales"},
            "segment: must be one of " + ", ".join(test_rfm.SEGMENTS) + ", got 'Whales'",
        ),
        ("rfm/customers", {"limit": 0}, "limit: must be between 1 and 1000, got 0"),
        (
            "seasonal-index",
            {"baseline": "last_year"},
            "baseline: must be one of previous_years, previous_periods, got 'last_year'",
        ),
        ("seasonal-index", {"baseline_periods": 0}, "baseline_periods: must be between 1 and 52, got 0"),
        ("procedure-trends", {"measure": "profit"}, "measure: must be one of orders, revenue, got 'profit'"),
        ("procedure-trends", {"period": "day"}, "period: must be one of week, month, got 'day'"),
        ("active-users", {"format": "xml"}, "format: must be one of json, csv, got 'xml'"),
        ("playbook", {"limit": -1}, "limit: must be between 0 and 1000, got -1"),
        (
            "playbook",
            {"status": "closed"},
            "status: must be one of open, resolved, pending, snoozed, got 'closed'",
        ),
    ],
)
def test_bad_parameters_say_what_is_wrong(
    world: dict[str, Any], path: str, params: dict[str, Any], message: str
) -> None:
    response = get(world, path, **params)
    assert response.status_code == 400
    assert response.json()["message"] == message


def test_a_read_key_is_required_and_openapi_documents_the_endpoints(world: dict[str, Any]) -> None:
    assert world["client"].get("/api/v1/analytics/rfm").status_code == 401
    paths = world["client"].get("/openapi.json").json()["paths"]
    for path in ("retention", "rfm", "rfm/customers", "seasonal-index", "procedure-trends", "active-users", "playbook"):
        operation = paths[f"/api/v1/analytics/{path}"]["get"]
        assert operation["summary"] and "docs/metrics.md" in operation["description"]
