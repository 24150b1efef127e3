"""Schemathesis fuzzes ``/api/v1/analytics/clv`` of the app's own OpenAPI schema with a read key, over a tenant with
a gold.customer_value run: no input may cause a 5xx (see tests/collect/test_fuzz.py for why the strategies are
driven directly)."""

from __future__ import annotations

import pytest

from pulso.config import Settings
from pulso.pipeline.gold.customer_value import build_customer_value
from pulso.security.api_keys import create_key
from pulso.store.session import platform_session, tenant_session
from pulso.tenancy.service import create_tenant
from tests.api.fuzz import assert_never_5xx
from tests.ml.clv_tenant_data import NOW, seed_tenant


@pytest.mark.slow
def test_the_clv_endpoint_never_answers_5xx(sqlite_settings: Settings) -> None:
    with platform_session() as session:
        tenant_id = create_tenant(session, slug="t", name="T", timezone="America/Sao_Paulo").id
        key = create_key(session, tenant_id=tenant_id, kind="read")[1]
    seed_tenant(tenant_id)
    with tenant_session(tenant_id) as session:
        build_customer_value(session, None, now=NOW)
    assert_never_5xx(sqlite_settings, "^/api/v1/analytics/clv$", key, operations=1, examples=25)
