"""A Chatwoot fixture database with the hand-checked scenario, and a Pulso tenant with it as a source."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest

from pulso.config import Settings
from pulso.connectors.chatwoot.fixture import create_chatwoot_database, drop_chatwoot_database
from pulso.connectors.chatwoot.fixture.scenario import load_scenario
from pulso.connectors.chatwoot.source import ChatwootSourceConfig, add_chatwoot_source, chatwoot_sources
from pulso.store import platform_session, tenant_session
from pulso.tenancy.service import create_tenant
from tests.conftest import PG_HOST, PG_PORT, PG_SUPERUSER, _required, skip_or_fail

CHATWOOT_ADMIN_URL = f"postgresql://{PG_SUPERUSER}@{PG_HOST}:{PG_PORT}/postgres"


@pytest.fixture(scope="session")
def chatwoot_admin_url() -> str:
    try:
        with psycopg.connect(CHATWOOT_ADMIN_URL, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:
        skip_or_fail(
            f"no PostgreSQL at {PG_HOST}:{PG_PORT} for the Chatwoot fixture ({type(exc).__name__})",
            required=_required("PULSO_REQUIRE_POSTGRES"),
        )
    return CHATWOOT_ADMIN_URL


@pytest.fixture
def scenario_dsn(chatwoot_admin_url: str) -> Iterator[str]:
    """A fresh scenario database per test (tests change it)."""
    name = f"chatwoot_fixture_{uuid.uuid4().hex[:10]}"
    url = create_chatwoot_database(chatwoot_admin_url, name)
    with psycopg.connect(url) as conn:
        load_scenario(conn)
    try:
        yield url
    finally:
        drop_chatwoot_database(chatwoot_admin_url, name)


@dataclass
class Linked:
    """A tenant whose Chatwoot source is the scenario's account 1."""

    tenant_id: int
    dsn: str
    webhook_token: str
    settings: Settings

    def config(self) -> ChatwootSourceConfig:
        with tenant_session(self.tenant_id) as session:
            return chatwoot_sources(session)[0]

    def chatwoot(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.dsn) as conn:
            cursor = conn.execute(sql, params)
            return cursor.fetchall() if cursor.description else []


@pytest.fixture
def linked(any_settings: Settings, scenario_dsn: str) -> Linked:
    with platform_session() as session:
        tenant_id = create_tenant(session, slug="sorriso", name="Clínica Sorriso").id
    added = add_chatwoot_source("sorriso", scenario_dsn, 1)
    return Linked(tenant_id, scenario_dsn, added.webhook_token, any_settings)


CountRows = Callable[..., int]
