"""Fixtures for the import tests: a tenant on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest

from pulso.config import Settings
from pulso.store import platform_session
from pulso.tenancy.service import create_tenant
from tests.collect.imports.helpers import SLUG


@pytest.fixture
def tenant_id(any_settings: Settings) -> int:
    """Tenant ``loja`` in São Paulo time (UTC-3, no DST since 2019), plus another tenant that must stay empty."""
    with platform_session() as session:
        tenant = create_tenant(session, slug=SLUG, name="Loja Exemplo", timezone="America/Sao_Paulo")
        create_tenant(session, slug="outra", name="Outra Loja")
        return int(tenant.id)


@pytest.fixture
def sqlite_tenant_id(sqlite_settings: Settings) -> int:
    with platform_session() as session:
        return int(create_tenant(session, slug=SLUG, name="Loja Exemplo").id)
