"""kill -9 the server mid-run: every acknowledged event is in bronze exactly once, and after the client's retries
every sent event is there exactly once (a 2xx is only sent after the commit; redelivery is deduplicated)."""

from __future__ import annotations

import signal
import threading
import time
from collections import Counter

import httpx
import pytest
from sqlalchemy import select

from pulso.config import Settings
from pulso.store import tenant_session
from pulso.store.models import RawEvent
from tests.collect.conftest import make_tenant
from tests.collect.server import free_port, start_server

BATCHES = 80
BATCH_SIZE = 50


def send_all(url: str, auth: dict[str, str], acknowledged: list[str], sent: list[str], stop: threading.Event) -> None:
    with httpx.Client(timeout=5) as client:
        for number in range(BATCHES):
            ids = [f"b{number}-e{i}" for i in range(BATCH_SIZE)]
            batch = [{"type": "track", "event": "Tick", "userId": f"u{i}", "messageId": m} for i, m in enumerate(ids)]
            sent.extend(ids)
            delay = 0.05
            while not stop.is_set():
                try:
                    response = client.post(url, json={"batch": batch}, headers=auth)
                    if response.status_code == 200:
                        acknowledged.extend(ids)
                        break
                except httpx.TransportError:
                    pass
                time.sleep(delay)
                delay = min(delay * 2, 1.0)


@pytest.mark.slow
@pytest.mark.postgres
def test_sigkill_mid_run_loses_and_duplicates_nothing(pg_settings: Settings) -> None:
    tenant = make_tenant("durable")
    port = free_port()
    server = start_server(port)
    acknowledged: list[str] = []
    sent: list[str] = []
    stop = threading.Event()
    client = threading.Thread(
        target=send_all, args=(f"http://127.0.0.1:{port}/v1/batch", tenant.basic, acknowledged, sent, stop)
    )
    client.start()
    try:
        while len(acknowledged) < BATCHES * BATCH_SIZE // 3:
            time.sleep(0.005)
        server.send_signal(signal.SIGKILL)
        server.wait()
        killed_at = len(acknowledged)
        with tenant_session(tenant.tenant_id) as session:
            stored_at_kill = set(session.scalars(select(RawEvent.message_id)))
        assert set(acknowledged[:killed_at]) <= stored_at_kill
        time.sleep(0.5)
        server = start_server(port)
        client.join(timeout=120)
        assert not client.is_alive()
    finally:
        stop.set()
        server.kill()
        server.wait()
    with tenant_session(tenant.tenant_id) as session:
        stored = Counter(session.scalars(select(RawEvent.message_id)))
    assert killed_at < BATCHES * BATCH_SIZE
    assert len(sent) == BATCHES * BATCH_SIZE
    assert all(stored[m] == 1 for m in acknowledged)
    assert set(stored) == set(sent)
    assert max(stored.values()) == 1
