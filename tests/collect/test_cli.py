"""`pulso admin keys ...` and `pulso quarantine ...`, run as an operator would."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from pulso.cli import app
from pulso.config import Settings
from pulso.security.api_keys import hash_key
from pulso.store import tenant_session
from pulso.store.models import ApiKey, Quarantine
from tests.collect.conftest import TenantKey
from tests.collect.helpers import bronze, quarantined

runner = CliRunner()


def pulso(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_keys_create_list_revoke(client: TestClient, tenant_a: TenantKey) -> None:
    code, out = pulso("admin", "keys", "create", "--tenant", "alpha", "--kind", "write", "--name", "website")
    assert code == 0, out
    key = re.search(r"pk_write_\S+", out.split("shown only now:")[1])
    assert key is not None
    with tenant_session(tenant_a.tenant_id) as session:
        row = session.scalars(select(ApiKey).where(ApiKey.name == "website")).one()
        assert row.key_hash == hash_key(key.group())
        assert key.group() not in (row.prefix, row.key_hash)
    assert client.post("/v1/track", json={"event": "e", "userId": "u", "writeKey": key.group()}).status_code == 200

    code, out = pulso("admin", "keys", "list", "--tenant", "alpha")
    assert code == 0
    assert "website" in out
    assert row.prefix in out
    assert key.group() not in out

    code, out = pulso("admin", "keys", "revoke", row.prefix)
    assert code == 0, out
    assert "revoked key" in out
    assert client.post("/v1/track", json={"event": "e", "userId": "u", "writeKey": key.group()}).status_code == 401


def test_keys_errors_exit_2(settings: Settings, tenant_a: TenantKey) -> None:
    assert pulso("admin", "keys", "create", "--tenant", "nope")[0] == 2
    code, out = pulso("admin", "keys", "create", "--tenant", "alpha", "--kind", "superuser")
    assert code == 2
    assert "kind: must be one of" in out
    assert pulso("admin", "keys", "revoke", "999999")[0] == 2


def test_quarantine_list_and_replay_after_operator_edit(
    client: TestClient, tenant_a: TenantKey, tenant_b: TenantKey
) -> None:
    batch = [
        {"type": "track", "event": "ok", "userId": "u", "messageId": "ok"},
        {"type": "track", "userId": "u", "messageId": "fixme"},
        {"type": "identify", "userId": "u", "traits": [1], "messageId": "still-bad"},
    ]
    client.post("/v1/batch", json={"batch": batch, "context": {"ip": "1.2.3.4"}}, headers=tenant_a.basic)
    client.post("/v1/track", content=b"{oops", headers=tenant_b.basic)

    code, out = pulso("quarantine", "list", "--tenant", "alpha")
    assert code == 0
    assert "/v1/batch[1]" in out
    assert "2 unresolved" in out
    code, out = pulso("quarantine", "list")
    assert "3 unresolved" in out

    fixme, still_bad = quarantined(tenant_a.tenant_id)
    with tenant_session(tenant_a.tenant_id) as session:  # the operator repairs the payload
        session.get_one(Quarantine, fixme.id).raw = fixme.raw.replace('"type"', '"event":"fixed","type"')

    code, out = pulso("quarantine", "replay", "--tenant", "alpha")
    assert code == 0, out
    assert f"{fixme.id}: replayed, 1 event(s) stored" in out
    assert f"{still_bad.id}: still fails: traits: must be an object, got array" in out
    rows = {r.message_id: r for r in bronze(tenant_a.tenant_id)}
    assert set(rows) == {"ok", "fixme"}
    assert rows["fixme"].payload["context"] == {"ip": "1.2.3.4"}
    assert rows["fixme"].received_at == fixme.received_at
    assert [q.resolved_at is not None for q in quarantined(tenant_a.tenant_id)] == [True, False]

    code, out = pulso("quarantine", "replay", "--tenant", "alpha")
    assert "replayed 0, still failing 1" in out
    assert bronze(tenant_b.tenant_id) == []


def test_quarantine_replay_by_id_and_whole_body(client: TestClient, tenant_a: TenantKey) -> None:
    client.post("/v1/batch", content=b'{"batch": [{"type": "page", "anonymousId": "a"}', headers=tenant_a.basic)
    (row,) = quarantined(tenant_a.tenant_id)
    code, out = pulso("quarantine", "replay", "--id", str(row.id))
    assert "still fails: body: malformed JSON" in out
    with tenant_session(tenant_a.tenant_id) as session:
        session.get_one(Quarantine, row.id).raw = row.raw + "]}"
    code, out = pulso("quarantine", "replay", "--id", str(row.id))
    assert code == 0
    assert "replayed, 1 event(s) stored" in out
    (event,) = bronze(tenant_a.tenant_id)
    assert event.kind == "page"
    assert event.message_id is not None
    assert event.message_id.startswith("srv-")
