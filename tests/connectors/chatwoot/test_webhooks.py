"""``POST /hooks/chatwoot/{token}`` through the real app, then the database sync over the same changes.

Payloads follow chatwoot.md §17: conversation ``id`` is the display id, message ``message_type`` is a name and
``created_at`` an ISO string, conversation ``created_at`` Unix seconds and ``updated_at`` a Unix float.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from pulso.api.app import create_app
from pulso.connectors.chatwoot.sync import ChatwootSync
from pulso.store import tenant_session
from pulso.store.models import Contact, ContactIdentity, Conversation, ConversationStatusChange, Message, RawEvent
from tests.connectors.chatwoot.conftest import Linked

pytestmark = pytest.mark.postgres


@pytest.fixture
def client(linked: Linked) -> Iterator[TestClient]:
    with TestClient(create_app(linked.settings)) as test_client:
        yield test_client


def _sync(linked: Linked) -> Any:
    return ChatwootSync(linked.config(), settings=linked.settings).run()


def _post(client: TestClient, linked: Linked, payload: Any, token: str | None = None) -> Any:
    return client.post(f"/hooks/chatwoot/{token or linked.webhook_token}", json=payload)


def _count(linked: Linked, model: Any, *where: Any) -> int:
    with tenant_session(linked.tenant_id) as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def conversation_payload(event: str, status: str, updated: datetime, **extra: Any) -> dict[str, Any]:
    """Conversation 4 (display id 4, Instagram inbox 2, contact 4, assigned to Bruno) as Chatwoot sends it."""
    return {
        "event": event,
        "id": 4,
        "inbox_id": 2,
        "status": status,
        "priority": None,
        "channel": "Channel::Instagram",
        "labels": [],
        "custom_attributes": {},
        "additional_attributes": {},
        "meta": {
            "sender": {"id": 4, "name": "Joana", "email": None, "phone_number": "+5511988887777"},
            "assignee": {"id": 2, "name": "Bruno Reis"},
            "assignee_type": "User",
            "team": None,
        },
        "created_at": int(datetime(2026, 2, 4, 22, tzinfo=UTC).timestamp()),
        "updated_at": updated.timestamp(),
        "last_activity_at": int(updated.timestamp()),
        "timestamp": int(updated.timestamp()),
        **extra,
    }


def message_payload(message_id: int, content: str, created: datetime, **extra: Any) -> dict[str, Any]:
    return {
        "event": "message_created",
        "id": message_id,
        "content": content,
        "content_type": "text",
        "content_attributes": {},
        "additional_attributes": {},
        "message_type": "incoming",
        "private": False,
        "source_id": None,
        "created_at": created.isoformat().replace("+00:00", "Z"),
        "sender": {"id": 4, "name": "Joana", "email": None, "phone_number": "+5511988887777", "identifier": None},
        "inbox": {"id": 2, "name": "Instagram"},
        "account": {"id": 1, "name": "Clínica Sorriso"},
        "conversation": conversation_payload("conversation_updated", "open", created),
        **extra,
    }


def test_unknown_token_and_bad_bodies_are_refused_with_a_reason(client: TestClient, linked: Linked) -> None:
    assert _post(client, linked, {"event": "message_created"}, token="not-a-token").status_code == 404
    bad_json = client.post(f"/hooks/chatwoot/{linked.webhook_token}", content=b"{nope")
    assert bad_json.status_code == 400 and "malformed JSON" in bad_json.json()["message"]
    assert "must be a JSON object" in _post(client, linked, [1, 2]).json()["message"]
    assert "event: missing" in _post(client, linked, {"id": 1}).json()["message"]
    other = message_payload(500, "oi", datetime.now(UTC), account={"id": 2, "name": "Loja Aurora"})
    answer = _post(client, linked, other)
    assert answer.status_code == 400 and "account.id: 2" in answer.json()["message"]
    assert _count(linked, RawEvent) == 0  # nothing refused was stored


def test_unused_events_are_kept_in_bronze_only(client: TestClient, linked: Linked) -> None:
    answer = _post(client, linked, {"event": "webwidget_triggered", "id": 9, "source_id": "x"})
    assert answer.status_code == 200 and answer.json()["applied"] is False
    assert _count(linked, RawEvent, RawEvent.kind == "webhook.webwidget_triggered") == 1


def test_before_the_first_sync_the_payload_waits_in_bronze_and_the_sync_covers_it(
    client: TestClient, linked: Linked
) -> None:
    answer = _post(client, linked, message_payload(21, "Vocês atendem sábado?", datetime(2026, 2, 4, 22, tzinfo=UTC)))
    assert answer.status_code == 200 and answer.json()["applied"] is False  # inbox 2 unknown until the sync
    assert _count(linked, Message) == 0
    assert _count(linked, RawEvent, RawEvent.processed_at.is_(None)) == 1
    _sync(linked)
    assert _count(linked, Message) == 22
    assert _count(linked, RawEvent, RawEvent.kind.like("webhook.%"), RawEvent.processed_at.is_(None)) == 0


def test_webhook_and_sync_agree_and_never_double_count(client: TestClient, linked: Linked) -> None:
    _sync(linked)
    created = datetime.now(UTC).replace(microsecond=0)  # changes happen after the sync's snapshot
    # Chatwoot stores a new incoming message and, later, resolves the conversation; both webhooks arrive.
    naive = created.replace(tzinfo=None)
    linked.chatwoot(
        "INSERT INTO messages (id, content, account_id, inbox_id, conversation_id, message_type, sender_type,"
        " sender_id, created_at, updated_at) VALUES (200, 'Ainda tem horário?', 1, 2, 4, 0, 'Contact', 4, %s, %s)",
        (naive, naive),
    )
    answer = _post(client, linked, message_payload(200, "Ainda tem horário?", created))
    assert answer.status_code == 200 and answer.json()["applied"] is True
    with tenant_session(linked.tenant_id) as session:
        message = session.scalars(select(Message).where(Message.external_id == "cw:200")).one()
    assert (message.direction, message.sender_kind, message.created_at) == ("incoming", "contact", created)

    resolved_at = created + timedelta(minutes=5)
    linked.chatwoot(
        "UPDATE conversations SET status = 1, updated_at = %s WHERE id = 4", (resolved_at.replace(tzinfo=None),)
    )
    linked.chatwoot(
        "INSERT INTO reporting_events (name, value, account_id, inbox_id, user_id, conversation_id, created_at,"
        " updated_at, event_start_time, event_end_time) VALUES ('conversation_resolved', 1, 1, 2, 2, 4, %s, %s,"
        " %s, %s)",
        (
            (resolved_at + timedelta(seconds=2)).replace(tzinfo=None),
            (resolved_at + timedelta(seconds=2)).replace(tzinfo=None),
            datetime(2026, 2, 4, 22),
            resolved_at.replace(tzinfo=None),
        ),
    )
    # the webhook is built a moment later by Chatwoot's async job, so its updated_at differs by a second or two
    late = resolved_at + timedelta(seconds=1, milliseconds=500)
    for event in ("conversation_status_changed", "conversation_updated"):
        assert _post(client, linked, conversation_payload(event, "resolved", late)).json()["applied"] is True
    assert _resolves_of_conversation_4(linked) == [("webhook", late)]

    result = _sync(linked)
    assert result.stats.written["messages"] == 1  # the same message, read again from the database
    assert _count(linked, Message) == 23  # 22 + 1, not 24
    assert _count(linked, Message, Message.external_id == "cw:200") == 1
    assert _resolves_of_conversation_4(linked) == [("reporting_event", resolved_at)]  # one resolve, not two


def _resolves_of_conversation_4(linked: Linked) -> list[tuple[str, datetime]]:
    with tenant_session(linked.tenant_id) as session:
        rows = session.execute(
            select(ConversationStatusChange.origin, ConversationStatusChange.at)
            .join(Conversation, Conversation.id == ConversationStatusChange.conversation_id)
            .where(Conversation.external_id == "cw:4", ConversationStatusChange.to_status == "resolved")
        ).all()
    return [(str(origin), at) for origin, at in rows]


def test_message_deletion_and_contact_updates_arrive_by_webhook(client: TestClient, linked: Linked) -> None:
    _sync(linked)
    deleted = message_payload(
        21,
        "This message was deleted",
        datetime(2026, 2, 4, 22, tzinfo=UTC),
        event="message_updated",
        content_attributes={"deleted": True},
    )
    assert _post(client, linked, deleted).json()["applied"] is True
    contact = {
        "event": "contact_updated",
        "id": 4,
        "name": "Joana Prado",
        "email": "Joana@Example.com",
        "phone_number": "+5511988887777",
        "identifier": None,
        "additional_attributes": {"city": "Campinas"},
        "custom_attributes": {},
        "account": {"id": 1, "name": "Clínica Sorriso"},
    }
    assert _post(client, linked, contact).json()["applied"] is True
    with tenant_session(linked.tenant_id) as session:
        message = session.scalars(select(Message).where(Message.external_id == "cw:21")).one()
        person = session.scalars(
            select(Contact).join(ContactIdentity).where(ContactIdentity.kind == "chatwoot_contact_id")
            .where(ContactIdentity.value == "4")
        ).one()  # fmt: skip
    assert message.is_deleted and message.content == "This message was deleted"
    assert (person.name, person.email, person.city) == ("Joana Prado", "joana@example.com", "Campinas")
    assert _count(linked, Message) == 22  # an update, not a new message
