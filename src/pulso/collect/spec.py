"""Segment HTTP tracking API spec: event types, field rules and clock-skew correction.

Pure functions only (no I/O): the collector validates with them and the refinement job imports
`corrected_timestamp` to undo client clock skew.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

EVENT_TYPES = frozenset({"track", "identify", "page", "screen", "group", "alias"})


def parse_timestamp(value: str) -> datetime:
    """Parse an ISO-8601 timestamp as Segment clients send it (``Z`` suffix allowed); naive means UTC."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def _as_utc(value: datetime | str) -> datetime:
    moment = parse_timestamp(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def corrected_timestamp(
    received_at: datetime | str,
    sent_at: datetime | str | None,
    original_timestamp: datetime | str | None,
) -> datetime:
    """Event time corrected for the client's clock: ``received_at - (sent_at - original_timestamp)``.

    The client's clock may be wrong, but the *difference* between when it created the event
    (``original_timestamp``) and when it sent it (``sent_at``) is measured on that same clock, so it is
    trustworthy; subtracting it from the server's receive time gives the event time on the server's clock.
    Without ``sent_at`` the original timestamp is taken as is; without either, ``received_at``.
    Naive datetimes and strings without an offset are taken as UTC; the result is aware, in UTC.
    """
    received = _as_utc(received_at)
    if original_timestamp is None:
        return received
    original = _as_utc(original_timestamp)
    if sent_at is None:
        return original
    return received - (_as_utc(sent_at) - original)


MAX_ID_LENGTH = 200
_CAMPAIGN_FIELDS = ("source", "medium", "name", "term", "content")
_PAGE_FIELDS = ("url", "path", "referrer", "title", "search")
_TIME_FIELDS = ("timestamp", "sentAt", "originalTimestamp")
_OBJECT_FIELDS = ("properties", "traits", "context", "integrations")


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    return {dict: "object", list: "array", str: "string", bool: "boolean"}.get(type(value), "number")


def _check_id(event: dict[str, Any], field: str) -> str | None:
    value = event.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        return f"{field}: must be a string, got {_type_name(value)}"
    if isinstance(value, str) and not value.strip():
        return f"{field}: must not be empty"
    if len(str(value)) > MAX_ID_LENGTH:
        return f"{field}: longer than {MAX_ID_LENGTH} characters"
    return None


def _check_strings(parent: dict[str, Any], path: str, fields: tuple[str, ...]) -> str | None:
    for field in fields:
        value = parent.get(field)
        if value is not None and not isinstance(value, str):
            return f"{path}.{field}: must be a string, got {_type_name(value)}"
    return None


def _check_context(context: dict[str, Any]) -> str | None:
    for name, fields in (("campaign", _CAMPAIGN_FIELDS), ("page", _PAGE_FIELDS)):
        part = context.get(name)
        if part is None:
            continue
        if not isinstance(part, dict):
            return f"context.{name}: must be an object, got {_type_name(part)}"
        problem = _check_strings(part, f"context.{name}", fields)
        if problem:
            return problem
    return _check_strings(context, "context", ("userAgent", "ip"))


def event_problem(event: object, kind: str | None = None) -> str | None:
    """Why ``event`` is not a valid Segment event of type ``kind`` (its own ``type`` if None), or None if valid.

    Reasons name the field path and what is wrong, e.g. ``properties: must be an object, got array``.
    """
    if not isinstance(event, dict):
        return f"event: must be a JSON object, got {_type_name(event)}"
    kind = kind or event.get("type")
    if kind not in EVENT_TYPES:
        return f"type: must be one of {', '.join(sorted(EVENT_TYPES))}, got {kind!r}"
    for field in ("messageId", "anonymousId", "userId", "previousId", "groupId"):
        problem = _check_id(event, field)
        if problem:
            return problem
    if kind == "alias":
        if event.get("previousId") is None or event.get("userId") is None:
            return "previousId, userId: alias needs both"
    elif event.get("anonymousId") is None and event.get("userId") is None:
        return "anonymousId, userId: at least one is required"
    if kind == "track":
        name = event.get("event")
        if not isinstance(name, str) or not name.strip():
            return f"event: track needs a non-empty string event name, got {_type_name(name)}"
    if kind == "group" and event.get("groupId") is None:
        return "groupId: group needs a groupId"
    problem = _check_strings(event, "event", ("name",)) if kind in {"page", "screen"} else None
    if problem:
        return problem.removeprefix("event.")
    for field in _OBJECT_FIELDS:
        value = event.get(field)
        if value is not None and not isinstance(value, dict):
            return f"{field}: must be an object, got {_type_name(value)}"
    context = event.get("context")
    if context:
        problem = _check_context(context)
        if problem:
            return problem
    for field in _TIME_FIELDS:
        value = event.get(field)
        if value is None:
            continue
        if not isinstance(value, str):
            return f"{field}: must be an ISO-8601 string, got {_type_name(value)}"
        try:
            parse_timestamp(value)
        except ValueError:
            return f"{field}: not an ISO-8601 timestamp: {value[:40]!r}"
    return None


def merge_batch_fields(event: dict[str, Any], context: object, sent_at: object) -> dict[str, Any]:
    """Apply batch-level ``context`` and ``sentAt`` to one batch item; the item's own values win.

    Context is merged one level deep (``{**batch_context, **event_context}``); ``sentAt`` is copied only when
    the item has none. Returns ``event`` itself (changed in place) for speed.
    """
    if isinstance(context, dict) and context:
        own = event.get("context")
        event["context"] = {**context, **own} if isinstance(own, dict) else (own if own is not None else context)
    if sent_at is not None and "sentAt" not in event:
        event["sentAt"] = sent_at
    return event
