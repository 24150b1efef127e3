"""The Chatwoot sync against the fixture database in real PostgreSQL: full, incremental, sweep, crash and resume.

The Pulso side runs on SQLite and on PostgreSQL (under row-level security), through ``any_settings``.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from pulso.connectors.chatwoot import load
from pulso.connectors.chatwoot.sync import ChatwootSync, Page, _Committed, read_watermark
from pulso.store import tenant_session
from pulso.store.models import (
    Agent,
    Contact,
    ContactIdentity,
    Conversation,
    ConversationStatusChange,
    Feedback,
    Inbox,
    Message,
    RawEvent,
    Source,
    SourceReportingEvent,
    Team,
)
from tests.connectors.chatwoot.conftest import Linked

pytestmark = pytest.mark.postgres


def _sync(linked: Linked, *, full: bool = False, **settings: Any) -> Any:
    return ChatwootSync(linked.config(), settings=linked.settings.model_copy(update=settings)).run(full=full)


def _count(linked: Linked, model: Any, *where: Any) -> int:
    with tenant_session(linked.tenant_id) as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def _messages(linked: Linked) -> dict[str, Message]:
    with tenant_session(linked.tenant_id) as session:
        return {m.external_id: m for m in session.scalars(select(Message))}


def _conversations(linked: Linked) -> dict[str, Conversation]:
    with tenant_session(linked.tenant_id) as session:
        return {c.external_id: c for c in session.scalars(select(Conversation))}


def _changes(linked: Linked) -> list[tuple[str, datetime, str | None, str, bool]]:
    with tenant_session(linked.tenant_id) as session:
        rows = session.execute(
            select(
                Conversation.external_id,
                ConversationStatusChange.at,
                ConversationStatusChange.from_status,
                ConversationStatusChange.to_status,
                ConversationStatusChange.by_bot_handoff,
            )
            .join(Conversation, Conversation.id == ConversationStatusChange.conversation_id)
            .order_by(Conversation.external_id, ConversationStatusChange.at)
        ).all()
    return [tuple(row) for row in rows]  # type: ignore[misc]


def utc(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 2, day, hour, minute, second, tzinfo=UTC)


def test_full_sync_brings_account_1_and_nothing_of_account_2(linked: Linked) -> None:
    result = _sync(linked)
    assert result.mode == "full"
    assert result.stats.written["messages"] == 22  # account 1's messages; C5 (account 2) has the other two
    assert _count(linked, Conversation) == 4
    assert _count(linked, Message) == 22
    assert _count(linked, SourceReportingEvent) == 12
    assert _count(linked, Feedback) == 1
    assert _count(linked, Team) == 1
    assert _count(linked, ContactIdentity, ContactIdentity.kind == "chatwoot_contact_id") == 4
    with tenant_session(linked.tenant_id) as session:
        inboxes = {i.external_id: i for i in session.scalars(select(Inbox))}
        agents = {a.external_id: (a.name, a.kind) for a in session.scalars(select(Agent))}
        feedback = session.scalars(select(Feedback)).one()
        source = session.scalars(select(Source)).one()
    assert {k: i.channel_type for k, i in inboxes.items()} == {"cw:1": "whatsapp", "cw:2": "instagram"}
    assert inboxes["cw:1"].working_hours is None  # business hours disabled on the WhatsApp inbox
    assert inboxes["cw:2"].timezone == "America/Sao_Paulo"
    assert inboxes["cw:2"].working_hours is not None and len(inboxes["cw:2"].working_hours) == 7
    assert {kind for _name, kind in agents.values()} == {"human", "bot"}
    assert "cw:user:3" not in agents  # Carla works in account 2 only
    assert (feedback.kind, feedback.score, feedback.comment) == ("csat", 5, "Ótimo atendimento")
    assert source.last_synced_at is not None and source.last_error is None
    assert result.stats.written["labels"] == 3  # limpeza, retorno, paciente; account 2's retorno is not read
    with tenant_session(linked.tenant_id) as session:
        labels = session.scalars(select(RawEvent.payload).where(RawEvent.kind == "labels")).one()
    assert sorted(row["title"] for row in labels["rows"]) == ["limpeza", "paciente", "retorno"]


def test_messages_keep_chatwoot_semantics(linked: Linked) -> None:
    _sync(linked)
    messages = _messages(linked)
    assert messages["cw:14"].is_deleted and messages["cw:14"].content == "This message was deleted"
    assert not messages["cw:13"].is_deleted
    assert messages["cw:8"].is_private and messages["cw:22"].is_private
    assert messages["cw:2"].sender_kind == "bot" and messages["cw:20"].sender_kind == "bot"
    assert (messages["cw:6"].sender_kind, messages["cw:6"].direction) == ("agent", "outgoing")
    assert messages["cw:1"].sender_kind == "contact" and messages["cw:1"].direction == "incoming"
    assert (messages["cw:4"].message_type, messages["cw:4"].sender_kind) == ("activity", "system")
    survey = messages["cw:11"]  # content_attributes is double-encoded in the database
    assert survey.message_type == "template" and survey.content_type == "input_csat"
    assert survey.attributes == {"csat_survey_response": {"rating": 5, "feedback_message": "Ótimo atendimento"}}
    assert messages["cw:1"].created_at == utc(2, 10)  # naive UTC in Chatwoot, aware UTC here: no shift


def test_conversations_are_keyed_by_display_id_with_labels_team_and_status_history(linked: Linked) -> None:
    _sync(linked)
    conversations = _conversations(linked)
    assert set(conversations) == {"cw:1", "cw:2", "cw:3", "cw:4"}
    assert conversations["cw:1"].labels == ["limpeza"] and conversations["cw:2"].labels == ["retorno"]
    assert conversations["cw:1"].team_id is not None and conversations["cw:2"].team_id is None
    assert {k: c.status for k, c in conversations.items()} == {
        "cw:1": "resolved",
        "cw:2": "resolved",
        "cw:3": "resolved",
        "cw:4": "open",
    }
    assert conversations["cw:2"].first_reply_at == utc(3, 12, 30)
    assert _changes(linked) == [
        ("cw:1", utc(2, 10, 2), "pending", "open", True),  # bot hand-off and conversation_opened, merged
        ("cw:1", utc(2, 10, 10), None, "resolved", False),
        ("cw:2", utc(3, 12, 40), None, "resolved", False),
        ("cw:2", utc(4, 13), "resolved", "open", False),  # the reopen
        ("cw:2", utc(4, 13, 30), None, "resolved", False),
        ("cw:3", utc(3, 14, 5), None, "resolved", False),  # resolved by status change alone (bot)
    ]
    with tenant_session(linked.tenant_id) as session:
        maria = session.scalars(
            select(Contact).join(ContactIdentity).where(ContactIdentity.kind == "chatwoot_contact_id")
            .where(ContactIdentity.value == "1")
        ).one()  # fmt: skip
    assert maria.attributes["chatwoot"]["labels"] == ["paciente"]


def test_second_sync_is_idempotent_and_writes_nothing_new(linked: Linked) -> None:
    _sync(linked)
    before = (_count(linked, Message), _count(linked, ConversationStatusChange), _count(linked, Contact))
    again = _sync(linked)
    assert again.mode == "incremental"
    # nothing changed since the snapshot: the overlap re-reads nothing this old
    assert again.stats.written.get("messages", 0) == 0
    assert (_count(linked, Message), _count(linked, ConversationStatusChange), _count(linked, Contact)) == before
    full_again = _sync(linked, full=True)
    assert full_again.stats.written["messages"] == 22  # re-read everything ...
    assert (_count(linked, Message), _count(linked, ConversationStatusChange), _count(linked, Contact)) == before


def test_incremental_sync_reads_changes_since_the_watermark(linked: Linked) -> None:
    _sync(linked)
    now = datetime.now(UTC).replace(tzinfo=None)
    linked.chatwoot(
        "INSERT INTO messages (id, content, account_id, inbox_id, conversation_id, message_type, sender_type,"
        " sender_id, created_at, updated_at) VALUES (100, 'Ainda tem horário?', 1, 2, 4, 0, 'Contact', 4, %s, %s),"
        " (101, 'Temos sim', 1, 2, 4, 1, 'User', 2, %s, %s), (102, 'account 2', 2, 3, 5, 0, 'Contact', 5, %s, %s)",
        (now, now, now, now, now, now),
    )
    linked.chatwoot("UPDATE conversations SET status = 1, updated_at = %s WHERE id = 4", (now,))
    linked.chatwoot("UPDATE contacts SET name = 'Joana Souza', updated_at = %s WHERE id = 4", (now,))
    result = _sync(linked)
    assert result.mode == "incremental"
    assert result.stats.written["messages"] == 2  # not account 2's
    assert result.stats.written["conversations"] == 1 and result.stats.written["contacts"] == 1
    messages = _messages(linked)
    assert messages["cw:101"].sender_kind == "agent" and messages["cw:100"].direction == "incoming"
    assert _conversations(linked)["cw:4"].status == "resolved"
    assert ("cw:4", now.replace(tzinfo=UTC, microsecond=0), "open", "resolved", False) in [
        (k, at.replace(microsecond=0), f, t, b) for k, at, f, t, b in _changes(linked)
    ]
    with tenant_session(linked.tenant_id) as session:
        state = read_watermark(session, linked.config().source_id, "messages")
        joana = session.scalars(
            select(Contact.name).join(ContactIdentity).where(ContactIdentity.value == "4")
            .where(ContactIdentity.kind == "chatwoot_contact_id")
        ).one()  # fmt: skip
    assert state is not None and state["mode"] == "incremental" and state["id"] == 101
    assert joana == "Joana Souza"
    assert _count(linked, Message) == 24


def test_sweep_catches_changes_that_keep_updated_at_and_hard_deletes(linked: Linked) -> None:
    _sync(linked)
    # an agent leaves: Chatwoot nulls assignee_id with a bulk update that does not touch updated_at
    linked.chatwoot("UPDATE conversations SET assignee_id = NULL WHERE id = 2")
    linked.chatwoot("DELETE FROM conversations WHERE id = 3")  # hard delete; Chatwoot sends no event
    linked.chatwoot("DELETE FROM contacts WHERE id = 3")
    plain = _sync(linked, chatwoot_sweep_every_hours=1000.0)
    assert not plain.swept
    assert _conversations(linked)["cw:2"].assignee_agent_id is not None  # invisible to an incremental read
    assert "cw:3" in _conversations(linked)
    swept = _sync(linked, chatwoot_sweep_every_hours=0.0, chatwoot_sweep_window_days=3650)
    assert swept.swept and swept.deleted == {"conversations": 1, "contacts": 1}
    conversations = _conversations(linked)
    assert conversations["cw:2"].assignee_agent_id is None
    assert "cw:3" not in conversations
    assert _count(linked, Message) == 20  # C3's two messages went with it
    assert _count(linked, ContactIdentity, ContactIdentity.value == "3") == 0


def test_a_crash_mid_sync_resumes_without_gaps_or_duplicates(linked: Linked, monkeypatch: pytest.MonkeyPatch) -> None:
    real = load.load_messages
    calls = {"n": 0}

    def crash_on_third_page(*args: Any, **kwargs: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise ConnectionError("simulated crash while writing page 3")
        real(*args, **kwargs)

    monkeypatch.setattr(load, "load_messages", crash_on_third_page)
    with pytest.raises(ConnectionError):
        _sync(linked, chatwoot_page_size=5, chatwoot_writers=1)
    assert _count(linked, Message) == 10  # two pages of five committed, the third rolled back
    with tenant_session(linked.tenant_id) as session:
        state = read_watermark(session, linked.config().source_id, "messages")
        error = session.scalars(select(Source.last_error)).one()
    assert state == {**state, "mode": "full", "last_id": 10}  # the resume point: after the last committed row
    assert error is not None and "simulated crash" in error
    monkeypatch.setattr(load, "load_messages", real)
    resumed = _sync(linked, chatwoot_page_size=5, chatwoot_writers=1)
    assert resumed.stats.written["messages"] == 12  # only the rest
    ids = sorted(int(key[3:]) for key in _messages(linked))
    assert ids == sorted(i for i in range(1, 23))  # every message of account 1, once
    with tenant_session(linked.tenant_id) as session:
        assert session.scalars(select(Source.last_error)).one() is None
    assert _count(linked, RawEvent, RawEvent.kind == "messages") >= 5  # bronze pages, each written once


def test_inbox_selection_limits_the_sync(linked: Linked) -> None:
    config = linked.config()
    only_instagram = type(config)(**{**config.__dict__, "inbox_ids": (2,)})
    ChatwootSync(only_instagram, settings=linked.settings).run()
    assert set(_conversations(linked)) == {"cw:2", "cw:4"}
    assert _count(linked, Message) == 9  # C2 7 + C4 2


def test_contact_inboxes_give_a_whatsapp_phone_but_never_an_instagram_id(linked: Linked) -> None:
    linked.chatwoot("UPDATE contacts SET phone_number = NULL WHERE id = 1")  # known only by its WhatsApp id
    _sync(linked)
    with tenant_session(linked.tenant_id) as session:
        query = (
            select(ContactIdentity.value, Contact)
            .join(Contact, Contact.id == ContactIdentity.contact_id)
            .where(ContactIdentity.kind == "chatwoot_contact_id")
        )
        people = {str(value): contact for value, contact in session.execute(query).all()}
        phones = set(session.scalars(select(ContactIdentity.value).where(ContactIdentity.kind == "phone")))
    assert people["1"].phone == "+5511987650001"  # from contact_inboxes.source_id of the WhatsApp inbox
    assert people["2"].phone is None  # Paula's Instagram id is a number, not a phone
    assert people["2"].attributes["chatwoot"]["inboxes"] == [
        {"inbox_id": 2, "source_id": "1784140000000101", "channel_type": "Channel::Instagram"}
    ]
    assert phones == {"+5511987650001", "+5511987650003"}


def test_a_tracked_visitor_who_writes_on_whatsapp_is_one_person(linked: Linked) -> None:
    from pulso.collect.imports.contact_book import ContactBook

    with tenant_session(linked.tenant_id) as session:  # known before from the site (e.g. a form with her phone)
        book = ContactBook(session, [("phone", "+5511987650001")])
        book.find_or_create([("phone", "+5511987650001")], {"name": "Maria (site)", "lifecycle_stage": "visitor"})
        visitor_id = book.save()[("new", 0)]
    _sync(linked)
    with tenant_session(linked.tenant_id) as session:
        owner = session.scalar(
            select(ContactIdentity.contact_id).where(
                ContactIdentity.kind == "chatwoot_contact_id", ContactIdentity.value == "1"
            )
        )
        maria = session.get_one(Contact, visitor_id)
    assert owner == visitor_id
    assert maria.lifecycle_stage == "lead" and maria.name == "Maria Souza"  # upgraded, never downgraded


def test_a_failure_in_the_parallel_events_stream_fails_the_sync_and_resumes(
    linked: Linked, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = load.load_reporting_events

    def broken(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("simulated failure while writing reporting events")

    monkeypatch.setattr(load, "load_reporting_events", broken)
    with pytest.raises(ConnectionError, match="reporting events"):
        _sync(linked)
    assert _count(linked, SourceReportingEvent) == 0
    assert _count(linked, Message) == 22  # the messages stream finished and committed meanwhile
    monkeypatch.setattr(load, "load_reporting_events", real)
    resumed = _sync(linked)
    assert resumed.stats.written["reporting_events"] == 12 and "messages" not in resumed.stats.written
    assert _count(linked, SourceReportingEvent) == 12


def test_parallel_writers_resume_from_a_gap_free_watermark(linked: Linked, monkeypatch: pytest.MonkeyPatch) -> None:
    """With two page writers pages can commit out of order; the watermark must never pass a page that did not
    commit. Here page 3 (messages 11-15) fails only once page 4 (16-20), written by the other writer, has
    committed."""
    real = load.load_messages
    postgres = (linked.settings.database_url or "").startswith("postgresql")

    def crash_on_page_three(refs: Any, records: Any, stats: Any) -> None:
        if any(r["external_id"] == "cw:11" for r in records):
            deadline = time.monotonic() + 20
            while postgres and "cw:16" not in _messages(linked) and time.monotonic() < deadline:
                time.sleep(0.02)
            raise ConnectionError("simulated crash while writing page 3")
        real(refs, records, stats)

    monkeypatch.setattr(load, "load_messages", crash_on_page_three)
    with pytest.raises(ConnectionError):
        _sync(linked, chatwoot_page_size=5, chatwoot_writers=2)
    stored = sorted(int(key[3:]) for key in _messages(linked))
    with tenant_session(linked.tenant_id) as session:
        state = read_watermark(session, linked.config().source_id, "messages")
    assert state is not None and state["mode"] == "full"
    assert [i for i in stored if i <= 15] == list(range(1, 11))  # pages 1 and 2; page 3 rolled back
    if postgres:  # two writers (SQLite has one): page 4 (and perhaps 5) committed past the failed page 3
        assert set(range(16, 21)) <= set(stored)
    mark = int(state["last_id"])  # 10, or 5 if page 2 finished before page 1 had committed
    assert mark in (5, 10)  # ... but never past the gap
    monkeypatch.setattr(load, "load_messages", real)
    resumed = _sync(linked, chatwoot_page_size=5, chatwoot_writers=2)
    assert resumed.stats.written["messages"] == 22 - mark  # all after the watermark; page 4 again, harmlessly
    assert sorted(int(key[3:]) for key in _messages(linked)) == list(range(1, 23))  # every message, once
    with tenant_session(linked.tenant_id) as session:
        state = read_watermark(session, linked.config().source_id, "messages")
    assert state is not None and state["mode"] == "incremental"


def test_parallel_page_writers_write_what_one_writer_writes(linked: Linked) -> None:
    parallel = _sync(linked, chatwoot_page_size=3, chatwoot_writers=3)
    assert parallel.stats.written["messages"] == 22
    assert sorted(int(key[3:]) for key in _messages(linked)) == list(range(1, 23))
    single = _sync(linked, full=True, chatwoot_page_size=3, chatwoot_writers=1)
    assert parallel.stats.written == single.stats.written and parallel.stats.skipped == single.stats.skipped
    assert _count(linked, Message) == 22


def _conversation_contacts(linked: Linked) -> dict[str, str | None]:
    """Conversation key -> the Chatwoot id of the contact Pulso linked it to."""
    with tenant_session(linked.tenant_id) as session:
        chatwoot_ids = dict(
            session.execute(
                select(ContactIdentity.contact_id, ContactIdentity.value).where(
                    ContactIdentity.kind == "chatwoot_contact_id"
                )
            ).all()
        )
        return {c.external_id: chatwoot_ids.get(c.contact_id) for c in session.scalars(select(Conversation))}


def test_conversations_overlapping_contacts_still_find_every_contact(linked: Linked) -> None:
    """One row per page: on PostgreSQL the conversations run beside the contacts and must wait for each one."""
    _sync(linked, chatwoot_page_size=1, chatwoot_writers=2)
    expected = {
        f"cw:{display_id}": str(contact_id)
        for display_id, contact_id in linked.chatwoot(
            "SELECT display_id, contact_id FROM conversations WHERE account_id = 1 AND contact_id IS NOT NULL"
        )
    }
    assert _conversation_contacts(linked) == expected
    assert len(expected) == 4


def test_a_failing_contacts_stream_stops_the_conversations(linked: Linked, monkeypatch: pytest.MonkeyPatch) -> None:
    real = load.load_contacts
    calls = {"n": 0}

    def fail_on_second_page(refs: Any, records: Any) -> int:
        calls["n"] += 1
        if calls["n"] == 2:
            raise ConnectionError("simulated failure in the contacts")
        return int(real(refs, records))

    monkeypatch.setattr(load, "load_contacts", fail_on_second_page)
    with pytest.raises(ConnectionError, match="contacts"):
        _sync(linked, chatwoot_page_size=1, chatwoot_writers=2)
    assert set(_conversation_contacts(linked).values()) <= {"1", None}  # nothing waited past contact 1
    monkeypatch.setattr(load, "load_contacts", real)
    _sync(linked, chatwoot_page_size=1, chatwoot_writers=2)
    assert len({v for v in _conversation_contacts(linked).values() if v}) == 4


def test_the_contacts_gate_waits_for_committed_contacts() -> None:
    committed = _Committed()
    page = Page("conversations", [{"id": 1, "contact_id": 7}, {"id": 2, "contact_id": None}], [], [], b"")
    passed = threading.Event()

    def conversations() -> None:
        committed.wait_for(page)
        passed.set()

    thread = threading.Thread(target=conversations)
    thread.start()
    committed.advance(6)
    assert not passed.wait(0.2)  # contact 7 has not committed yet
    committed.advance(7)
    assert passed.wait(5)
    thread.join()
    failed = _Committed()
    failed.finish(failed=True)
    with pytest.raises(RuntimeError, match="contacts stream failed"):
        failed.wait_for(page)
    done = _Committed()
    done.finish()
    done.wait_for(page)  # a contact that never comes (outside the selection) does not block once contacts are done
