"""``GET /t/pulso.js``: the browser tracker, built from ``tracker/`` (``npm run build``) and shipped as package
data in ``web/static/vendor/pulso.js``, so serving it needs no node. Compressed once per file version;
the dashboard's static gzip middleware only covers ``/static/``."""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter, Request
from starlette.responses import Response

TRACKER_URL = "/t/pulso.js"
TRACKER_PATH = Path(__file__).resolve().parent.parent / "web" / "static" / "vendor" / "pulso.js"
# Sites embed an unversioned URL, so a long cache would keep a fixed bug alive; an hour is a fair middle.
TRACKER_CACHE_SECONDS = 3600
MEDIA_TYPE = "text/javascript; charset=utf-8"

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True, slots=True)
class TrackerAsset:
    body: bytes
    gzipped: bytes
    etag: str


@lru_cache(maxsize=1)
def _load(path: Path, mtime_ns: int) -> TrackerAsset:
    body = path.read_bytes()
    return TrackerAsset(
        body=body,
        gzipped=gzip.compress(body, compresslevel=9, mtime=0),
        etag='"' + hashlib.sha256(body).hexdigest()[:32] + '"',
    )


def tracker_asset(path: Path = TRACKER_PATH) -> TrackerAsset:
    """The built tracker, re-read when the file changes (a rebuild during development)."""
    return _load(path, path.stat().st_mtime_ns)


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an ``Accept-Encoding`` value admits gzip (``q=0`` refuses it)."""
    for part in accept_encoding.lower().split(","):
        coding, *params = (piece.strip() for piece in part.split(";"))
        if coding in {"gzip", "*"}:
            quality = next((param[2:] for param in params if param.startswith("q=")), "1")
            return _positive(quality)
    return False


def _positive(quality: str) -> bool:
    try:
        return float(quality) > 0
    except ValueError:
        return False


@router.get(TRACKER_URL)
def tracker_js(request: Request) -> Response:
    asset = tracker_asset()
    headers = {
        "cache-control": f"public, max-age={TRACKER_CACHE_SECONDS}",
        "etag": asset.etag,
        "vary": "accept-encoding",
        # Loaded by customers' sites: allow <script crossorigin> and pages with Cross-Origin-Embedder-Policy.
        "access-control-allow-origin": "*",
        "cross-origin-resource-policy": "cross-origin",
    }
    if asset.etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    if accepts_gzip(request.headers.get("accept-encoding", "")):
        return Response(asset.gzipped, media_type=MEDIA_TYPE, headers={**headers, "content-encoding": "gzip"})
    return Response(asset.body, media_type=MEDIA_TYPE, headers=headers)
