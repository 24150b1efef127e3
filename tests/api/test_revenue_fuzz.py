"""Schemathesis fuzzes the revenue endpoints of the app's own OpenAPI schema with a read key: no input may cause
a 5xx."""

from __future__ import annotations

import pytest

from pulso.config import Settings
from pulso.security.api_keys import create_key
from pulso.store.session import platform_session
from pulso.tenancy.service import create_tenant
from tests.api.fuzz import assert_never_5xx
from tests.metrics import test_revenue

PATHS = "^/api/v1/analytics/(roi-by-channel|acquisition-cohorts|conversion-rate|revenue)$"


@pytest.mark.slow
def test_revenue_endpoints_never_answer_5xx(sqlite_settings: Settings) -> None:
    with platform_session() as session:
        tenant_id = create_tenant(session, slug="t", name="T", timezone="America/Sao_Paulo").id
        key = create_key(session, tenant_id=tenant_id, kind="read")[1]
    test_revenue.seed(tenant_id)
    assert_never_5xx(sqlite_settings, PATHS, key, operations=4, examples=40)
