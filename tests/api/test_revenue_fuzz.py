"""Schemathesis fuzzes the revenue endpoints of the app's own OpenAPI schema with a read key: no input may cause
a 5xx (see tests/collect/test_fuzz.py for why the strategies are driven directly)."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from pulso.api.app import create_app
from pulso.config import Settings
from pulso.security.api_keys import create_key
from pulso.store.session import platform_session
from pulso.tenancy.service import create_tenant
from tests.metrics import test_revenue

PATHS = "^/api/v1/analytics/(roi-by-channel|acquisition-cohorts|conversion-rate|revenue)$"


@pytest.mark.slow
def test_revenue_endpoints_never_answer_5xx(sqlite_settings: Settings) -> None:
    with platform_session() as session:
        tenant_id = create_tenant(session, slug="t", name="T", timezone="America/Sao_Paulo").id
        key = create_key(session, tenant_id=tenant_id, kind="read")[1]
    test_revenue.seed(tenant_id)
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(sqlite_settings)).include(path_regex=PATHS)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 4
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def fuzz(case: schemathesis.Case) -> None:
            response = case.call(headers={"Authorization": f"Bearer {key}"})
            assert response.status_code < 500, f"{case.as_curl_command()} -> {response.text[:300]}"

        fuzz()
