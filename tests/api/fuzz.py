"""Schemathesis on the app's own OpenAPI schema, with a read key: no generated input may get a 5xx (see
tests/collect/test_fuzz.py for why the strategies are driven directly)."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings

from pulso.api.app import create_app
from pulso.config import Settings


def assert_never_5xx(app_settings: Settings, path_regex: str, key: str, *, operations: int, examples: int) -> None:
    """Fuzz every operation whose path matches ``path_regex`` (there must be ``operations`` of them) with
    ``examples`` generated requests each."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(app_settings)).include(path_regex=path_regex)
    found = [result.ok() for result in schema.get_all_operations()]
    assert len(found) == operations, [o.label for o in found]
    for operation in found:

        @given(case=operation.as_strategy())
        @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def fuzz(case: schemathesis.Case) -> None:
            response = case.call(headers={"Authorization": f"Bearer {key}"})
            assert response.status_code < 500, f"{case.as_curl_command()} -> {response.text[:300]}"

        fuzz()
