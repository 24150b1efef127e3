"""``/conversion-funnel``, ``/abandonment-analysis`` and ``/time-to-conversion`` over HTTP, on SQLite and PostgreSQL.

Tenant T holds the hand-built week of tests/metrics/test_conversation_funnel.py (worked out there); tenant U holds
nothing, so its key must see an empty funnel.
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
from tests.metrics import test_conversation_funnel

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
    ids = test_conversation_funnel.seed(t)
    with TestClient(create_app(any_settings)) as client:
        yield {"client": client, "keys": keys, "ids": ids, "t": t}


def get(world: dict[str, Any], path: str, key: str = "t", **params: Any) -> Any:
    headers = {"Authorization": f"Bearer {world['keys'][key]}"}
    return world["client"].get(f"/api/v1/analytics/{path}", params={**WEEK, **params}, headers=headers)


def counts(group: dict[str, Any]) -> list[int]:
    return [stage["count"] for stage in group["stages"]]


def test_conversion_funnel_json(world: dict[str, Any]) -> None:
    body = get(world, "conversion-funnel").json()
    assert counts(body["total"]) == [6, 4, 3, 2] and body["total"]["customer_rate"] == 2 / 6
    assert body["rules"]["window_days"] == 30 and "orcamento" in body["rules"]["qualified"]["labels"]
    assert "later stage implies" in body["definitions"]["stages"] and body["range"]["start"] == "2025-03-01"
    people = get(world, "conversion-funnel", unit="people", breakdown="agent").json()
    assert counts(people["total"]) == [5, 4, 3, 2]
    assert {row["key"]: counts(row) for row in people["rows"]}[str(world["ids"]["bruno"])] == [2, 1, 0, 0]  # p4, p2
    filtered = get(world, "conversion-funnel", channel="instagram").json()
    assert counts(filtered["total"]) == [2, 2, 1, 1] and filtered["filters"] == {"channels": ["instagram"]}
    assert counts(get(world, "conversion-funnel", key="u").json()["total"]) == [0, 0, 0, 0]


def test_abandonment_and_time_to_conversion_json(world: dict[str, Any]) -> None:
    stages = get(world, "abandonment-analysis").json()["total"]
    assert [(s["stage"], s["stopped"], s["contact_waiting"], s["awaiting_contact"]) for s in stages] == [
        ("conversations", 2, 1, 1),
        ("qualified", 1, 0, 0),
        ("scheduled", 1, 0, 1),
    ]
    times = get(world, "time-to-conversion").json()
    assert (times["total"]["count"], times["total"]["median"], times["undated"]) == (2, 696_600, 0)
    assert [b["count"] for b in times["total"]["histogram"]] == [0, 0, 1, 0, 0, 1, 0]
    assert get(world, "time-to-conversion", key="u").json()["total"]["count"] == 0


def test_csv_exports(world: dict[str, Any]) -> None:
    def rows(path: str, **params: Any) -> list[list[str]]:
        response = get(world, path, **{"format": "csv", **params})
        assert response.headers["content-type"].startswith("text/csv")
        return list(csv.reader(io.StringIO(response.text)))

    funnel = rows("conversion-funnel", breakdown="channel")
    assert funnel[0] == ["channel", "stage", "conversations", "from_top", "from_previous"]
    assert ["instagram", "qualified", "2", "1.0", "1.0"] in funnel
    abandoned = rows("abandonment-analysis")
    assert abandoned[1] == ["", "conversations", "6", "2", str(2 / 6), "1", "1", "0"]
    times = rows("time-to-conversion")
    assert times[0][:3] == ["none", "count", "mean"] and times[1][:3] == ["", "2", "696600.0"]


@pytest.mark.parametrize(
    ("path", "params", "message"),
    [
        ("conversion-funnel", {"unit": "contacts"}, "unit: must be one of conversations, people, got 'contacts'"),
        ("conversion-funnel", {"breakdown": "hour"}, "breakdown: must be one of none, inbox, channel"),
        ("abandonment-analysis", {"format": "xml"}, "format: must be one of json, csv, got 'xml'"),
        ("time-to-conversion", {"end": "2025-02-30"}, "end: not a date (YYYY-MM-DD): '2025-02-30'"),
        ("time-to-conversion", {"status": "closed"}, "status: must be one of open, resolved, pending, snoozed"),
    ],
)  # fmt: skip
def test_bad_parameters_say_what_is_wrong(
    world: dict[str, Any], path: str, params: dict[str, str], message: str
) -> None:
    response = get(world, path, **params)
    assert response.status_code == 400 and response.json()["message"].startswith(message)


def test_invalid_tenant_rules_are_a_clear_error(world: dict[str, Any]) -> None:
    with platform_session() as session:
        session.get_one(Tenant, world["t"]).settings = {"conversation_funnel": {"qualified": {"labels": "orcamento"}}}
    response = get(world, "conversion-funnel")
    assert response.status_code == 400
    assert response.json()["message"].startswith("tenant settings.conversation_funnel.qualified.labels: a list")
    with platform_session() as session:
        session.get_one(Tenant, world["t"]).settings = {"conversation_funnel": {"customer": {"labels": ["agendado"]}}}
    body = get(world, "time-to-conversion").json()
    assert body["undated"] == 1 and body["rules"]["customer"] == {"labels": ["agendado"]}  # k2, by label only


def test_openapi_states_the_definitions(world: dict[str, Any]) -> None:
    paths = world["client"].get("/openapi.json").json()["paths"]
    funnel = paths["/api/v1/analytics/conversion-funnel"]["get"]
    assert "lead rate (qualified / conversations)" in funnel["description"]
    for path in ("abandonment-analysis", "time-to-conversion"):
        assert "settings.conversation_funnel" in paths[f"/api/v1/analytics/{path}"]["get"]["description"]
