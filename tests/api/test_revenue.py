"""``/api/v1/analytics`` revenue endpoints over HTTP with read API keys, on SQLite and PostgreSQL.

Tenant T holds the hand-built March of tests/metrics/test_revenue.py (its docstring works out every number); tenant
U holds nothing of it: U's key must see none of T's money, and T's key none of U's.
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
from tests.metrics import test_revenue

MARCH = {"start": "2025-03-01", "end": "2025-03-31"}


@pytest.fixture
def world(any_settings: Settings) -> Iterator[dict[str, Any]]:
    with platform_session() as session:
        t = create_tenant(session, slug="t", name="T", timezone="America/Sao_Paulo").id
        u = create_tenant(session, slug="u", name="U", timezone="America/Sao_Paulo").id
        keys = {
            "t": create_key(session, tenant_id=t, kind="read")[1],
            "u": create_key(session, tenant_id=u, kind="read")[1],
        }
    test_revenue.seed(t)
    with TestClient(create_app(any_settings)) as client:
        yield {"client": client, "keys": keys}


def get(world: dict[str, Any], path: str, key: str = "t", **params: Any) -> Any:
    headers = {"Authorization": f"Bearer {world['keys'][key]}"}
    return world["client"].get(f"/api/v1/analytics/{path}", params={**MARCH, **params}, headers=headers)


def rows_of(response: Any) -> list[list[str]]:
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.text)))


def test_roi_by_channel(world: dict[str, Any]) -> None:
    body = get(world, "roi-by-channel").json()
    rows = {row["key"]: row for row in body["rows"]}
    search = rows["paid_search"]
    assert (search["spend"], search["revenue"], search["cac"], search["ltv"], search["payback_months"]) == (
        300.0, 400.0, 150.0, 305.0, 1,
    )  # fmt: skip
    assert search["roi"] == pytest.approx(1 / 3)
    assert body["total"]["spend"] == 530.0 and body["unattributed_revenue"] == 25.0
    assert body["unmatched_spend"] == [
        {"channel": "linkedin_ads", "campaign": "lideres", "cost": 80.0, "matched": False, "first_touch_channel": None,
         "day": None}
    ]  # fmt: skip
    assert body["range"]["timezone"] == "America/Sao_Paulo" and "ltv" in body["definitions"]
    campaign = get(world, "roi-by-channel", breakdown="campaign", campaign="gestao").json()
    assert [row["key"] for row in campaign["rows"]] == ["gestao"] and campaign["filters"] == {"campaigns": ["gestao"]}


def test_the_other_tenant_sees_nothing(world: dict[str, Any]) -> None:
    other = get(world, "roi-by-channel", key="u").json()
    assert other["rows"] == [] and other["total"]["spend"] == 0.0 and other["unmatched_spend"] == []
    assert get(world, "revenue", key="u").json()["revenue"] == 0.0
    assert get(world, "acquisition-cohorts", key="u").json()["cohorts"] == []
    assert get(world, "conversion-rate", key="u").json()["total"]["leads"] == 0


def test_cohorts_conversion_and_revenue(world: dict[str, Any]) -> None:
    cohorts = get(world, "acquisition-cohorts", breakdown="campaign").json()["cohorts"]
    gestao = next(c for c in cohorts if c["key"] == "gestao")
    assert (gestao["start"], gestao["customers"], gestao["cac"]) == ("2025-03-01", 2, 150.0)
    assert gestao["points"][0]["cumulative_revenue_per_customer"] == 205.0
    conversion = get(world, "conversion-rate", segment="attribute:plan").json()
    assert conversion["rows"][1] == {"key": "equipe", "leads": 2, "converted": 1, "rate": 0.5}
    assert conversion["total"] == {"leads": 6, "converted": 5, "rate": 5 / 6}
    money = get(world, "revenue").json()
    assert (money["revenue"], money["orders"], money["paying_customers"], len(money["days"])) == (575.0, 6, 5, 31)
    assert money["days"][0] == {"day": "2025-03-01", "revenue": 40.0, "orders": 1}


def test_csv_exports(world: dict[str, Any]) -> None:
    roi = rows_of(get(world, "roi-by-channel", **{"format": "csv"}))
    assert roi[0][:4] == ["channel", "spend", "new_leads", "conversions"]
    assert [row[0] for row in roi[1:]] == [
        "organic_search", "paid_search", "paid_social", "", "(total)", "(unmatched spend: linkedin_ads / lideres)",
    ]  # fmt: skip
    assert roi[5][1] == "530.0"
    cohorts = rows_of(get(world, "acquisition-cohorts", **{"format": "csv"}))
    assert cohorts[0][:3] == ["cohort", "none", "customers"] and cohorts[1][:3] == ["2025-03-01", "", "5"]
    conversion = rows_of(get(world, "conversion-rate", segment="city", **{"format": "csv"}))
    assert conversion[0] == ["city", "leads", "converted", "rate"] and conversion[1] == ["São Paulo", "2", "2", "1.0"]
    days = rows_of(get(world, "revenue", **{"format": "csv"}))
    assert days[0] == ["day", "revenue", "orders"] and days[1] == ["2025-03-01", "40.0", "1"] and len(days) == 32


@pytest.mark.parametrize(
    ("path", "params", "message"),
    [
        ("roi-by-channel", {"breakdown": "inbox"}, "breakdown: must be one of channel, campaign, got 'inbox'"),
        ("roi-by-channel", {"format": "xml"}, "format: must be one of json, csv, got 'xml'"),
        ("acquisition-cohorts", {"period": "day"}, "period: must be one of month, week, got 'day'"),
        ("acquisition-cohorts", {"breakdown": "city"}, "breakdown: must be one of none, channel, campaign, got 'city'"),
        ("conversion-rate", {"segment": "inbox"}, "segment: must be one of first_touch_channel"),
        ("conversion-rate", {"segment": "attribute:"}, "segment: must be one of first_touch_channel"),
        ("revenue", {"end": "2025-02-30"}, "end: not a date (YYYY-MM-DD): '2025-02-30'"),
        ("revenue", {"status": "closed"}, "status: must be one of open, resolved, pending, snoozed"),
    ],
)
def test_bad_parameters_say_what_is_wrong(
    world: dict[str, Any], path: str, params: dict[str, str], message: str
) -> None:
    response = get(world, path, **params)
    assert response.status_code == 400
    assert response.json()["message"].startswith(message)


def test_openapi_states_the_definitions(world: dict[str, Any]) -> None:
    paths = world["client"].get("/openapi.json").json()["paths"]
    assert "ROI = (revenue - spend) / spend" in paths["/api/v1/analytics/roi-by-channel"]["get"]["description"]
    assert "became_lead_at" in paths["/api/v1/analytics/conversion-rate"]["get"]["description"]
    for path in ("acquisition-cohorts", "revenue"):
        assert paths[f"/api/v1/analytics/{path}"]["get"]["summary"]
    assert get(world, "revenue", key="u").status_code == 200
    assert world["client"].get("/api/v1/analytics/revenue").status_code == 401


def test_an_id_too_large_for_the_database_is_a_malformed_request(world: dict[str, Any]) -> None:
    """Found by the fuzz test: agent=2**63 overflowed SQLite's driver, 2**31 PostgreSQL's integer column (a 500)."""
    assert get(world, "acquisition-cohorts", agent=2**63).status_code == 422
    assert get(world, "acquisition-cohorts", team=2**31).status_code == 422
    assert get(world, "revenue", inbox=2**31 - 1).status_code == 200
