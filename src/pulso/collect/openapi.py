"""Request body schemas of the /v1 endpoints, published in the OpenAPI document (the handlers parse raw
bytes themselves for speed, so FastAPI cannot infer them)."""

from __future__ import annotations

from typing import Any

_STRING = {"type": "string"}
_OBJECT = {"type": "object"}
_ID = {"type": "string", "minLength": 1, "maxLength": 200}
_TIME = {"type": "string", "format": "date-time"}

CONTEXT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "campaign": {
            "type": "object",
            "properties": dict.fromkeys(("source", "medium", "name", "term", "content"), _STRING),
        },
        "page": {
            "type": "object",
            "properties": dict.fromkeys(("url", "path", "referrer", "title", "search"), _STRING),
        },
        "userAgent": _STRING,
        "ip": _STRING,
    },
}

COMMON: dict[str, Any] = {
    "messageId": _ID,
    "anonymousId": _ID,
    "userId": _ID,
    "context": CONTEXT,
    "integrations": _OBJECT,
    "timestamp": _TIME,
    "sentAt": _TIME,
    "originalTimestamp": _TIME,
    "writeKey": _STRING,
}

SPECIFIC: dict[str, dict[str, Any]] = {
    "track": {"event": {"type": "string", "minLength": 1}, "properties": _OBJECT},
    "identify": {"traits": _OBJECT},
    "page": {"name": _STRING, "properties": _OBJECT},
    "screen": {"name": _STRING, "properties": _OBJECT},
    "group": {"groupId": _ID, "traits": _OBJECT},
    "alias": {"previousId": _ID},
}
REQUIRED = {"track": ["event"], "group": ["groupId"], "alias": ["previousId", "userId"]}


def event_schema(kind: str, *, with_type: bool = False) -> dict[str, Any]:
    properties = {**COMMON, **SPECIFIC[kind]}
    required = list(REQUIRED.get(kind, []))
    if with_type:
        properties["type"] = {"type": "string", "enum": [kind]}
        required.append("type")
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema


BATCH: dict[str, Any] = {
    "type": "object",
    "required": ["batch"],
    "properties": {
        "batch": {"type": "array", "items": {"oneOf": [event_schema(k, with_type=True) for k in SPECIFIC]}},
        "context": CONTEXT,
        "sentAt": _TIME,
        "writeKey": _STRING,
    },
}

RESPONSE: dict[str, Any] = {
    "type": "object",
    "properties": {
        "success": {"type": "boolean"},
        "accepted": {"type": "integer"},
        "duplicates": {"type": "integer"},
        "rejected": {
            "type": "array",
            "items": {"type": "object", "properties": {"index": {"type": "integer"}, "reason": _STRING}},
        },
        "message": _STRING,
    },
}


def openapi_extra(endpoint: str) -> dict[str, Any]:
    schema = BATCH if endpoint == "batch" else event_schema(endpoint)
    content = {"application/json": {"schema": schema}, "text/plain": {"schema": _STRING}}
    return {"requestBody": {"required": True, "content": content}}
