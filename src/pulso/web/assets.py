"""Static assets: the project's own (``web/static``) and Plotly's bundled ``plotly.min.js``, served from
the installed plotly package so the dashboard never needs a CDN."""

from __future__ import annotations

import os
from pathlib import Path

import plotly
from fastapi import APIRouter
from starlette.responses import FileResponse

STATIC_DIR = Path(__file__).parent / "static"
PLOTLY_URL = "/static/vendor/plotly.min.js"
ASSET_CACHE_SECONDS = 7 * 24 * 3600

router = APIRouter(include_in_schema=False)


def plotly_js_path() -> Path:
    return Path(os.path.join(os.path.dirname(plotly.__file__), "package_data", "plotly.min.js"))


@router.get(PLOTLY_URL)
def plotly_js() -> FileResponse:
    return FileResponse(
        plotly_js_path(),
        media_type="text/javascript",
        headers={"cache-control": f"public, max-age={ASSET_CACHE_SECONDS}"},
    )
