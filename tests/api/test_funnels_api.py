"""``/api/v1/analytics/funnel`` and ``/funnel/dropped`` over HTTP with read API keys, on SQLite and PostgreSQL.

Tenant T holds the hand-built week of tests/metrics/test_funnels.py (its docstring works out the numbers); tenant
U holds no events, so T's key sees T's funnel and U's key an empty one.
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
from tests.metrics import test_funnels

QUERY = {"start": "2025-03-01", "end": "2025-03-07", "steps": ["signup", "verify", "buy"]}


@pytest.fixture
def world(any_settings: Settings) -> Iterator[dict[str, Any]]:
    with platform_session() as session:
        t = create_tenant(session, slug="t", name="T", timezone="America/Sao_Paulo").id
        u = create_tenant(session, slug="u", name="U", timezone="America/Sao_Paulo").id
        keys = {
            "t": create_key(session, tenant_id=t, kind="read")[1],
            "u": create_key(session, tenant_id=u, kind="read")[1],
        }
    ids = test_funnels.seed(t)
    with TestClient(create_app(any_settings)) as client:
        yield {"client": client, "keys": keys, "ids": ids}


def get(world: dict[str, Any], path: str, key: str = "t", **params: Any) -> Any:
    headers = {"Authorization": f"Bearer {world['keys'][key]}"}
    return world["client"].get(f"/api/v1/analytics/{path}", params={**QUERY, **params}, headers=headers)


def counts(series: dict[str, Any]) -> list[int]:
    return [step["count"] for step in series["steps"]]


def test_funnel_json_for_the_keys_tenant_only(world: dict[str, Any]) -> None:
    body = get(world, "funnel", breakdown="first_touch_channel").json()
    assert counts(body["total"]) == [7, 6, 3]
    assert body["total"]["steps"][1]["median_seconds_from_previous"] == 1500.0
    assert body["total"]["time_to_convert"]["p90_seconds"] == 382200.0
    assert [(g["value"], counts(g)) for g in body["breakdown_values"]] == [
        ("google", [3, 3, 3]),
        ("(none)", [2, 2, 0]),
        ("meta", [2, 1, 0]),
    ]
    assert body["start_utc"].startswith("2025-03-01T03:00:00") and body["conversion_window_seconds"] == 1209600
    assert body["histogram_edges_seconds"][-1] == 1209600 and "anonymous_id" in body["definitions"]["person"]
    assert counts(get(world, "funnel", key="u").json()["total"]) == [0, 0, 0]


def test_funnel_options_from_the_query_string(world: dict[str, Any]) -> None:
    def funnel_counts(**params: Any) -> list[int]:
        response = get(world, "funnel", **params)
        assert response.status_code == 200, response.text
        return counts(response.json()["total"])

    assert funnel_counts(steps=["signup[plan=pro]", "verify", "buy"]) == [5, 5, 2]
    assert funnel_counts(window="1d") == [7, 6, 2]
    assert funnel_counts(window="24h") == [7, 6, 2]
    assert funnel_counts(step_window=["60m", "-"]) == [7, 5, 3]
    assert funnel_counts(order="strict") == [7, 4, 1]
    assert funnel_counts(order="any") == [7, 6, 4]
    assert funnel_counts(count="totals") == [8, 7, 4]
    assert funnel_counts(exclude="cancel:2:3") == [7, 6, 2]
    assert funnel_counts(channel="google") == [3, 3, 3]
    assert funnel_counts(source="lifecycle", steps=[]) == [4, 2, 1]


def test_dropped_people(world: dict[str, Any]) -> None:
    body = get(world, "funnel/dropped", step=2).json()
    assert [p["contact_id"] for p in body["people"]] == [world["ids"]["p5"], world["ids"]["p3"], None]
    assert body["people"][2]["anonymous_id"] == "anon-7" and body["people"][0]["reached_at"].startswith("2025-03-05T14")
    assert (body["step_name"], body["next_step_name"]) == ("verify", "buy")
    assert get(world, "funnel/dropped", key="u", step=2).json()["people"] == []
    rows = list(csv.reader(io.StringIO(get(world, "funnel/dropped", step=2, limit=1, **{"format": "csv"}).text)))
    assert rows[0] == ["contact_id", "anonymous_id", "name", "email", "reached_at"]
    assert rows[1][2:4] == ["Person p5", "p5@example.com"] and len(rows) == 2


def test_funnel_csv(world: dict[str, Any]) -> None:
    response = get(world, "funnel", breakdown="first_touch_channel", **{"format": "csv"})
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0][:4] == ["group", "step", "name", "count"]
    assert rows[1][:4] == ["(all)", "1", "signup", "7"]
    assert rows[3][:4] == ["(all)", "3", "buy", "3"] and rows[3][-2:] == ["174600.0", "382200.0"]
    assert [row[0] for row in rows[4:]] == ["google"] * 3 + ["(none)"] * 3 + ["meta"] * 3


@pytest.mark.parametrize(
    ("path", "params", "message"),
    [
        ("funnel", {"steps": ["signup"]}, "steps: a funnel has 2 to 10 steps, got 1"),
        ("funnel", {"steps": ["signup[plan]", "buy"]}, "steps: an event name, optionally with [key=value] filters"),
        ("funnel", {"order": "random"}, "order: must be one of sequential, strict, any, got 'random'"),
        ("funnel", {"window": "abc"}, "window: a whole number of days, hours or minutes like 14d, 12h, 30m"),
        ("funnel", {"window": "400d"}, "window: from 1 minute to 365 days"),
        ("funnel", {"step_window": ["1h"]}, "step_window: one per step after the first (2), got 1"),
        ("funnel", {"step_window": ["1w", "-"]}, "step_window: a whole number of days"),
        ("funnel", {"exclude": "cancel:2"}, "exclude: event:from:to with step numbers"),
        ("funnel", {"exclude": "cancel:3:4"}, "exclude: steps must satisfy 1 <= from < to <= 3, got 3:4"),
        ("funnel", {"count": "people"}, "count: must be one of uniques, totals, got 'people'"),
        ("funnel", {"breakdown": "colour"}, "breakdown: must be one of"),
        ("funnel", {"breakdown_limit": 0}, "breakdown_limit: from 1 to 50, got 0"),
        ("funnel", {"source": "crm"}, "source: must be one of events, lifecycle, got 'crm'"),
        ("funnel", {"source": "lifecycle", "steps": ["lead", "first_seen"]}, "steps: lifecycle steps go in the order"),
        ("funnel", {"start": "2025-03-08"}, "start: 2025-03-08 is after end 2025-03-07"),
        ("funnel", {"format": "xml"}, "format: must be one of json, csv, got 'xml'"),
        ("funnel", {"status": "closed"}, "status: must be one of"),
        ("funnel/dropped", {"step": 3}, "step: from 1 to 2 (the last step has no next one), got 3"),
        ("funnel/dropped", {}, "step: the number of a step (1 .. 2), got None"),
        ("funnel/dropped", {"step": 1, "limit": 0}, "limit: from 1 to 1000, got 0"),
    ],
)
def test_bad_parameters_say_what_is_wrong(
    world: dict[str, Any], path: str, params: dict[str, Any], message: str
) -> None:
    response = get(world, path, **params)
    assert response.status_code == 400, response.text
    assert response.json()["message"].startswith(message)


def test_a_read_key_is_required_and_openapi_documents_the_endpoints(world: dict[str, Any]) -> None:
    assert world["client"].get("/api/v1/analytics/funnel", params=QUERY).status_code == 401
    paths = world["client"].get("/openapi.json").json()["paths"]
    assert "median time" in paths["/api/v1/analytics/funnel"]["get"]["description"]
    assert "/api/v1/analytics/funnel/dropped" in paths
