"""Collector fixtures: the real app on the test database, two tenants with write keys."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from pulso.api.app import create_app
from pulso.config import Settings
from pulso.security.api_keys import create_key, key_cache
from pulso.store import platform_session, tenant_session
from pulso.tenancy.service import create_tenant


@dataclass
class TenantKey:
    tenant_id: int
    key: str
    key_id: int

    @property
    def basic(self) -> dict[str, str]:
        token = base64.b64encode(f"{self.key}:".encode()).decode()
        return {"Authorization": f"Basic {token}"}


def make_tenant(slug: str) -> TenantKey:
    with platform_session() as session:
        tenant_id = create_tenant(session, slug=slug, name=slug.title()).id
    with tenant_session(tenant_id) as session:
        row, plain = create_key(session, tenant_id=tenant_id, kind="write", name="site")
    return TenantKey(tenant_id, plain, row.id)


@pytest.fixture
def settings(any_settings: Settings) -> Settings:
    key_cache.clear()
    return any_settings


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client
    key_cache.clear()


@pytest.fixture
def tenant_a(settings: Settings) -> TenantKey:
    return make_tenant("alpha")


@pytest.fixture
def tenant_b(settings: Settings) -> TenantKey:
    return make_tenant("beta")
