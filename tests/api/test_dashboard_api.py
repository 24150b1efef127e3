"""``/api/v1/metrics/dashboard/*`` over HTTP with read keys, on SQLite and PostgreSQL.

Tenant T holds the fortnight of tests/metrics/test_dashboard.py; tenant U the same rows, which T's answers must
not count (the numbers below are T's alone).
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
from tests.metrics import test_dashboard
from tests.metrics.helpers import seeded_tenant

WEEK = {"start": "2025-03-01", "end": "2025-03-07"}


@pytest.fixture
def world(any_settings: Settings) -> Iterator[dict[str, Any]]:
    t, ids = seeded_tenant(test_dashboard.seed)
    with platform_session() as session:
        key = create_key(session, tenant_id=t, kind="read")[1]
    with TestClient(create_app(any_settings)) as client:
        yield {"client": client, "key": key, "ids": ids}


def get(world: dict[str, Any], path: str, **params: Any) -> Any:
    headers = {"Authorization": f"Bearer {world['key']}"}
    return world["client"].get(f"/api/v1/metrics/dashboard/{path}", params=params, headers=headers)


def test_summary_json_and_csv(world: dict[str, Any]) -> None:
    body = get(world, "summary", **WEEK).json()
    kpis = {k["key"]: k for k in body["kpis"]}
    assert (kpis["conversations"]["value"], kpis["conversations"]["previous"]) == (3, 1)
    assert (kpis["revenue"]["value"], kpis["spend"]["value"], kpis["roi"]["value"]) == (200, 100, 1.0)
    assert kpis["roi"]["change"] == pytest.approx(-0.5) and kpis["median_first_response"]["value"] == 210
    assert body["source"] == "gold" and body["previous_range"] == {"start": "2025-02-22", "end": "2025-02-28"}
    assert "revenue - spend" in body["definitions"]["roi"]
    assert body["range"]["timezone"] == "America/Sao_Paulo"
    table = list(csv.DictReader(io.StringIO(get(world, "summary", format="csv", **WEEK).text)))
    assert {row["key"]: row["value"] for row in table}["leads"] == "3.0"


def test_summary_filters_from_the_query_string(world: dict[str, Any]) -> None:
    body = get(world, "summary", campaign="promo", **WEEK).json()
    kpis = {k["key"]: k["value"] for k in body["kpis"]}
    assert (kpis["conversations"], kpis["revenue"], kpis["spend"]) == (1, 200, 100)
    assert body["source"] == "silver" and body["filters"] == {"campaigns": ["promo"]}
    wa = get(world, "summary", inbox=world["ids"]["wa"], **WEEK).json()
    assert {k["key"]: k["value"] for k in wa["kpis"]}["conversations"] == 2


def test_trends_by_period_or_range(world: dict[str, Any]) -> None:
    body = get(world, "trends", interval="week", **WEEK).json()
    assert body["periods"] == ["2025-02-24", "2025-03-03"]
    assert body["series"]["conversations"] == [1, 2] and body["previous_totals"]["revenue"] == 100
    last = get(world, "trends", period="7d").json()  # the last 7 days up to today: no data then
    assert len(last["periods"]) == 7 and sum(last["series"]["conversations"]) == 0
    rows = list(csv.reader(io.StringIO(get(world, "trends", interval="week", format="csv", **WEEK).text)))
    assert rows[0][:3] == ["period", "conversations", "messages"] and rows[2][:2] == ["2025-03-03", "2.0"]


def test_realtime(world: dict[str, Any]) -> None:
    body = get(world, "realtime").json()
    assert body["open_conversations"] == 2 and body["waiting_first_response"] == 1
    assert body["oldest_wait_seconds"] > 0 and body["timezone"] == "America/Sao_Paulo"


@pytest.mark.parametrize(
    ("path", "params", "message"),
    [
        ("trends", {"period": "30"}, "period: expected a number of days"),
        ("trends", {"period": "400d"}, "period: expected a number of days"),
        ("trends", {"interval": "hour"}, "interval: must be one of day, week, month"),
        ("summary", {"status": "closed"}, "status: must be one of"),
        ("summary", {"start": "2025-13-01"}, "start: not a date"),
        ("summary", {"format": "xml"}, "format: must be one of json, csv"),
    ],
)
def test_bad_parameters_name_themselves(world: dict[str, Any], path: str, params: dict[str, str], message: str) -> None:
    response = get(world, path, **params)
    assert response.status_code == 400 and message in response.json()["message"], response.text


def test_a_read_key_is_required(world: dict[str, Any]) -> None:
    assert world["client"].get("/api/v1/metrics/dashboard/summary").status_code == 401
