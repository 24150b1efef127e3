"""Shared fixtures: a migrated SQLite database per test, and a real PostgreSQL database when one is reachable.

PostgreSQL tests are skipped with a visible reason when no server answers, unless PULSO_REQUIRE_POSTGRES=1
(set by .ci/run), which turns the skip into a failure. The same holds for the browser and the shared datasets
when CI=true.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from pulso.config import Settings, get_settings
from pulso.store import migrate
from pulso.store.engine import dispose_engines
from pulso.store.models import Base

PG_HOST = os.environ.get("PULSO_TEST_PG_HOST", "127.0.0.1")
PG_PORT = os.environ.get("PULSO_TEST_PG_PORT", "5432")
PG_SUPERUSER = os.environ.get("PULSO_TEST_PG_USER", "postgres")
APP_ROLE = "pulso_app"
# pg_advisory_lock key held (in the maintenance database, which every session shares) while a session migrates.
MIGRATION_LOCK = 0x70756C736F  # "pulso"


def _required(name: str) -> bool:
    return os.environ.get(name, "") in {"1", "true", "yes"}


def skip_or_fail(reason: str, *, required: bool) -> None:
    """Skip visibly on a developer's machine; fail where the dependency is required (CI)."""
    if required:
        pytest.fail(f"required but unavailable: {reason}")
    pytest.skip(reason)


def configure(monkeypatch: pytest.MonkeyPatch, **env: str) -> Settings:
    """Point the process-wide settings at the given PULSO_* values."""
    for key in [k for k in os.environ if k.startswith("PULSO_") and k != "PULSO_REQUIRE_POSTGRES"]:
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(f"PULSO_{key.upper()}", value)
    get_settings.cache_clear()
    dispose_engines()
    return get_settings()


# ---------------------------------------------------------------- shared datasets

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def shared_datasets() -> Path:
    """``<repo>/../shared/datasets`` (real public data sets, not in the repository); skipped visibly when absent,
    a failure in CI."""
    path = (REPO_ROOT.parent / "shared" / "datasets").resolve()
    if not path.is_dir():
        skip_or_fail("../shared/datasets not found", required=_required("CI"))
    return path


# ---------------------------------------------------------------- SQLite


@pytest.fixture(scope="session")
def migrated_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite file migrated by Alembic; each test gets a copy."""
    directory = tmp_path_factory.mktemp("template")
    path = directory / "pulso.db"
    url = f"sqlite:///{path}"
    migrate.command.upgrade(migrate.alembic_config(url), "head")
    dispose_engines()
    return path


@pytest.fixture
def sqlite_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, migrated_sqlite_template: Path
) -> Iterator[Settings]:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    shutil.copy(migrated_sqlite_template, data_dir / "pulso.db")
    settings = configure(monkeypatch, env="test", data_dir=str(data_dir))
    yield settings
    dispose_engines()
    get_settings.cache_clear()


# ---------------------------------------------------------------- PostgreSQL


def _pg_url(user: str, database: str) -> str:
    return f"postgresql+psycopg://{user}@{PG_HOST}:{PG_PORT}/{database}"


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, migrated by Alembic as the owner."""
    required = _required("PULSO_REQUIRE_POSTGRES")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        skip_or_fail("psycopg is not installed (pip install 'pulso[postgres]')", required=required)
    maintenance = create_engine(_pg_url(PG_SUPERUSER, "postgres"), isolation_level="AUTOCOMMIT")
    try:
        with maintenance.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        maintenance.dispose()
        skip_or_fail(f"no PostgreSQL at {PG_HOST}:{PG_PORT} ({type(exc).__name__})", required=required)
    name = f"pulso_test_{uuid.uuid4().hex[:10]}"
    with maintenance.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        # The first migration creates the cluster-wide role pulso_app when it is missing; two sessions (pytest-xdist
        # workers) creating it at once fail with a duplicate role, so sessions migrate one at a time.
        with maintenance.connect() as lock:
            lock.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
            try:
                migrate.command.upgrade(migrate.alembic_config(_pg_url(PG_SUPERUSER, name)), "head")
            finally:
                lock.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
        dispose_engines()
        yield name
    finally:
        dispose_engines()
        with maintenance.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        maintenance.dispose()


@pytest.fixture
def pg_settings(pg_database: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Settings]:
    """Settings whose application connection is the RLS-bound role; every table emptied after the test."""
    settings = configure(
        monkeypatch,
        env="test",
        data_dir=str(tmp_path / "data"),
        database_url=_pg_url(APP_ROLE, pg_database),
        admin_database_url=_pg_url(PG_SUPERUSER, pg_database),
    )
    yield settings
    dispose_engines()
    owner = create_engine(_pg_url(PG_SUPERUSER, pg_database))
    with owner.begin() as conn:
        names = ", ".join(t.name for t in Base.metadata.sorted_tables)
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    owner.dispose()
    get_settings.cache_clear()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_settings(request: pytest.FixtureRequest) -> Settings:
    """Run the test once on SQLite and once on PostgreSQL."""
    name = "sqlite_settings" if request.param == "sqlite" else "pg_settings"
    settings: Settings = request.getfixturevalue(name)
    return settings


# ---------------------------------------------------------------- pytest-xdist (make test: --dist loadfile)

# Directories whose tests share a session fixture too slow to build in every worker: each is one work unit, so one
# worker builds the fixture once.
SHARED_DIRECTORIES = ("tests/demo/",)  # the small demo, seeded once per session (tests/demo/conftest.py)


def xdist_work_unit(nodeid: str) -> str:
    """What ``--dist loadfile`` sends to one worker as a whole: the test's directory if it is in
    SHARED_DIRECTORIES, otherwise its module (module-scoped fixtures are built once)."""
    for directory in SHARED_DIRECTORIES:
        if nodeid.startswith(directory):
            return directory
    return nodeid.split("::", 1)[0]


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist; without it, nothing to do
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadfile``, with SHARED_DIRECTORIES as single units. (Not ``--dist loadgroup`` with
    ``xdist_group`` marks: pytest-xdist 3.8 under pytest 9.2 silently ignores them, pytest-xdist#1386.)"""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class Scheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return xdist_work_unit(nodeid)

    return Scheduling(config, log)
