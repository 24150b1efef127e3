"""The application shell: health check, security headers, local assets, error rendering."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from pulso.api.app import create_app
from pulso.config import Settings


@pytest.fixture
def client(any_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(any_settings)) as test_client:
        yield test_client


def test_healthz_reports_the_database(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["version"]


def test_healthz_is_503_when_the_database_is_unreachable(sqlite_settings: Settings) -> None:
    # Nothing listens on port 1: the connection is refused at once.
    settings = sqlite_settings.model_copy(update={"database_url": "postgresql+psycopg://nobody@127.0.0.1:1/none"})
    with TestClient(create_app(settings)) as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"


def test_pages_carry_security_headers(client: TestClient) -> None:
    response = client.get("/login")
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp


def test_plotly_is_served_locally(client: TestClient) -> None:
    response = client.get("/static/vendor/plotly.min.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert len(response.content) > 1_000_000
    assert b"plotly" in response.content[:2000].lower()
    assert "max-age" in response.headers["cache-control"]


def test_own_static_assets_are_served(client: TestClient) -> None:
    assert client.get("/static/css/pulso.css").status_code == 200
    assert "Plotly.newPlot" in client.get("/static/js/overview.js").text
    assert client.get("/static/img/favicon.svg").status_code == 200


def test_unknown_page_renders_a_404_page_and_api_gets_json(client: TestClient) -> None:
    page = client.get("/no/such/page")
    assert page.status_code == 404
    assert "Página não encontrada." in page.text
    api = client.get("/api/v1/nothing")
    assert api.status_code == 404
    assert api.json() == {"error": "not_found", "message": "Not found."}


def test_production_refuses_a_weak_secret(sqlite_settings: Settings) -> None:
    weak = sqlite_settings.model_copy(update={"env": "production", "secret_key": SecretStr("change-me")})
    with pytest.raises(RuntimeError, match="PULSO_SECRET_KEY"):
        create_app(weak)


def test_interactive_docs_are_off_but_the_schema_is_published(client: TestClient) -> None:
    assert client.get("/docs").status_code == 404
    schema = client.get("/openapi.json").json()
    assert "/healthz" in schema["paths"]
    assert "/login" not in schema["paths"]


def test_only_static_assets_are_compressed(client: TestClient) -> None:
    gzip = {"accept-encoding": "gzip"}
    assert client.get("/static/vendor/plotly.min.js", headers=gzip).headers.get("content-encoding") == "gzip"
    assert "content-encoding" not in client.get("/login", headers=gzip).headers


def test_unexpected_errors_render_a_500_page(any_settings: Settings) -> None:
    app = create_app(any_settings)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internals")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/boom")
    assert response.status_code == 500
    assert "Erro inesperado" in response.text
    assert "secret internals" not in response.text


ISSUE_5_ENDPOINTS = (
    "/api/v1/metrics/dashboard/summary",
    "/api/v1/metrics/dashboard/realtime",
    "/api/v1/metrics/dashboard/trends",
    *(
        f"/api/v1/analytics/{name}"
        for name in (
            "conversion-funnel", "conversion-rate", "abandonment-analysis", "time-to-conversion", "team-performance",
            "bot-performance", "sla-compliance", "response-time-distribution", "roi-by-channel", "procedure-trends",
            "funnel", "funnel/dropped", "satisfaction", "engagement", "retention", "rfm", "seasonal-index",
            "active-users", "playbook", "acquisition-cohorts", "revenue",
        )
    ),
)  # fmt: skip


def test_every_metric_endpoint_is_documented_with_its_definition(client: TestClient) -> None:
    """The original design's endpoint list and what issue 5 adds: each published with a summary and a definition."""
    paths = client.get("/openapi.json").json()["paths"]
    for path in ISSUE_5_ENDPOINTS:
        assert path in paths, path
        operation = paths[path]["get"]
        assert len(operation.get("summary", "")) > 20, path
        assert len(operation.get("description", "")) > 20, path
