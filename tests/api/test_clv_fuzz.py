"""Schemathesis fuzzes ``/api/v1/analytics/clv`` of the app's own OpenAPI schema with a read key, over a tenant with
a gold.customer_value run: no input may cause a 5xx (see tests/collect/test_fuzz.py for why the strategies are
driven directly)."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from pulso.api.app import create_app
from pulso.config import Settings
from pulso.pipeline.gold.customer_value import build_customer_value
from pulso.security.api_keys import create_key
from pulso.store.session import platform_session, tenant_session
from pulso.tenancy.service import create_tenant
from tests.ml.clv_tenant_data import NOW, seed_tenant


@pytest.mark.slow
def test_the_clv_endpoint_never_answers_5xx(sqlite_settings: Settings) -> None:
    with platform_session() as session:
        tenant_id = create_tenant(session, slug="t", name="T", timezone="America/Sao_Paulo").id
        key = create_key(session, tenant_id=tenant_id, kind="read")[1]
    seed_tenant(tenant_id)
    with tenant_session(tenant_id) as session:
        build_customer_value(session, None, now=NOW)
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(sqlite_settings))
    [operation] = [result.ok() for result in schema.include(path_regex="^/api/v1/analytics/clv$").get_all_operations()]

    @given(case=operation.as_strategy())
    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def fuzz(case: schemathesis.Case) -> None:
        response = case.call(headers={"Authorization": f"Bearer {key}"})
        assert response.status_code < 500, f"{case.as_curl_command()} -> {response.text[:300]}"

    fuzz()
