"""Every /v1 endpoint against the real app and database (SQLite and PostgreSQL)."""

from __future__ import annotations

import orjson
import pytest
from fastapi.testclient import TestClient

from tests.collect.conftest import TenantKey
from tests.collect.helpers import bronze, quarantined

EVENTS = {
    "track": {"event": "Signed Up", "userId": "u1", "properties": {"plan": "pro"}},
    "identify": {"anonymousId": "a1", "traits": {"email": "a@b.c"}},
    "page": {"anonymousId": "a1", "name": "Home", "context": {"page": {"url": "https://x.test/"}}},
    "screen": {"userId": "u1", "name": "Settings"},
    "group": {"userId": "u1", "groupId": "g1"},
    "alias": {"previousId": "a1", "userId": "u1"},
}


@pytest.mark.parametrize("endpoint", list(EVENTS))
def test_single_endpoint_stores_one_bronze_row(client: TestClient, tenant_a: TenantKey, endpoint: str) -> None:
    body = {**EVENTS[endpoint], "messageId": f"m-{endpoint}", "timestamp": "2024-03-01T12:00:00Z"}
    response = client.post(f"/v1/{endpoint}", json=body, headers=tenant_a.basic)
    assert response.status_code == 200, response.text
    assert response.json() == {"success": True, "accepted": 1, "duplicates": 0, "rejected": []}
    (row,) = bronze(tenant_a.tenant_id)
    assert (row.source, row.kind, row.message_id) == ("http", endpoint, f"m-{endpoint}")
    assert row.payload["timestamp"] == "2024-03-01T12:00:00Z"
    assert row.payload["type"] == endpoint
    assert row.batch_id


def test_batch_merges_batch_context_and_sent_at(client: TestClient, tenant_a: TenantKey) -> None:
    body = {
        "batch": [
            {"type": "track", "event": "A", "userId": "u", "messageId": "b1", "originalTimestamp": "2024-03-01T10:00Z"},
            {"type": "page", "anonymousId": "x", "messageId": "b2", "context": {"ip": "9.9.9.9"}},
        ],
        "sentAt": "2024-03-01T10:00:05Z",
        "context": {"ip": "1.2.3.4", "userAgent": "ua"},
        "writeKey": tenant_a.key,
    }
    response = client.post("/v1/batch", json=body)
    assert response.json() == {"success": True, "accepted": 2, "duplicates": 0, "rejected": []}
    first, second = bronze(tenant_a.tenant_id)
    assert first.payload["sentAt"] == "2024-03-01T10:00:05Z"
    assert first.payload["originalTimestamp"] == "2024-03-01T10:00Z"
    assert first.payload["context"] == {"ip": "1.2.3.4", "userAgent": "ua"}
    assert second.payload["context"] == {"ip": "9.9.9.9", "userAgent": "ua"}
    assert first.batch_id == second.batch_id
    assert "writeKey" not in first.payload


def test_partial_batch_keeps_valid_and_quarantines_rejected(client: TestClient, tenant_a: TenantKey) -> None:
    batch = [
        {"type": "track", "event": "ok", "userId": "u", "messageId": "ok1"},
        {"type": "track", "userId": "u", "messageId": "bad1"},
        {"type": "identify", "userId": "u", "traits": "nope"},
        {"type": "alias", "userId": "u", "previousId": "p", "messageId": "ok2"},
    ]
    response = client.post("/v1/batch", json={"batch": batch}, headers=tenant_a.basic)
    assert response.status_code == 200
    data = response.json()
    assert (data["accepted"], data["duplicates"]) == (2, 0)
    assert [r["index"] for r in data["rejected"]] == [1, 2]
    assert data["rejected"][0]["reason"].startswith("event: track needs")
    assert data["rejected"][1]["reason"] == "traits: must be an object, got string"
    assert [r.message_id for r in bronze(tenant_a.tenant_id)] == ["ok1", "ok2"]
    rows = quarantined(tenant_a.tenant_id)
    assert [(r.location, r.reason) for r in rows] == [
        (f"/v1/batch[{i}]", d["reason"]) for i, d in [(1, data["rejected"][0]), (2, data["rejected"][1])]
    ]
    assert orjson.loads(rows[0].raw)["messageId"] == "bad1"


def test_invalid_single_event_is_400_and_quarantined(client: TestClient, tenant_a: TenantKey) -> None:
    response = client.post("/v1/track", json={"userId": "u"}, headers=tenant_a.basic)
    assert response.status_code == 400
    assert "event: track needs" in response.json()["message"]
    assert bronze(tenant_a.tenant_id) == []
    assert quarantined(tenant_a.tenant_id)[0].location == "/v1/track"


def test_malformed_json_is_400_and_quarantined_raw(client: TestClient, tenant_a: TenantKey) -> None:
    response = client.post("/v1/batch", content=b'{"batch": [', headers=tenant_a.basic)
    assert response.status_code == 400
    assert response.json()["message"].startswith("body: malformed JSON")
    (row,) = quarantined(tenant_a.tenant_id)
    assert row.raw == '{"batch": ['


def test_batch_must_be_an_array(client: TestClient, tenant_a: TenantKey) -> None:
    response = client.post("/v1/batch", json={"batch": {}}, headers=tenant_a.basic)
    assert response.status_code == 400
    assert response.json()["message"] == "batch: must be an array of events"
    assert len(quarantined(tenant_a.tenant_id)) == 1


def test_text_plain_body_is_accepted(client: TestClient, tenant_a: TenantKey) -> None:
    body = orjson.dumps({**EVENTS["track"], "writeKey": tenant_a.key})
    response = client.post("/v1/track", content=body, headers={"Content-Type": "text/plain;charset=UTF-8"})
    assert response.status_code == 200
    assert len(bronze(tenant_a.tenant_id)) == 1


def test_server_assigns_message_id_into_payload(client: TestClient, tenant_a: TenantKey) -> None:
    client.post("/v1/track", json=EVENTS["track"], headers=tenant_a.basic)
    (row,) = bronze(tenant_a.tenant_id)
    assert row.message_id is not None
    assert row.message_id.startswith("srv-")
    assert len(row.message_id) == 40
    assert row.payload["messageId"] == row.message_id


def test_dedup_within_and_across_requests(client: TestClient, tenant_a: TenantKey) -> None:
    event = {"type": "track", "event": "e", "userId": "u", "messageId": "same"}
    first = client.post("/v1/batch", json={"batch": [event, event]}, headers=tenant_a.basic).json()
    assert (first["accepted"], first["duplicates"]) == (1, 1)
    again = client.post("/v1/track", json=event, headers=tenant_a.basic).json()
    assert (again["accepted"], again["duplicates"]) == (0, 1)
    assert len(bronze(tenant_a.tenant_id)) == 1


def test_same_message_id_in_two_tenants_is_two_rows(
    client: TestClient, tenant_a: TenantKey, tenant_b: TenantKey
) -> None:
    event = {"event": "e", "userId": "u", "messageId": "shared"}
    assert client.post("/v1/track", json=event, headers=tenant_a.basic).json()["accepted"] == 1
    assert client.post("/v1/track", json=event, headers=tenant_b.basic).json()["accepted"] == 1


def test_cross_tenant_key_writes_only_its_tenant(client: TestClient, tenant_a: TenantKey, tenant_b: TenantKey) -> None:
    client.post(
        "/v1/batch", json={"batch": [{"type": "track", "event": "e", "userId": "u"}] * 3}, headers=tenant_a.basic
    )
    client.post("/v1/page", json={"anonymousId": "z", "writeKey": tenant_b.key})
    assert [r.kind for r in bronze(tenant_a.tenant_id)] == ["track"] * 3
    assert [r.kind for r in bronze(tenant_b.tenant_id)] == ["page"]
    assert {r.tenant_id for r in bronze(tenant_a.tenant_id)} == {tenant_a.tenant_id}


def test_received_at_is_server_time_and_client_times_kept(client: TestClient, tenant_a: TenantKey) -> None:
    body = {**EVENTS["track"], "sentAt": "2001-01-01T00:00:05Z", "originalTimestamp": "2001-01-01T00:00:00Z"}
    client.post("/v1/track", json=body, headers=tenant_a.basic)
    (row,) = bronze(tenant_a.tenant_id)
    assert row.received_at.year >= 2024
    assert (row.payload["sentAt"], row.payload["originalTimestamp"]) == (body["sentAt"], body["originalTimestamp"])


def test_bronze_insert_refuses_another_tenants_row(tenant_a: TenantKey, tenant_b: TenantKey) -> None:
    from datetime import UTC, datetime

    from pulso.collect.bronze import insert_events
    from pulso.store import CrossTenantWriteError, tenant_session

    row = {"tenant_id": tenant_b.tenant_id, "source": "http", "kind": "track", "message_id": "x", "batch_id": "b"}
    with pytest.raises(CrossTenantWriteError), tenant_session(tenant_a.tenant_id) as session:
        insert_events(session, [{**row, "payload": {}, "received_at": datetime.now(UTC)}])
    assert bronze(tenant_b.tenant_id) == []
