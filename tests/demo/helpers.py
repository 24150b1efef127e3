"""Shared helpers for the demo tests: the fixed seed and end date, fresh SQLite copies, row fingerprints."""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Table, func, select

from pulso.config import Settings
from pulso.demo import DemoSummary
from pulso.demo.verify import tenant_ids
from pulso.store.engine import app_engine
from pulso.store.models import Base, tenant_tables
from pulso.store.session import platform_session

END_DATE = date(2025, 6, 1)
SEED = 42


@dataclass(frozen=True)
class SeededDemo:
    settings: Settings
    summary: DemoSummary


def sqlite_copy(template: Path, directory: Path) -> Settings:
    """Settings for a fresh copy of the migrated template, independent of PULSO_* variables."""
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copy(template, directory / "pulso.db")
    url = f"sqlite:///{directory / 'pulso.db'}"
    return Settings(env="test", data_dir=directory, database_url=url, admin_database_url=url)


def _normalise(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def fingerprint(settings: Settings) -> dict[str, str]:
    """A hash of every demo tenant table's rows, with ids made relative to the tenant's first id.

    Ids the database assigns are the same only up to an offset (other tenants, earlier runs), so each id and
    each foreign key becomes ``id - min(id)`` of its table within the tenant.
    """
    engine = app_engine(settings)
    ids = tenant_ids(engine)
    tables = [t for t in tenant_tables() if t.name not in {"users"}]
    digests: dict[str, str] = {}
    with platform_session(engine=engine) as session:
        for slug, tenant_id in sorted(ids.items()):
            first_ids = {
                t.name: session.scalar(select(func.min(t.c.id)).where(t.c.tenant_id == tenant_id)) or 0 for t in tables
            }
            for table in tables:
                digests[f"{slug}.{table.name}"] = _table_digest(session, table, tenant_id, first_ids)
    return digests


def _table_digest(session: Any, table: Table, tenant_id: int, first_ids: dict[str, int]) -> str:
    columns = [c for c in table.c if c.name != "tenant_id"]
    offsets = {c.name: first_ids.get(table.name, 0) for c in columns if c.name == "id"}
    for column in columns:
        for foreign_key in column.foreign_keys:
            offsets[column.name] = first_ids.get(foreign_key.column.table.name, 0)
    digest = hashlib.sha256()
    rows = session.execute(select(*columns).where(table.c.tenant_id == tenant_id).order_by(table.c.id))
    for row in rows:
        values = [
            (value - offsets[c.name]) if c.name in offsets and value is not None else _normalise(value)
            for c, value in zip(columns, row, strict=True)
        ]
        digest.update(repr(values).encode())
    return digest.hexdigest()


def tenant_row_counts(settings: Settings, tenant_id: int) -> dict[str, int]:
    with platform_session(engine=app_engine(settings)) as session:
        return {
            t.name: int(session.scalar(select(func.count()).select_from(t).where(t.c.tenant_id == tenant_id)) or 0)
            for t in tenant_tables(Base.metadata)
        }
