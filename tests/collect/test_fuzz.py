"""Schemathesis fuzzes the /v1 operations of the app's own OpenAPI schema: no input may cause a 5xx.

The operations' Hypothesis strategies are driven directly: ``schemathesis.pytest.from_fixture`` fails under
pytest 9 (it reads ``request.node._nodeid``), and a module-level schema would need a database at import.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from pulso.api.app import create_app
from pulso.config import Settings
from tests.collect.conftest import make_tenant

EXPECTED = {200, 400, 401, 413, 429}


@pytest.mark.slow
def test_collector_never_answers_5xx(any_settings: Settings) -> None:
    app = create_app(any_settings)
    auth = make_tenant("fuzz").basic
    schema = schemathesis.openapi.from_asgi("/openapi.json", app).include(path_regex="^/v1/")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 7
    seen: dict[str, set[int]] = {}
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def fuzz(case: schemathesis.Case) -> None:
            response = case.call(headers=auth)
            assert response.status_code < 500, f"{case.as_curl_command()} -> {response.text[:300]}"
            assert response.status_code in EXPECTED, response.text[:300]
            seen.setdefault(case.path, set()).add(response.status_code)

        fuzz()
    assert all(200 in statuses for statuses in seen.values()), seen
