"""The Segment-compatible collector under /v1: authenticate the write key, rate-limit, validate, then answer
2xx only once the accepted events (and the quarantined rejections) are committed to bronze."""

from __future__ import annotations

import base64
import binascii
import math
import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from pulso.collect.bronze import Rejected, store_request
from pulso.collect.openapi import RESPONSE, openapi_extra
from pulso.collect.ratelimit import TokenBuckets
from pulso.collect.service import BodyError, body_items, parse_body, sort_events
from pulso.config import Settings
from pulso.security.api_keys import KeyIdentity, authenticate

ENDPOINTS = ("track", "identify", "page", "screen", "group", "alias", "batch")

router = APIRouter(prefix="/v1", tags=["collect"])


def answer(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, headers=headers, media_type="application/json")


def failure(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return answer(status, {"success": False, "message": message}, headers)


def basic_key(request: Request) -> str | None:
    """The write key sent as the HTTP Basic user name (Segment sends ``key:`` with an empty password)."""
    header = request.headers.get("authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return ""
    return decoded.partition(":")[0]


async def read_capped(request: Request, limit: int) -> bytes | None:
    """The body, or None as soon as it grows past ``limit`` bytes (never buffers more than that)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


class Collector:
    """Per-app state: settings and the per-key rate limiter."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.buckets = TokenBuckets(settings.collector_rate_limit_per_second, settings.collector_rate_limit_burst)

    def handle(self, endpoint: str, raw: bytes, header_key: str | None) -> Response:
        """Everything after reading the body; synchronous (database), run in the thread pool."""
        received_at = datetime.now(UTC)
        batch_id = str(uuid.uuid4())
        identity: KeyIdentity | None = None
        if header_key is not None:
            identity = authenticate(header_key) if header_key else None
            if identity is None:
                return failure(401, "invalid write key: unknown or revoked (HTTP Basic user name)")
        try:
            body = parse_body(raw)
        except BodyError as exc:
            if identity is not None:
                whole = Rejected(-1, str(exc), raw.decode(errors="replace"), f"/v1/{endpoint}")
                store_request(identity.tenant_id, batch_id, received_at, [], [whole])
            return failure(400, str(exc))
        if identity is None:
            key = body.get("writeKey")
            if not isinstance(key, str) or not key:
                return failure(401, "missing write key: send it as the HTTP Basic user name or as writeKey")
            identity = authenticate(key)
            if identity is None:
                return failure(401, "invalid write key: unknown or revoked (writeKey)")
        try:
            items = body_items(body, endpoint)
        except BodyError as exc:
            whole = Rejected(-1, str(exc), raw.decode(errors="replace"), f"/v1/{endpoint}")
            store_request(identity.tenant_id, batch_id, received_at, [], [whole])
            return failure(400, str(exc))
        wait = self.buckets.take(identity.key_id, max(len(items), 1))
        if wait:
            retry = "3600" if math.isinf(wait) else str(max(1, math.ceil(wait)))
            message = f"rate limit exceeded for this write key; retry after {retry} s"
            return failure(429, message, {"Retry-After": retry})
        result = sort_events(items, endpoint, self.settings.collector_max_event_bytes)
        accepted = store_request(identity.tenant_id, batch_id, received_at, result.events, result.rejected)
        duplicates = len(result.events) - accepted + result.duplicates_in_request
        rejected = [{"index": r.index, "reason": r.reason} for r in result.rejected]
        body_out = {"success": True, "accepted": accepted, "duplicates": duplicates, "rejected": rejected}
        if endpoint != "batch" and rejected:
            return answer(400, {**body_out, "success": False, "message": rejected[0]["reason"]})
        return answer(200, body_out)


def make_route(endpoint: str) -> Any:
    async def collect(request: Request) -> Response:
        collector: Collector = request.app.state.collector
        limit = collector.settings.collector_max_batch_bytes
        raw = await read_capped(request, limit)
        if raw is None:
            return failure(413, f"request body over the limit of {limit} bytes; send smaller batches")
        return await run_in_threadpool(collector.handle, endpoint, raw, basic_key(request))

    collect.__name__ = f"collect_{endpoint}"
    collect.__doc__ = f"Segment `{endpoint}` call: stored in bronze before the 200 answer."
    return collect


for _endpoint in ENDPOINTS:
    router.add_api_route(
        f"/{_endpoint}",
        make_route(_endpoint),
        methods=["POST"],
        openapi_extra=openapi_extra(_endpoint),
        responses={200: {"content": {"application/json": {"schema": RESPONSE}}, "description": "Stored."}},
        response_model=None,
    )
