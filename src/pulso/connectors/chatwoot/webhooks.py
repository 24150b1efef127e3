"""``POST /hooks/chatwoot/{token}``: Chatwoot's account webhooks, for near-real-time updates (chatwoot.md §17).

Chatwoot signs nothing and never retries, so the URL carries an unguessable per-source token (only its hash is
stored) and webhooks are treated as change hints: each payload goes to bronze first (committed before anything
else), then is applied to silver with the same keys and upserts as the database sync, so webhook and sync agree
and never double-count (a message is keyed by its global id in both; a conversation by its display id; a
status change reported by a webhook and by a reporting event is merged). When applying fails, the payload stays
in bronze unprocessed and the next sync brings the same rows from the database.

Answers: 200 applied or ignored (an event Pulso does not use); 400 for a body that is not a JSON object with an
``event``, or one from another Chatwoot account; 404 for an unknown token (nothing is revealed); 413 over size.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import update
from sqlalchemy.exc import SQLAlchemyError

from pulso.collect.http import answer, read_capped
from pulso.collect.service import BodyError, parse_body
from pulso.connectors.chatwoot import load, transform
from pulso.connectors.chatwoot.source import find_source_by_webhook_token
from pulso.store.models import RawEvent, Source
from pulso.store.session import tenant_session
from pulso.store.types import utcnow

log = logging.getLogger(__name__)
router = APIRouter(tags=["chatwoot"])
MAX_BODY_BYTES = 1024 * 1024
MESSAGE_EVENTS = ("message_created", "message_updated")
CONVERSATION_EVENTS = ("conversation_created", "conversation_updated", "conversation_status_changed")
CONTACT_EVENTS = ("contact_created", "contact_updated")
HANDLED = (*MESSAGE_EVENTS, *CONVERSATION_EVENTS, *CONTACT_EVENTS)


class WebhookError(ValueError):
    """A payload Pulso cannot use; the message says what is wrong and where."""


@dataclass(frozen=True)
class Applied:
    event: str
    applied: bool
    detail: str = ""


def _contact_sender(payload: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """A contact object inside a payload: a message's sender when it is a contact, a conversation's meta.sender."""
    sender = payload.get("sender")
    if isinstance(sender, Mapping) and sender.get("id") and not sender.get("type"):
        return sender
    return None


def _conversation_contact(conversation: Mapping[str, Any]) -> Mapping[str, Any] | None:
    meta = conversation.get("meta")
    sender = meta.get("sender") if isinstance(meta, Mapping) else None
    return sender if isinstance(sender, Mapping) and sender.get("id") else None


def parse(raw: bytes) -> dict[str, Any]:
    try:
        payload = parse_body(raw)  # the collector's: JSON object or a clear error
    except BodyError as exc:
        raise WebhookError(str(exc)) from None
    if not isinstance(payload.get("event"), str) or not payload["event"]:
        raise WebhookError("event: missing; Chatwoot webhooks carry the event name in 'event'")
    return payload


def _check_account(payload: Mapping[str, Any], account_id: int) -> None:
    account = payload.get("account")
    if isinstance(account, Mapping) and account.get("id") is not None and int(account["id"]) != account_id:
        raise WebhookError(
            f"account.id: {account['id']} is not this source's Chatwoot account {account_id}; "
            "each account needs its own source and webhook URL"
        )


def apply(tenant_id: int, source_id: int, account_id: int, payload: dict[str, Any]) -> Applied:
    """Bronze, then silver. Raises WebhookError for a payload that cannot be used (nothing stored then)."""
    event = payload["event"]
    _check_account(payload, account_id)
    if event in MESSAGE_EVENTS and not isinstance(payload.get("conversation"), Mapping):
        raise WebhookError(f"conversation: a {event} payload must carry its conversation object")
    if event in (*MESSAGE_EVENTS, *CONVERSATION_EVENTS, *CONTACT_EVENTS) and payload.get("id") is None:
        raise WebhookError(f"id: missing in a {event} payload")
    with tenant_session(tenant_id) as session:  # bronze first, committed on its own
        bronze_id = load.write_bronze(
            session, source_id, f"webhook.{event}"[:32], [payload], "webhook", processed=False
        )
    if event not in HANDLED:
        return Applied(event, False, "event not used by Pulso; kept in bronze")
    try:
        with tenant_session(tenant_id) as session:
            refs = load.Refs(session)
            stats = load.LoadStats()
            applied, detail = _apply_silver(refs, event, payload, stats)
            if applied:
                session.execute(
                    update(RawEvent)
                    .where(RawEvent.source == "chatwoot", RawEvent.message_id == bronze_id)
                    .values(processed_at=utcnow())
                )
            session.execute(update(Source).where(Source.id == source_id).values(last_error=None))
    except (KeyError, TypeError, ValueError, SQLAlchemyError) as exc:  # e.g. a sync creating the same contact
        log.warning("chatwoot webhook %s (%s) kept in bronze, not applied: %s", event, bronze_id, exc)
        return Applied(event, False, f"kept in bronze, not applied ({type(exc).__name__}: {exc}); the sync will")
    return Applied(event, applied, detail)


def _apply_silver(refs: load.Refs, event: str, payload: dict[str, Any], stats: load.LoadStats) -> tuple[bool, str]:
    if event in CONTACT_EVENTS:
        load.load_contacts(refs, [transform.contact(payload)])
        return True, "contact"
    conversation = payload if event in CONVERSATION_EVENTS else payload["conversation"]
    contacts = [c for c in (_conversation_contact(conversation), _contact_sender(payload)) if c is not None]
    if contacts:
        load.load_contacts(refs, [transform.contact(c) for c in contacts])
    record = transform.conversation(conversation)
    changes = load.load_conversations(refs, [record], stats)
    if stats.skipped.get("conversations"):
        return False, "kept in bronze: its inbox is not synced yet or not one of this source's inboxes"
    load.add_status_changes(refs, [{**change, "origin": "webhook"} for change in changes])
    if event in MESSAGE_EVENTS:
        load.load_messages(refs, [transform.message(payload)], stats)
        return True, "message"
    return True, "conversation"


@router.post("/hooks/chatwoot/{token}", response_model=None)
async def chatwoot_webhook(token: str, request: Request) -> Response:
    """Receive one Chatwoot webhook (configure the URL `pulso sources add chatwoot` printed)."""
    found = await run_in_threadpool(find_source_by_webhook_token, token)
    if found is None:
        return answer(404, {"success": False, "message": "unknown webhook URL"})
    raw = await read_capped(request, MAX_BODY_BYTES)
    if raw is None:
        return answer(413, {"success": False, "message": f"body over {MAX_BODY_BYTES} bytes"})
    tenant_id, source_id, account_id = found
    try:
        payload = parse(raw)
        result = await run_in_threadpool(apply, tenant_id, source_id, account_id, payload)
    except WebhookError as exc:
        return answer(400, {"success": False, "message": str(exc)})
    return answer(200, {"success": True, "event": result.event, "applied": result.applied, "detail": result.detail})
