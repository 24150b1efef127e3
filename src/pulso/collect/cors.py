"""CORS for the collector only: browsers post events from the tenants' sites (sendBeacon sends text/plain)."""

from __future__ import annotations

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

PREFIX = "/v1/"


class CollectorCORS:
    """Starlette's CORSMiddleware applied to /v1/ paths; the dashboard stays same-origin."""

    def __init__(self, app: ASGIApp, *, origins: str) -> None:
        self.app = app
        allowed = [o.strip() for o in origins.split(",") if o.strip()]
        self.cors = CORSMiddleware(
            app,
            allow_origins=allowed,
            allow_methods=["POST", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type"],
            expose_headers=["Retry-After"],  # the tracker reads it on 429 to wait the time the server asked
            allow_credentials="*" not in allowed,
            max_age=86400,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(PREFIX):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)
