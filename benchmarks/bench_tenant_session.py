"""What tenant isolation costs: Pulso's tenant session against a bare SQLAlchemy connection.

The reference ("bare") is what an application without isolation does: one connection, a hand-written
``WHERE tenant_id = :t``. Pulso's path opens a tenant session (on PostgreSQL: set_config per transaction and
row-level security as the application role) and runs the same count with the filter added automatically.
Each figure is microseconds per short transaction; the ratio is bare / pulso (higher is better for us).

    .venv/bin/python benchmarks/bench_tenant_session.py [--transactions 2000]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import create_engine, func, insert, select, text

from pulso.config import get_settings
from pulso.store import migrate, platform_session, tenant_session
from pulso.store.engine import dispose_engines
from pulso.store.models import Contact, Tenant

CONTACTS_PER_TENANT = 5_000


def seed() -> int:
    with platform_session() as session:
        tenants = [Tenant(slug=f"bench-{i}", name=f"Bench {i}") for i in range(2)]
        session.add_all(tenants)
        session.flush()
        ids = [t.id for t in tenants]
    now = datetime.now(UTC)
    for tenant_id in ids:
        with tenant_session(tenant_id) as session:
            rows = [
                {
                    "tenant_id": tenant_id,
                    "name": f"c{n}",
                    "lifecycle_stage": "lead",
                    "attributes": {},
                    "created_at": now,
                }
                for n in range(CONTACTS_PER_TENANT)
            ]
            session.execute(insert(Contact), rows)
    return ids[0]


def per_transaction_us(run: Callable[[], int], transactions: int) -> float:
    for _ in range(50):  # warm the pools and statement caches
        run()
    start = time.perf_counter()
    for _ in range(transactions):
        assert run() == CONTACTS_PER_TENANT
    return (time.perf_counter() - start) / transactions * 1e6


def measure(label: str, bare_url: str, transactions: int) -> None:
    tenant_id = seed()
    bare = create_engine(bare_url)

    def bare_count() -> int:
        with bare.connect() as conn:
            query = text("SELECT count(*) FROM contacts WHERE tenant_id = :t")
            return int(conn.execute(query, {"t": tenant_id}).scalar_one())

    def pulso_count() -> int:
        with tenant_session(tenant_id) as session:
            return int(session.scalar(select(func.count()).select_from(Contact)) or 0)

    bare_us = per_transaction_us(bare_count, transactions)
    pulso_us = per_transaction_us(pulso_count, transactions)
    bare.dispose()
    print(f"BENCH tenant_session_{label}_pulso {pulso_us:.1f} us")
    print(f"BENCH tenant_session_{label}_bare {bare_us:.1f} us")
    print(f"BENCH tenant_session_{label}_vs_bare {bare_us / pulso_us:.2f} x")


def configure(**env: str) -> None:
    for key, value in env.items():
        os.environ[f"PULSO_{key.upper()}"] = value
    get_settings.cache_clear()
    dispose_engines()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=2000)
    parser.add_argument("--pg", default="postgresql+psycopg://{user}@127.0.0.1:5432/{db}")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as directory:
        configure(data_dir=directory, database_url="", admin_database_url="")
        migrate.upgrade()
        measure("sqlite", get_settings().resolved_database_url, args.transactions)

    name = f"pulso_bench_{uuid.uuid4().hex[:8]}"
    maintenance = create_engine(args.pg.format(user="postgres", db="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with maintenance.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        print(f"PostgreSQL not reachable ({type(exc).__name__}); PostgreSQL figures skipped")
        return
    try:
        owner_url = args.pg.format(user="postgres", db=name)
        configure(database_url=args.pg.format(user="pulso_app", db=name), admin_database_url=owner_url)
        migrate.upgrade()
        # the bare reference connects as the owner (a superuser here): no RLS, the usual unprotected set-up
        measure("postgres", owner_url, args.transactions)
    finally:
        dispose_engines()
        with maintenance.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        maintenance.dispose()


if __name__ == "__main__":
    main()
