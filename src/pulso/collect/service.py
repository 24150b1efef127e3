"""From a parsed request body to bronze rows and rejections: validation, batch-level merging, message ids.

Plain Python on dicts (no model per event) keeps the hot path lean.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import orjson

from pulso.collect.bronze import Rejected
from pulso.collect.spec import event_problem, merge_batch_fields

SERVER_ID_PREFIX = "srv-"


class BodyError(ValueError):
    """The request body as a whole cannot be used (not JSON, not an object, no batch array)."""


@dataclass(slots=True)
class Sorted:
    """Events ready for bronze (kind, message id, payload), rejections, and duplicates within the request."""

    events: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    duplicates_in_request: int = 0


def parse_body(raw: bytes) -> dict[str, Any]:
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BodyError(f"body: malformed JSON ({exc})") from None
    if not isinstance(body, dict):
        raise BodyError("body: must be a JSON object")
    return body


def body_items(body: dict[str, Any], endpoint: str) -> list[Any]:
    """The events a body carries: the ``batch`` array for /v1/batch, else the body itself as one event."""
    if endpoint != "batch":
        body.pop("writeKey", None)
        body["type"] = endpoint
        return [body]
    items = body.get("batch")
    if not isinstance(items, list):
        raise BodyError("batch: must be an array of events")
    context, sent_at = body.get("context"), body.get("sentAt")
    if context is not None or sent_at is not None:
        for item in items:
            if isinstance(item, dict):
                merge_batch_fields(item, context, sent_at)
    return items


def sort_events(items: list[Any], endpoint: str, max_event_bytes: int) -> Sorted:
    """Validate each item; assign ``srv-<uuid4>`` message ids where missing (also written into the payload)."""
    result = Sorted()
    seen: set[str] = set()
    for index, item in enumerate(items):
        location = f"/v1/batch[{index}]" if endpoint == "batch" else f"/v1/{endpoint}"
        raw = orjson.dumps(item)
        problem = None
        if len(raw) > max_event_bytes:
            problem = f"event: {len(raw)} bytes, over the limit of {max_event_bytes} bytes"
        elif b"\\u0000" in raw and _has_nul(item):
            problem = "event: contains a NUL character (\\u0000), which the database cannot store"
        else:
            problem = event_problem(item)
        if problem:
            result.rejected.append(Rejected(index, problem, raw.decode(), location))
            continue
        message_id = item.get("messageId")
        if message_id is None:
            message_id = item["messageId"] = SERVER_ID_PREFIX + str(uuid.uuid4())
        message_id = str(message_id)
        if message_id in seen:
            result.duplicates_in_request += 1
            continue
        seen.add(message_id)
        result.events.append((item["type"], message_id, item))
    return result


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def revalidate(raw: str, location: str, max_event_bytes: int) -> Sorted:
    """Sort a quarantined payload again: a whole body (when the body failed) or one event (replay)."""
    endpoint = location.removeprefix("/v1/").split("[", 1)[0] or "batch"
    body = parse_body(raw.encode())
    if "[" in location:  # one item of a batch, already merged with the batch fields
        return sort_events([body], "batch", max_event_bytes)
    return sort_events(body_items(body, endpoint), endpoint, max_event_bytes)
