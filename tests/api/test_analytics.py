"""``/api/v1/analytics/*`` over HTTP with read API keys, on SQLite and PostgreSQL.

Tenant T holds the support-timing week of tests/metrics/test_support_timing.py, tenant U the satisfaction week of
tests/metrics/test_satisfaction.py: each key must see its own tenant's numbers and nothing of the other's.
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
from pulso.store.models import Tenant
from pulso.store.session import platform_session
from pulso.tenancy.service import create_tenant
from tests.metrics import test_satisfaction, test_support_timing

WEEK = {"start": "2025-03-01", "end": "2025-03-07"}


@pytest.fixture
def world(any_settings: Settings) -> Iterator[dict[str, Any]]:
    with platform_session() as session:
        t = create_tenant(session, slug="t", name="T", timezone="America/Sao_Paulo").id
        u = create_tenant(session, slug="u", name="U", timezone="America/Sao_Paulo").id
        keys = {
            "t": create_key(session, tenant_id=t, kind="read")[1],
            "u": create_key(session, tenant_id=u, kind="read")[1],
            "t_write": create_key(session, tenant_id=t, kind="write")[1],
        }
    ids = test_support_timing.seed(t)
    test_satisfaction.seed(u)
    with TestClient(create_app(any_settings)) as client:
        yield {"client": client, "keys": keys, "ids": ids, "t": t}


def get(world: dict[str, Any], path: str, key: str = "t", **params: Any) -> Any:
    headers = {"Authorization": f"Bearer {world['keys'][key]}"}
    return world["client"].get(f"/api/v1/analytics/{path}", params={**WEEK, **params}, headers=headers)


def test_a_read_key_is_required(world: dict[str, Any]) -> None:
    response = world["client"].get("/api/v1/analytics/sla-compliance")
    assert response.status_code == 401 and "Bearer" in response.json()["message"]
    wrong = get(world, "sla-compliance", key="t_write")
    assert wrong.status_code == 401 and "not a read key" in wrong.json()["message"]


def test_response_times_for_the_keys_tenant_only(world: dict[str, Any]) -> None:
    body = get(world, "response-time-distribution", breakdown="agent").json()
    first = body["totals"]["first_response"]
    assert (first["count"], first["mean"], first["median"]) == (4, 405.0, 330.0)
    assert body["start_utc"].startswith("2025-03-01T03:00:00") and body["unit"] == "seconds"
    agents = {row["key"]: row["median"] for row in body["rows"]["first_response"]}
    assert agents == {str(world["ids"]["ana"]): 150.0, str(world["ids"]["bruno"]): 660.0}
    assert "bot time excluded" in body["definitions"]["first_response"]
    other = get(world, "response-time-distribution", key="u").json()  # U has no conversations
    assert other["totals"]["first_response"]["count"] == 0


def test_the_global_filters_reach_support_timing(world: dict[str, Any]) -> None:
    body = get(world, "response-time-distribution", channel="instagram").json()
    assert (body["totals"]["first_response"]["count"], body["totals"]["first_response"]["median"]) == (2, 660.0)
    refused = get(world, "response-time-distribution", status="closed")
    assert refused.status_code == 400 and refused.json()["message"].startswith("status:")


def test_sla_compliance_uses_tenant_thresholds_and_overrides(world: dict[str, Any]) -> None:
    default = get(world, "sla-compliance").json()
    assert default["thresholds_seconds"]["first_response"] == 300
    assert (default["totals"]["first_response"]["breached"], default["totals"]["first_response"]["compliance"]) == (
        2,
        0.5,
    )
    assert [b["external_id"] for b in default["breaches"]] == ["c3", "c4"]
    with platform_session() as session:
        session.get_one(Tenant, world["t"]).settings = {"sla": {"first_response": 1000, "resolution": 3600}}
    relaxed = get(world, "sla-compliance", breakdown="agent").json()
    assert relaxed["totals"]["first_response"]["breached"] == 0 and relaxed["totals"]["resolution"]["breached"] == 1
    strict = get(world, "sla-compliance", first_response=100).json()
    assert strict["totals"]["first_response"]["breached"] == 3


def test_satisfaction_for_the_keys_tenant_only(world: dict[str, Any]) -> None:
    body = get(world, "satisfaction", key="u").json()
    assert body["total"]["nps"] == pytest.approx(100 / 9) and body["total"]["csat"] == 60.0
    assert get(world, "satisfaction").json()["total"]["nps"] is None  # T has no answers


def test_csv_exports(world: dict[str, Any]) -> None:
    response = get(world, "response-time-distribution", **{"format": "csv"})
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["metric", "none", "count", "mean", "median", "p90", "p95", "p99"]
    assert rows[1][:5] == ["first_response", "", "4", "405.0", "330.0"]
    sla = list(csv.reader(io.StringIO(get(world, "sla-compliance", breakdown="agent", **{"format": "csv"}).text)))
    assert sla[0] == ["metric", "agent", "measured", "within", "breached", "compliance"]
    satisfaction = list(csv.reader(io.StringIO(get(world, "satisfaction", key="u", **{"format": "csv"}).text)))
    assert satisfaction[1][1] == str(100 / 9)


@pytest.mark.parametrize(
    ("path", "params", "message"),
    [
        ("sla-compliance", {"start": "2025-13-01"}, "start: not a date (YYYY-MM-DD): '2025-13-01'"),
        ("sla-compliance", {"start": "2025-03-08"}, "start: 2025-03-08 is after end 2025-03-07"),
        ("sla-compliance", {"breakdown": "hour"}, "breakdown: must be one of none, agent, team, inbox, got 'hour'"),
        ("response-time-distribution", {"format": "xml"}, "format: must be one of json, csv, got 'xml'"),
        ("satisfaction", {"start": "2020-01-01"}, "start: the range may span at most 731 days"),
    ],
)
def test_bad_parameters_say_what_is_wrong(
    world: dict[str, Any], path: str, params: dict[str, str], message: str
) -> None:
    response = get(world, path, **params)
    assert response.status_code == 400
    assert response.json()["message"] == message


def test_openapi_documents_the_endpoints(world: dict[str, Any]) -> None:
    paths = world["client"].get("/openapi.json").json()["paths"]
    for path in ("response-time-distribution", "sla-compliance", "satisfaction"):
        assert f"/api/v1/analytics/{path}" in paths


def test_team_and_bot_performance(world: dict[str, Any]) -> None:
    ids = world["ids"]
    agents = {row["agent_id"]: row for row in get(world, "team-performance").json()["agents"]}
    ana, bruno = agents[ids["ana"]], agents[ids["bruno"]]
    assert (ana["conversations"], ana["resolved"], ana["first_contact_resolution"]) == (2, 1, 1.0)
    assert (bruno["conversations"], bruno["resolved"]) == (2, 2) and agents[None]["conversations"] == 1
    team_csv = list(csv.reader(io.StringIO(get(world, "team-performance", **{"format": "csv"}).text)))
    assert team_csv[0][:3] == ["agent_id", "conversations", "open_now"] and len(team_csv) == 4
    bot = get(world, "bot-performance", recontact_days=3).json()
    assert bot["bot"]["bot_conversations"] == 0 and bot["bot"]["autonomy_rate"] is None  # T's week has no bot
    assert bot["recontact"]["days"] == 3 and "handed off" in bot["definitions"]["handoff_rate"]
    assert get(world, "bot-performance", key="u").json()["bot"]["bot_conversations"] == 0
    assert get(world, "bot-performance", recontact_days=0).status_code == 422
