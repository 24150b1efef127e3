"""Events: rows become Segment-shaped payloads in bronze ``raw_events`` (source ``import``), refined later.

Bronze is append-only and deduplicated on ``messageId`` as Segment does: a row whose messageId is already
stored is skipped (counted unchanged). A row without a ``message_id`` gets one derived from its content and
its line in the file, so importing the same file again adds nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select

from pulso.collect.imports import values
from pulso.collect.imports.fields import Field, FieldError, KindSpec, ParseContext, Record
from pulso.collect.imports.upsert import Counts, table_of
from pulso.store.models import RawEvent
from pulso.store.models.silver import EVENT_TYPES
from pulso.store.session import PulsoSession

SOURCE = "import"
CAMPAIGN_FIELDS = {"utm_source": "source", "utm_medium": "medium", "utm_campaign": "name"}
CAMPAIGN_FIELDS |= {"utm_term": "term", "utm_content": "content"}


def _text(max_length: int) -> Any:
    return lambda value, _context: values.text(value, max_length)


def _check(record: Record) -> list[FieldError]:
    errors = []
    if not record.get("user_id") and not record.get("anonymous_id"):
        errors.append(FieldError("user_id/anonymous_id", "an event needs a user_id or an anonymous_id"))
    if record.get("type", "track") == "track" and not record.get("event"):
        errors.append(FieldError("event", "missing required field (a track event needs its name)"))
    return errors


SPEC = KindSpec(
    name="events",
    fields=(
        Field("event", _text(200), aliases=("event_name", "evento")),
        Field("type", lambda v, _c: values.choice(v, EVENT_TYPES), help="default track"),
        Field("name", _text(200), aliases=("page_name",), help="page or screen name"),
        Field("user_id", _text(200), aliases=("userid",)),
        Field("anonymous_id", _text(200), aliases=("anonymousid",)),
        Field("timestamp", lambda v, c: values.timestamp(v, c.zone), required=True, aliases=("occurred_at", "data")),
        Field("message_id", _text(200), aliases=("messageid",), help="default: derived from the row"),
        *(Field(name, _text(200)) for name in CAMPAIGN_FIELDS),
    ),
    check=_check,
    prefixes=("properties.", "traits.", "context."),
)


def payload(record: Record) -> dict[str, Any]:
    """The Segment message a row stands for (the refinement job reads exactly this shape)."""
    message: dict[str, Any] = {
        "type": record.get("type", "track"),
        "timestamp": record["timestamp"].isoformat().replace("+00:00", "Z"),
        "properties": record.get("properties", {}),
        "context": dict(record.get("context", {})),
    }
    for field, key in (("event", "event"), ("name", "name"), ("user_id", "userId"), ("anonymous_id", "anonymousId")):
        if record.get(field):
            message[key] = record[field]
    if record.get("traits"):
        message["traits"] = record["traits"]
    campaign = {key: record[field] for field, key in CAMPAIGN_FIELDS.items() if record.get(field)}
    if campaign:
        message["context"]["campaign"] = campaign
    message["context"]["library"] = {"name": "pulso-import"}
    return message


def derived_message_id(line: int, message: dict[str, Any]) -> str:
    digest = hashlib.sha256(f"{line}\n{json.dumps(message, sort_keys=True, default=str)}".encode()).hexdigest()
    return f"import-{digest[:40]}"


def write(session: PulsoSession, rows: Sequence[tuple[int, Record]], context: ParseContext) -> Counts:
    counts = Counts()
    messages: dict[str, dict[str, Any]] = {}
    for line, record in rows:
        message = payload(record)
        message_id = record.get("message_id") or derived_message_id(line, message)
        message["messageId"] = message_id
        if message_id in messages:
            counts.unchanged += 1
        else:
            messages[message_id] = message
    stored: set[str] = set()
    ids = list(messages)
    for start in range(0, len(ids), 5000):
        query = select(RawEvent.message_id).where(
            RawEvent.tenant_id == session.tenant_id,
            RawEvent.source == SOURCE,
            RawEvent.message_id.in_(ids[start : start + 5000]),
        )
        stored.update(str(m) for m in session.scalars(query))
    counts.unchanged += len(stored)
    new_rows = [
        {
            "tenant_id": session.tenant_id,
            "source": SOURCE,
            "kind": message["type"],
            "message_id": message_id,
            "batch_id": context.batch_id,
            "payload": message,
        }
        for message_id, message in messages.items()
        if message_id not in stored
    ]
    if new_rows:
        session.execute(insert(table_of(RawEvent)), new_rows)  # Core: no ORM per-row bookkeeping
    counts.inserted += len(new_rows)
    return counts
