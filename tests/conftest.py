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


# ---------------------------------------------------------------- pytest-xdist (make test: --dist loadgroup)

# Session fixtures too slow to build in every worker, or that write outside the tests' tmp dirs: the tests using
# one all run in one worker, which builds it once.
SHARED_SESSION_FIXTURES = {
    "seeded": "demo",  # tests/demo: the small demo, seeded once
    "effects": "demo",
    "tracker_node_modules": "tracker-npm",  # npm ci into tracker/node_modules
}


def _xdist_group(item: pytest.Item) -> tuple[str | None, bool]:
    """The shared session fixture's group ``item`` needs, if any, and whether it uses a module-scoped fixture."""
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return None, False
    group, module_scoped = None, False
    for name in getattr(item, "fixturenames", ()):
        definitions = info.name2fixturedefs.get(name)
        if not definitions:
            continue
        scope = definitions[-1].scope  # the definition in effect for this test (the closest override)
        if scope == "session" and name in SHARED_SESSION_FIXTURES:
            group = group or SHARED_SESSION_FIXTURES[name]
        module_scoped = module_scoped or scope == "module"
    return group, module_scoped


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook turns the marks into node ids
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under ``--dist loadgroup``, keep together in one worker the tests sharing an expensive session fixture
    (above), and the tests of a module that share a module-scoped fixture; every other test is scheduled on its
    own. Nothing happens without pytest-xdist (a plain ``pytest tests/x.py``)."""
    if not config.pluginmanager.hasplugin("xdist"):
        return
    needs = {item.nodeid: _xdist_group(item) for item in items}
    # A module whose module-scoped fixture is used by a test of a shared group joins that group as a whole.
    module_group: dict[str, str] = {}
    for item in items:
        group, module_scoped = needs[item.nodeid]
        if group is not None and module_scoped:
            module_group.setdefault(item.nodeid.split("::")[0], group)
    for item in items:
        group, module_scoped = needs[item.nodeid]
        module = item.nodeid.split("::")[0]
        if group is None and module_scoped:
            group = module_group.get(module, module)
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(group))
