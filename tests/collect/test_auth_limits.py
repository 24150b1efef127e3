"""Write-key auth, body and event size limits, CORS and the per-key rate limit."""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from pulso.api.app import create_app
from pulso.config import Settings
from pulso.security.api_keys import CACHE_TTL_SECONDS, key_cache, revoke_key
from pulso.store import platform_session, tenant_session
from pulso.store.models import ApiKey
from tests.collect.conftest import TenantKey
from tests.collect.helpers import bronze, quarantined

TRACK = {"event": "e", "userId": "u"}


def basic(user: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:".encode()).decode()}


def test_basic_auth_and_write_key_in_body(client: TestClient, tenant_a: TenantKey) -> None:
    assert client.post("/v1/track", json=TRACK, headers=tenant_a.basic).status_code == 200
    assert client.post("/v1/track", json={**TRACK, "writeKey": tenant_a.key}).status_code == 200
    assert len(bronze(tenant_a.tenant_id)) == 2


@pytest.mark.parametrize(
    ("headers", "body_key", "message"),
    [
        ({}, None, "missing write key"),
        (basic("pk_write_nope"), None, "invalid write key"),
        ({}, "pk_write_nope", "invalid write key"),
        ({"Authorization": "Basic !!!"}, None, "invalid write key"),
    ],
)
def test_missing_or_unknown_key_is_401(
    client: TestClient, tenant_a: TenantKey, headers: dict[str, str], body_key: str | None, message: str
) -> None:
    body = {**TRACK, "writeKey": body_key} if body_key else TRACK
    response = client.post("/v1/track", json=body, headers=headers)
    assert response.status_code == 401
    assert response.json()["message"].startswith(message)
    assert bronze(tenant_a.tenant_id) == []


def test_revoked_key_is_401(client: TestClient, tenant_a: TenantKey) -> None:
    assert client.post("/v1/track", json=TRACK, headers=tenant_a.basic).status_code == 200
    with platform_session() as session:
        revoke_key(session, str(tenant_a.key_id))
    response = client.post("/v1/track", json=TRACK, headers=tenant_a.basic)
    assert response.status_code == 401


def test_revoke_elsewhere_applies_within_cache_ttl(
    client: TestClient, tenant_a: TenantKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A revoke by the CLI (another process) cannot clear this server's cache: it applies when the entry expires."""
    assert client.post("/v1/track", json=TRACK, headers=tenant_a.basic).status_code == 200
    with tenant_session(tenant_a.tenant_id) as session:
        session.get_one(ApiKey, tenant_a.key_id).revoked_at = datetime.now(UTC)
    assert client.post("/v1/track", json=TRACK, headers=tenant_a.basic).status_code == 200  # still cached
    now = time.monotonic()
    monkeypatch.setattr(key_cache, "clock", lambda: now + CACHE_TTL_SECONDS + 1)
    assert client.post("/v1/track", json=TRACK, headers=tenant_a.basic).status_code == 401


def test_body_over_batch_limit_is_413(settings: Settings, tenant_a: TenantKey) -> None:
    settings.collector_max_batch_bytes = 2_000
    with TestClient(create_app(settings)) as client:
        batch = [{"type": "track", "event": "e" * 100, "userId": "u"}] * 30
        response = client.post("/v1/batch", json={"batch": batch}, headers=tenant_a.basic)
        assert response.status_code == 413
        assert "over the limit of 2000 bytes" in response.json()["message"]

        def chunks():  # no Content-Length: the cap applies while streaming
            for _ in range(10):
                yield b" " * 500

        response = client.post("/v1/batch", content=chunks(), headers=tenant_a.basic)
        assert response.status_code == 413
    assert bronze(tenant_a.tenant_id) == []


def test_event_over_size_limit_is_rejected_individually(settings: Settings, tenant_a: TenantKey) -> None:
    settings.collector_max_event_bytes = 300
    with TestClient(create_app(settings)) as client:
        batch = [
            {"type": "track", "event": "small", "userId": "u"},
            {"type": "track", "event": "big", "userId": "u", "properties": {"blob": "x" * 400}},
        ]
        data = client.post("/v1/batch", json={"batch": batch}, headers=tenant_a.basic).json()
    assert data["accepted"] == 1
    (rejected,) = data["rejected"]
    assert rejected["index"] == 1
    assert "bytes, over the limit of 300 bytes" in rejected["reason"]
    assert quarantined(tenant_a.tenant_id)[0].reason == rejected["reason"]


def test_cors_preflight_and_simple_request(client: TestClient, tenant_a: TenantKey) -> None:
    preflight = client.options(
        "/v1/batch",
        headers={
            "Origin": "https://shop.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "*"
    allowed = preflight.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed
    assert "content-type" in allowed
    response = client.post("/v1/track", json=TRACK, headers={**tenant_a.basic, "Origin": "https://shop.example"})
    assert response.headers["access-control-allow-origin"] == "*"


def test_cors_restricted_origins(settings: Settings, tenant_a: TenantKey) -> None:
    settings.collector_cors_origins = "https://shop.example, https://blog.example"
    with TestClient(create_app(settings)) as client:
        ok = client.options(
            "/v1/track", headers={"Origin": "https://blog.example", "Access-Control-Request-Method": "POST"}
        )
        assert ok.headers["access-control-allow-origin"] == "https://blog.example"
        refused = client.options(
            "/v1/track", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
        )
        assert refused.status_code == 400
        assert "access-control-allow-origin" not in refused.headers


def test_rate_limit_is_429_with_retry_after(settings: Settings, tenant_a: TenantKey, tenant_b: TenantKey) -> None:
    settings.collector_rate_limit_per_second = 1.0
    settings.collector_rate_limit_burst = 5
    with TestClient(create_app(settings)) as client:
        batch = {"batch": [{"type": "track", "event": "e", "userId": "u"}] * 4}
        assert client.post("/v1/batch", json=batch, headers=tenant_a.basic).status_code == 200
        limited = client.post("/v1/batch", json=batch, headers=tenant_a.basic)
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) >= 1
        assert "rate limit exceeded" in limited.json()["message"]
        # another key has its own bucket
        assert client.post("/v1/batch", json=batch, headers=tenant_b.basic).status_code == 200
    assert len(bronze(tenant_a.tenant_id)) == 4
