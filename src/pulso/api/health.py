"""``GET /healthz``: is the process up and can it reach its database."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from pulso import __version__
from pulso.api.deps import engine_of
from pulso.store.session import platform_session

router = APIRouter(tags=["health"])


class HealthRead(BaseModel):
    status: Literal["ok", "degraded"]
    database: Literal["ok", "unreachable"]
    version: str


@router.get("/healthz", response_model=HealthRead)
def healthz(request: Request) -> JSONResponse:
    try:
        # Opening the unit of work's connection is the round trip (on PostgreSQL it also sets the scope).
        with platform_session(engine=engine_of(request)) as session:
            session.connection()
        database: Literal["ok", "unreachable"] = "ok"
    except Exception:
        database = "unreachable"
    body = HealthRead(status="ok" if database == "ok" else "degraded", database=database, version=__version__)
    return JSONResponse(body.model_dump(), status_code=200 if database == "ok" else 503)
