"""One bronze payload -> one typed event, or a :class:`RefineError` saying why it cannot be refined.

Pure: no database. Timestamps are corrected for the client's clock with
:func:`pulso.collect.spec.corrected_timestamp`; UTM tags come from ``context.campaign`` or, when that is absent,
from the page URL's query string.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pulso.collect.spec import corrected_timestamp, parse_timestamp
from pulso.pipeline.silver.channel import UTM_FIELDS, Touch, touch_for, utm_from_url
from pulso.store.models.silver import EVENT_TYPES

MAX_ID_LENGTH = 200
UTM_LIMITS = {"source": 100, "medium": 100, "campaign": 200, "term": 200, "content": 200}


class RefineError(ValueError):
    """A bronze payload that cannot become a silver event; the message is the quarantine reason."""


@dataclass
class ParsedEvent:
    """A Segment event, typed: what the ``events`` row and identity resolution need."""

    raw_id: int
    message_id: str
    type: str
    name: str | None
    anonymous_id: str | None
    user_id: str | None
    previous_id: str | None
    properties: dict[str, Any]
    context: dict[str, Any]
    utm: dict[str, str]
    page_url: str | None
    referrer: str | None
    occurred_at: datetime
    original_timestamp: datetime | None
    sent_at: datetime | None
    received_at: datetime
    touch: Touch = field(init=False)

    def __post_init__(self) -> None:
        self.touch = touch_for(self.utm, self.referrer, self.page_url)


def _timestamp(payload: dict[str, Any], key: str) -> datetime | None:
    value = payload.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise RefineError(f"{key}: expected an ISO-8601 string, got {type(value).__name__}")
    try:
        return parse_timestamp(value)
    except ValueError:
        raise RefineError(f"{key}: unparseable timestamp {value[:60]!r}") from None


def _identifier(payload: dict[str, Any], key: str) -> str | None:
    value = payload.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise RefineError(f"{key}: expected a string, got {type(value).__name__}")
    value = value.strip()
    if len(value) > MAX_ID_LENGTH:
        raise RefineError(f"{key}: longer than {MAX_ID_LENGTH} characters")
    return value or None


def _object(payload: dict[str, Any], key: str) -> dict[str, Any]:
    value = payload.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise RefineError(f"{key}: expected an object, got {type(value).__name__}")
    return value


def _mapping(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _utm(context: dict[str, Any], properties: dict[str, Any]) -> dict[str, str]:
    campaign = context.get("campaign")
    utm: dict[str, str] = {}
    if isinstance(campaign, dict) and campaign:
        names = {"source": "source", "medium": "medium", "campaign": "name", "term": "term", "content": "content"}
        utm = {key: text for key, name in names.items() if (text := _text(campaign.get(name)))}
    if not utm:
        page = _mapping(context.get("page"))
        for candidate in (page.get("url"), page.get("search"), properties.get("url"), properties.get("search")):
            if isinstance(candidate, str) and (utm := utm_from_url(candidate)):
                break
    return {key: utm[key][: UTM_LIMITS[key]] for key in UTM_FIELDS if key in utm}


def _name(kind: str, payload: dict[str, Any], properties: dict[str, Any]) -> str | None:
    if kind == "track":
        name = _text(payload.get("event"))
        if name is None:
            raise RefineError("event: a track call needs an event name")
        return name[:200]
    if kind in ("page", "screen"):
        name = _text(payload.get("name")) or _text(properties.get("name"))
        return name[:200] if name else None
    return None


def parse_event(raw_id: int, kind: str, message_id: str | None, payload: object, received_at: datetime) -> ParsedEvent:
    """Refine one bronze row. Raises :class:`RefineError` with the quarantine reason."""
    if not isinstance(payload, dict):
        raise RefineError(f"payload: expected an object, got {type(payload).__name__}")
    event_type = str(payload.get("type") or kind or "").strip().lower()
    if event_type not in EVENT_TYPES:
        raise RefineError(f"type: unknown event type {event_type[:40]!r}")
    message_id = _identifier(payload, "messageId") or message_id
    if not message_id:
        raise RefineError("messageId: missing")
    anonymous_id, user_id = _identifier(payload, "anonymousId"), _identifier(payload, "userId")
    previous_id = _identifier(payload, "previousId")
    if anonymous_id is None and user_id is None:
        raise RefineError("anonymousId/userId: an event needs at least one of them")
    if event_type == "alias" and (previous_id is None or user_id is None):
        raise RefineError("alias: needs previousId and userId")
    properties = _object(payload, "traits" if event_type == "identify" else "properties")
    if event_type == "group":
        properties = {**_object(payload, "traits"), "groupId": payload.get("groupId")}
    elif event_type == "alias":
        properties = {"previousId": previous_id}
    context = _object(payload, "context")
    original = _timestamp(payload, "originalTimestamp") or _timestamp(payload, "timestamp")
    sent_at = _timestamp(payload, "sentAt")
    occurred_at = corrected_timestamp(received_at, sent_at, original)
    page = _mapping(context.get("page"))
    return ParsedEvent(
        raw_id=raw_id,
        message_id=message_id,
        type=event_type,
        name=_name(event_type, payload, properties),
        anonymous_id=anonymous_id,
        user_id=user_id,
        previous_id=previous_id,
        properties=properties,
        context=context,
        utm=_utm(context, properties),
        page_url=_text(page.get("url")) or _text(properties.get("url")),
        referrer=_text(page.get("referrer")) or _text(properties.get("referrer")),
        occurred_at=occurred_at,
        original_timestamp=original,
        sent_at=sent_at,
        received_at=received_at,
    )
