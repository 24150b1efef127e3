"""Collector throughput end to end: Pulso's /v1/batch against PostgreSQL's own COPY and a tutorial endpoint.

A temporary PostgreSQL database is migrated; the real server (uvicorn subprocess, RLS-bound role) receives N
events in batches of 100 from concurrent async clients, and events/s is N / the time until every 2xx is back.
Side by side: (a) COPY of the same rows into raw_events by the owner (the limit), (b) the usual tutorial
implementation - one request per event, one SQLAlchemy ORM insert and commit each - under the same uvicorn
settings with a smaller N (events/s extrapolates, the per-event cost being constant).

    .venv/bin/python benchmarks/ingest.py [--events 200000] [--workers 2] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
from pydantic import BaseModel
from sqlalchemy import create_engine, text

BATCH = 100
PG = "postgresql+psycopg://{user}@127.0.0.1:5432/{db}"


def event(number: int, run: str) -> dict[str, Any]:
    return {
        "type": "track",
        "event": "Product Viewed",
        "messageId": f"{run}-{number}",
        "anonymousId": f"anon-{number % 5000}",
        "properties": {"product_id": f"p{number % 300}", "price": 49.9, "currency": "BRL"},
        "context": {
            "page": {"url": "https://shop.example/p", "path": "/p", "referrer": "https://google.com/"},
            "campaign": {"source": "google", "medium": "cpc", "name": "spring"},
            "userAgent": "Mozilla/5.0 (X11; Linux x86_64)",
            "ip": "203.0.113.9",
        },
        "timestamp": "2026-03-01T12:00:00.000Z",
        "sentAt": "2026-03-01T12:00:01.000Z",
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(
    app: str, port: int, workers: int, env: dict[str, str], app_dir: str | None = None
) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "uvicorn", app, "--factory", "--port", str(port), "--workers", str(workers)]
    command += ["--log-level", "warning", "--no-access-log", *(["--app-dir", app_dir] if app_dir else [])]
    process = subprocess.Popen(command, env=env)
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{app} did not start")


async def post_all(url: str, bodies: list[bytes], warmup: bytes, headers: dict[str, str], concurrency: int) -> float:
    """Seconds until every body got its 2xx (each retried on a non-2xx answer)."""
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            body = queue.get_nowait()
            for _attempt in range(100):
                response = await client.post(url, content=body, headers=headers)
                if response.status_code < 300:
                    break
                await asyncio.sleep(0.01)
            else:
                raise RuntimeError(f"{url} keeps answering {response.status_code}: {response.text[:200]}")

    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        await client.post(url, content=warmup, headers=headers)  # warm the server's key cache and pools
        health = url.rsplit("/v1/", 1)[0] + "/healthz"
        await asyncio.gather(*(client.get(health) for _ in range(concurrency)))  # open the connections
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        return time.perf_counter() - started


def measure_pulso(env: dict[str, str], key: str, events: int, workers: int, concurrency: int) -> float:
    run = uuid.uuid4().hex[:8]
    bodies = [
        orjson.dumps({"batch": [event(n, run) for n in range(start, min(start + BATCH, events))]})
        for start in range(0, events, BATCH)
    ]
    warmup = orjson.dumps({"batch": [event(-1, run + "w")]})
    headers = {
        "Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode(),
        "Content-Type": "application/json",
    }
    port = free_port()
    server = start("pulso.api.app:create_app", port, workers, env)
    try:
        seconds = asyncio.run(post_all(f"http://127.0.0.1:{port}/v1/batch", bodies, warmup, headers, concurrency))
    finally:
        server.terminate()
        server.wait()
    return events / seconds


def measure_copy(owner_url: str, tenant_id: int, events: int) -> float:
    import psycopg

    run = uuid.uuid4().hex[:8]
    now = datetime.now(UTC)
    batch_id = str(uuid.uuid4())
    rows = [
        (tenant_id, "bench", "track", f"{run}-{n}", batch_id, orjson.dumps(event(n, run)).decode(), now)
        for n in range(events)
    ]
    columns = "tenant_id, source, kind, message_id, batch_id, payload, received_at"
    with psycopg.connect(owner_url.replace("postgresql+psycopg", "postgresql")) as conn:
        started = time.perf_counter()
        with conn.cursor() as cursor, cursor.copy(f"COPY raw_events ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        conn.commit()
        return events / (time.perf_counter() - started)


class Event(BaseModel):
    """The tutorial's request model."""

    type: str
    event: str | None = None
    messageId: str  # noqa: N815 - the wire name
    anonymousId: str | None = None  # noqa: N815
    properties: dict[str, Any] = {}
    context: dict[str, Any] = {}
    timestamp: str | None = None
    sentAt: str | None = None  # noqa: N815


def make_tutorial_app() -> Any:
    """The tutorial endpoint: a pydantic model per event, one ORM insert and commit per request."""
    from fastapi import FastAPI
    from sqlalchemy.orm import Session

    from pulso.store.models import RawEvent

    engine = create_engine(os.environ["BENCH_TUTORIAL_URL"], pool_size=10)
    app = FastAPI()

    @app.get("/healthz")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/track")
    def track(item: Event) -> dict[str, bool]:
        with Session(engine) as session:
            session.add(
                RawEvent(
                    tenant_id=int(os.environ["BENCH_TENANT"]),
                    source="tutorial",
                    kind=item.type,
                    message_id=item.messageId,
                    payload=item.model_dump(),
                    received_at=datetime.now(UTC),
                )
            )
            session.commit()
        return {"success": True}

    return app


def measure_tutorial(
    env: dict[str, str], owner_url: str, tenant_id: int, events: int, workers: int, concurrency: int
) -> float:
    run = uuid.uuid4().hex[:8]
    bodies = [orjson.dumps(event(n, run)) for n in range(events + 1)]
    port = free_port()
    tutorial_env = {**env, "BENCH_TUTORIAL_URL": owner_url, "BENCH_TENANT": str(tenant_id)}
    here = os.path.dirname(os.path.abspath(__file__))
    server = start("ingest:make_tutorial_app", port, workers, tutorial_env, app_dir=here)
    try:
        headers = {"Content-Type": "application/json"}
        seconds = asyncio.run(
            post_all(f"http://127.0.0.1:{port}/v1/track", bodies[1:], bodies[0], headers, concurrency)
        )
    finally:
        server.terminate()
        server.wait()
    return events / seconds


def setup(app_url: str, owner_url: str, data_dir: str) -> tuple[dict[str, str], int, str]:
    env = {
        **os.environ,
        "PULSO_ENV": "development",
        "PULSO_DATA_DIR": data_dir,
        "PULSO_DATABASE_URL": app_url,
        "PULSO_ADMIN_DATABASE_URL": owner_url,
        "PULSO_COLLECTOR_RATE_LIMIT_PER_SECOND": "1e9",
        "PULSO_COLLECTOR_RATE_LIMIT_BURST": "1000000000",
    }
    os.environ.update(env)
    from pulso.config import get_settings
    from pulso.security.api_keys import create_key
    from pulso.store import migrate, platform_session, tenant_session
    from pulso.store.engine import dispose_engines
    from pulso.tenancy.service import create_tenant

    get_settings.cache_clear()
    migrate.upgrade()
    with platform_session() as session:
        tenant_id = create_tenant(session, slug="bench", name="Bench").id
    with tenant_session(tenant_id) as session:
        _, key = create_key(session, tenant_id=tenant_id, kind="write")
    get_settings().session_secret()
    dispose_engines()
    return env, tenant_id, key


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--tutorial-events", type=int, default=4_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()

    name = f"pulso_bench_{uuid.uuid4().hex[:8]}"
    maintenance = create_engine(PG.format(user="postgres", db="postgres"), isolation_level="AUTOCOMMIT")
    with maintenance.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    owner_url = PG.format(user="postgres", db=name)
    try:
        with tempfile.TemporaryDirectory() as directory:
            env, tenant_id, key = setup(PG.format(user="pulso_app", db=name), owner_url, directory)
            pulso = measure_pulso(env, key, args.events, args.workers, args.concurrency)
            copy = measure_copy(owner_url, tenant_id, args.events)
            tutorial = measure_tutorial(env, owner_url, tenant_id, args.tutorial_events, args.workers, args.concurrency)
        print(f"BENCH ingest_pulso_events_per_s {pulso:.0f} events/s")
        print(f"BENCH ingest_copy_events_per_s {copy:.0f} events/s")
        print(f"BENCH ingest_tutorial_events_per_s {tutorial:.0f} events/s")
        print(f"BENCH ingest_pulso_vs_tutorial {pulso / tutorial:.1f} x")
        print(f"BENCH ingest_pulso_vs_copy {pulso / copy:.2f} x")
    finally:
        with maintenance.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        maintenance.dispose()


if __name__ == "__main__":
    main()
