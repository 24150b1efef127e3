"""Dashboard endpoint latency over real HTTP on PostgreSQL: the summary, its filtered (silver) path, trends, realtime.

A fresh PostgreSQL database (127.0.0.1:5432) is migrated, seeded with the demo (default size medium), the pipeline
runs (daily aggregates, conversation facts...), and the API is served by uvicorn on loopback as the RLS-bound
application role. Each endpoint gets warm-up requests, then N timed requests one after another with a read key of
the Sorriso tenant (the larger one: 30k conversations at medium). Target (issue 5): the summary under 300 ms at p95.
Side by side, the same summary with a filter that keeps everything, which must count on silver instead of the gold
daily aggregates: what the aggregates save.

    .venv/bin/python benchmarks/dashboard.py [--size small|medium|large] [--requests 200]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
import uuid
from datetime import date

import httpx
import uvicorn
from sqlalchemy import create_engine, select, text

PG = "postgresql+psycopg://{user}@127.0.0.1:5432/{db}"
TARGET_P95_MS = 300.0
EVERY_STATUS = [("status", s) for s in ("open", "resolved", "pending", "snoozed")]


def configure(data_dir: str, store: str) -> None:
    os.environ.update(
        {
            "PULSO_ENV": "development",
            "PULSO_DATA_DIR": data_dir,
            "PULSO_DATABASE_URL": PG.format(user="pulso_app", db=store),
            "PULSO_ADMIN_DATABASE_URL": PG.format(user="postgres", db=store),
        }
    )
    from pulso.config import get_settings
    from pulso.store import migrate
    from pulso.store.engine import dispose_engines

    get_settings.cache_clear()
    dispose_engines()
    migrate.upgrade()


def prepare(size: str) -> tuple[str, float, float]:
    """Seed and run the pipeline; returns Sorriso's read key and the seconds each took."""
    from pulso.demo import seed_demo
    from pulso.pipeline.runner import run_pipeline
    from pulso.security.api_keys import create_key
    from pulso.store.models import Tenant
    from pulso.store.session import platform_session

    started = time.perf_counter()
    seed_demo(size, 42, end_date=date.today(), progress=False)
    seeded = time.perf_counter() - started
    started = time.perf_counter()
    failed = [r for r in run_pipeline() if r.status != "succeeded"]
    if failed:
        raise SystemExit(f"pipeline failed: {[(r.job, r.error) for r in failed]}")
    piped = time.perf_counter() - started
    with platform_session() as session:
        tenant_id = session.scalars(select(Tenant.id).where(Tenant.slug == "sorriso")).one()
        return create_key(session, tenant_id=tenant_id, kind="read")[1], seeded, piped


def serve() -> tuple[uvicorn.Server, str]:
    from pulso.api.app import create_app
    from pulso.config import get_settings

    config = uvicorn.Config(create_app(get_settings()), host="127.0.0.1", port=0, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}"


def latencies(client: httpx.Client, path: str, params: list[tuple[str, str]], n: int) -> list[float]:
    for _ in range(10):
        client.get(path, params=params).raise_for_status()
    found = []
    for _ in range(n):
        started = time.perf_counter()
        client.get(path, params=params).raise_for_status()
        found.append((time.perf_counter() - started) * 1000)
    return found


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=("small", "medium", "large"), default="medium")
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    admin = create_engine(PG.format(user="postgres", db="postgres"), isolation_level="AUTOCOMMIT")
    store = f"pulso_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{store}"'))
    server: uvicorn.Server | None = None
    figures: dict[str, float] = {}
    try:
        with tempfile.TemporaryDirectory() as directory:
            configure(directory, store)
            key, seeded, piped = prepare(args.size)
            print(f"seeded {args.size} in {seeded:.0f} s, pipeline in {piped:.0f} s")
            server, base = serve()
            headers = {"Authorization": f"Bearer {key}"}
            with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
                cases = {
                    "dashboard_summary": ("/api/v1/metrics/dashboard/summary", []),
                    "dashboard_summary_silver": ("/api/v1/metrics/dashboard/summary", EVERY_STATUS),
                    "dashboard_trends_90d": ("/api/v1/metrics/dashboard/trends", [("period", "90d")]),
                    "dashboard_realtime": ("/api/v1/metrics/dashboard/realtime", []),
                }
                for name, (path, params) in cases.items():
                    times = latencies(client, path, params, args.requests)
                    figures[name] = p95(times)
                    print(f"{name:28} median {statistics.median(times):7.1f} ms   p95 {figures[name]:7.1f} ms")
    finally:
        if server is not None:
            server.should_exit = True
            time.sleep(0.3)
        from pulso.store.engine import dispose_engines

        dispose_engines()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{store}" WITH (FORCE)'))
        admin.dispose()
    for name, value in figures.items():
        print(f"BENCH {name}_p95 {value:.1f} ms")
    print(f"BENCH dashboard_summary_p95_vs_target {TARGET_P95_MS / figures['dashboard_summary']:.2f} x")
    ratio = figures["dashboard_summary_silver"] / figures["dashboard_summary"]
    print(f"BENCH dashboard_summary_gold_vs_silver {ratio:.2f} x")


if __name__ == "__main__":
    main()
