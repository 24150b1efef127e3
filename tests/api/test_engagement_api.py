"""``/engagement`` and ``/engagement/contacts`` over HTTP, on SQLite and PostgreSQL.

Tenant T holds the hand-built week of tests/metrics/test_engagement.py (worked out there); tenant U holds nothing.
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
from tests.metrics import test_engagement

WEEK = {"start": "2025-03-01", "end": "2025-03-07"}


@pytest.fixture
def world(any_settings: Settings) -> Iterator[dict[str, Any]]:
    with platform_session() as session:
        t = create_tenant(session, slug="t", name="T", timezone="America/Sao_Paulo").id
        u = create_tenant(session, slug="u", name="U", timezone="America/Sao_Paulo").id
        keys = {
            "t": create_key(session, tenant_id=t, kind="read")[1],
            "u": create_key(session, tenant_id=u, kind="read")[1],
        }
    ids = test_engagement.seed(t)
    with TestClient(create_app(any_settings)) as client:
        yield {"client": client, "keys": keys, "ids": ids}


def get(world: dict[str, Any], path: str, key: str = "t", **params: Any) -> Any:
    headers = {"Authorization": f"Bearer {world['keys'][key]}"}
    return world["client"].get(f"/api/v1/analytics/{path}", params={**WEEK, **params}, headers=headers)


def test_engagement_json(world: dict[str, Any]) -> None:
    body = get(world, "engagement", listed=1).json()
    assert (body["response"]["base"], body["response"]["rate"]) == (5, 0.4)
    assert body["messages_until_conversion"]["total"]["median"] == 3.0
    assert body["reengagement"]["rate"] == 0.5 and body["silence_days"] == 7
    assert body["time_between_messages"]["contact_to_us"]["median"] == 390.0
    assert [b["contacts"] for b in body["decay_bands"]] == [1, 3, 1, 1]
    assert [c["name"] for c in body["top"]] == ["b"] and [c["name"] for c in body["bottom"]] == ["d"]
    assert body["as_of"].startswith("2025-03-08T03:00:00") and "exp(-days" in body["definitions"]["decay_score"]
    assert get(world, "engagement", silence_days=3).json()["reengagement"]["base"] == 3
    other = get(world, "engagement", key="u").json()
    assert other["response"]["base"] == 0 and other["top"] == []


def test_contacts_page(world: dict[str, Any]) -> None:
    page = get(world, "engagement/contacts", offset=2, limit=2).json()
    assert page["total"] == 6 and [c["name"] for c in page["contacts"]] == ["c", "a"]
    assert page["contacts"][0]["contact_id"] == world["ids"]["c"]
    assert get(world, "engagement/contacts", key="u").json()["total"] == 0


def test_csv_exports(world: dict[str, Any]) -> None:
    rows = list(csv.reader(io.StringIO(get(world, "engagement", **{"format": "csv"}).text)))
    assert rows[0] == ["metric", "group", "count", "value", "mean", "median", "p90"]
    assert rows[1] == ["response_rate", "", "5", "0.4", "", "", ""]
    assert ["decay_band", "hot", "1", "0.75", "", "", ""] in rows
    contacts = get(world, "engagement/contacts", limit=1, **{"format": "csv"})
    assert contacts.headers["content-type"].startswith("text/csv")
    assert [row[1] for row in csv.reader(io.StringIO(contacts.text))] == ["name", "b"]


@pytest.mark.parametrize(
    ("path", "params", "message"),
    [
        ("engagement", {"silence_days": "0"}, "silence_days: between 1 and 365, got 0"),
        ("engagement", {"decay_days": "-1"}, "decay_days: more than 0 and at most 365, got -1.0"),
        ("engagement", {"listed": "1000"}, "listed: between 0 and 100, got 1000"),
        ("engagement", {"format": "xml"}, "format: must be one of json, csv, got 'xml'"),
        ("engagement/contacts", {"limit": "0"}, "limit: between 1 and 500, got 0"),
        ("engagement/contacts", {"offset": "-5"}, "offset: 0 or more, got -5"),
        ("engagement/contacts", {"start": "2025-03-09"}, "start: 2025-03-09 is after end 2025-03-07"),
    ],
)
def test_bad_parameters_say_what_is_wrong(
    world: dict[str, Any], path: str, params: dict[str, str], message: str
) -> None:
    response = get(world, path, **params)
    assert response.status_code == 400 and response.json()["message"] == message


def test_openapi_states_the_definitions(world: dict[str, Any]) -> None:
    paths = world["client"].get("/openapi.json").json()["paths"]
    assert "exp(-days_since_last_message / decay_days)" in paths["/api/v1/analytics/engagement"]["get"]["description"]
    assert "/api/v1/analytics/engagement/contacts" in paths
