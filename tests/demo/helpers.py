"""Shared helpers for the demo tests: the fixed seed and end date, fresh SQLite copies (of the migrated template or
of the seeded demo), row fingerprints."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Table, func, make_url, select

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


def sqlite_file(settings: Settings) -> Path:
    database = make_url(settings.resolved_database_url).database
    assert database, settings.resolved_database_url
    return Path(database)


def copy_demo(seeded: SeededDemo, target: Path) -> None:
    """Write the session's seeded demo into the SQLite file ``target`` (replacing what is there), for a test that
    changes it: the rows ``seed_demo("small", SEED, end_date=END_DATE)`` writes on a fresh database, without the
    seconds of seeding again. SQLite's backup API, so pages still in the write-ahead log are copied too."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(sqlite_file(seeded.settings))) as source, closing(sqlite3.connect(target)) as copy:
        source.backup(copy)


def demo_copy(seeded: SeededDemo, directory: Path) -> Settings:
    """Settings for a private copy of the session's seeded demo (see :func:`copy_demo`)."""
    copy_demo(seeded, directory / "pulso.db")
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
