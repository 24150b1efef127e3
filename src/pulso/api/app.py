"""The application factory: ``create_app(settings)`` builds the FastAPI app ``pulso serve`` runs."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.staticfiles import StaticFiles

from pulso import __version__
from pulso.api import analytics, cohorts, conversation_funnel, dashboard, engagement, funnels, health, lead_scores
from pulso.api import churn as churn_api
from pulso.api import clv as clv_api
from pulso.api import revenue as revenue_api
from pulso.api.errors import DomainError
from pulso.api.middleware import StaticGZipMiddleware, WebMiddleware
from pulso.collect import http as collect_http
from pulso.collect import tracker_asset
from pulso.collect.cors import CollectorCORS
from pulso.config import Settings, get_settings
from pulso.connectors.chatwoot import webhooks as chatwoot_webhooks
from pulso.security.sessions import SessionCodec
from pulso.web import admin_tenants, assets, login, overview
from pulso.web.error_pages import (
    domain_error_handler,
    http_error_handler,
    server_error_handler,
    validation_error_handler,
)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    problems = settings.production_problems()
    if problems:
        raise RuntimeError("refusing to serve: " + " ".join(problems))
    app = FastAPI(
        title="Pulso",
        version=__version__,
        docs_url=None,  # the Swagger UI loads from a CDN; the schema stays at /openapi.json
        redoc_url=None,
    )
    secret = settings.session_secret()
    app.state.settings = settings
    app.state.secret = secret
    app.state.session_codec = SessionCodec(secret, settings.session_max_age_seconds)

    app.add_middleware(WebMiddleware, secure_cookies=settings.env == "production")
    app.add_middleware(StaticGZipMiddleware)
    app.add_middleware(CollectorCORS, origins=settings.collector_cors_origins)
    app.state.collector = collect_http.Collector(settings)

    app.add_exception_handler(DomainError, domain_error_handler)
    app.add_exception_handler(HTTPException, http_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(Exception, server_error_handler)  # still logged by the server

    app.include_router(health.router)
    app.include_router(analytics.router)  # /api/v1/analytics/*
    app.include_router(dashboard.router)  # /api/v1/metrics/dashboard/*
    app.include_router(lead_scores.router)  # /api/v1/analytics/lead-score
    app.include_router(cohorts.router)  # /api/v1/analytics/ retention, rfm, trends, active users, playbook
    app.include_router(conversation_funnel.router)  # /api/v1/analytics/conversion-funnel, ...
    app.include_router(engagement.router)  # /api/v1/analytics/engagement, /engagement/contacts
    app.include_router(revenue_api.router)  # /api/v1/analytics/: ROI, cohorts, conversion, revenue
    app.include_router(funnels.router)  # /api/v1/analytics/funnel, /funnel/dropped
    app.include_router(churn_api.router)  # /api/v1/analytics/churn-risk
    app.include_router(clv_api.router)  # /api/v1/analytics/clv
    app.include_router(collect_http.router)
    app.include_router(chatwoot_webhooks.router)  # /hooks/chatwoot/{token}
    app.include_router(tracker_asset.router)  # /t/pulso.js, before the tenant pages' /t/{slug}/
    app.include_router(assets.router)  # before the /static mount, which would otherwise shadow it
    app.include_router(login.router)
    app.include_router(admin_tenants.router)
    app.include_router(overview.router)
    app.mount("/static", StaticFiles(directory=assets.STATIC_DIR), name="static")
    return app
