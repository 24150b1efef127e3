"""Conversations from JSON Lines, CSV and WhatsApp exports: built from their messages, idempotent, extendable.

Tenant ``loja`` is in São Paulo time (UTC-3): 09:00 local is 12:00Z. Every timestamp below was worked out by hand.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from pulso.store.models import Contact, ContactIdentity
from pulso.store.models.silver import Agent, Conversation, Inbox, Message
from tests.collect.imports.helpers import counts, fetch, run, write


def _jsonl(*rows: dict[str, Any] | str) -> str:
    return "".join((row if isinstance(row, str) else json.dumps(row, ensure_ascii=False)) + "\n" for row in rows)


JSONL = _jsonl(
    {
        "conversation_id": "c1",
        "timestamp": "31/01/2026 09:00",
        "sender_type": "cliente",
        "contact_phone": "(11) 98765-4321",
        "contact_name": "Maria Silva",
        "content": "Oi, quero agendar",
    },
    {"conversation_id": "c1", "timestamp": "31/01/2026 09:01", "sender_type": "robô", "sender_name": "Sofia Bot",
     "content": "Olá! Um atendente já vai falar com você."},
    {"conversation_id": "c1", "timestamp": "31/01/2026 09:05", "sender_type": "atendente",
     "agent_email": "Ana@Sorriso.com", "agent_name": "Ana", "content": "nota: cliente VIP", "private": "sim"},
    {"conversation_id": "c1", "timestamp": "31/01/2026 09:12", "sender_type": "atendente",
     "agent_email": "ana@sorriso.com", "agent_name": "Ana", "content": "Bom dia Maria!",
     "labels": ["agendamento", "VIP"]},
    {"conversation_id": "c2", "timestamp": "2026-02-01T10:00:00Z", "sender_type": "contact",
     "contact_email": "joao@x.com", "content": "Oi", "status": "pending"},
    {"conversation_id": "c2", "timestamp": "ontem", "sender_type": "contact", "content": "?"},
    "not json",
    {"conversation_id": "c2", "timestamp": "2026-02-01T10:00:00Z", "sender_type": "fantasma", "content": "x"},
)  # fmt: skip


def _z(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def _conversations(tenant_id: int) -> list[tuple[Any, ...]]:
    query = select(
        Conversation.external_id,
        Conversation.created_at,
        Conversation.first_reply_at,
        Conversation.last_activity_at,
        Conversation.status,
        Conversation.resolved_at,
        Conversation.labels,
        Conversation.contact_id,
        Conversation.inbox_id,
    ).order_by(Conversation.external_id)
    return [tuple(row) for row in fetch(tenant_id, query)]


def _snapshot(tenant_id: int) -> list[Any]:
    return [
        _conversations(tenant_id),
        fetch(tenant_id, select(Message.external_id, Message.conversation_id, Message.content).order_by(Message.id)),
        fetch(tenant_id, select(Contact.id, Contact.name).order_by(Contact.id)),
        fetch(tenant_id, select(Agent.external_id, Agent.kind).order_by(Agent.id)),
        fetch(tenant_id, select(Inbox.external_id, Inbox.channel_type).order_by(Inbox.id)),
    ]


def test_jsonl_builds_conversations_from_messages(tenant_id: int, tmp_path: Path) -> None:
    summary = run("conversations", write(tmp_path, "m.jsonl", JSONL))
    assert counts(summary) == (8, 5, 0, 0, 3)
    assert [(r.line, r.field) for r in summary.first_rejects] == [(6, "timestamp"), (7, "(row)"), (8, "sender_type")]
    c1, c2 = _conversations(tenant_id)
    # bot at 12:01Z and the private note at 12:05Z do not count as the first reply
    assert c1[:7] == ("c1", _z(2026, 1, 31, 12), _z(2026, 1, 31, 12, 12), _z(2026, 1, 31, 12, 12), "resolved",
                      _z(2026, 1, 31, 12, 12), ["agendamento", "vip"])  # fmt: skip
    assert c2[:7] == ("c2", _z(2026, 2, 1, 10), None, _z(2026, 2, 1, 10), "pending", None, [])
    contacts = fetch(tenant_id, select(Contact.id, Contact.name, Contact.phone, Contact.email).order_by(Contact.id))
    assert [tuple(c[1:]) for c in contacts] == [("Maria Silva", "+5511987654321", None), ("", None, "joao@x.com")]
    assert (c1[7], c2[7]) == (contacts[0][0], contacts[1][0])
    assignees = fetch(
        tenant_id, select(Agent.external_id).join(Conversation, Conversation.assignee_agent_id == Agent.id)
    )
    assert [a[0] for a in assignees] == ["ana@sorriso.com"]  # c2 has no agent message
    identities = fetch(tenant_id, select(ContactIdentity.kind, ContactIdentity.value).order_by(ContactIdentity.id))
    assert sorted(tuple(i) for i in identities) == [("email", "joao@x.com"), ("phone", "+5511987654321")]
    agents = fetch(tenant_id, select(Agent.external_id, Agent.name, Agent.email, Agent.kind).order_by(Agent.id))
    assert sorted(tuple(a) for a in agents) == [
        ("ana@sorriso.com", "Ana", "ana@sorriso.com", "human"),
        ("sofia bot", "Sofia Bot", None, "bot"),
    ]
    assert [tuple(i) for i in fetch(tenant_id, select(Inbox.external_id, Inbox.name, Inbox.channel_type))] == [
        ("import-import-other", "Import (other)", "other")
    ]
    messages = fetch(
        tenant_id,
        select(Message.direction, Message.sender_kind, Message.is_private, Message.agent_id.is_not(None)).order_by(
            Message.created_at, Message.id
        ),
    )
    assert [tuple(m) for m in messages] == [
        ("incoming", "contact", False, False),
        ("outgoing", "bot", False, True),
        ("outgoing", "agent", True, True),
        ("outgoing", "agent", False, True),
        ("incoming", "contact", False, False),
    ]


def test_reimport_is_idempotent(tenant_id: int, tmp_path: Path) -> None:
    path = write(tmp_path, "m.jsonl", JSONL)
    run("conversations", path)
    before = _snapshot(tenant_id)
    assert counts(run("conversations", path)) == (8, 0, 0, 5, 3)
    assert _snapshot(tenant_id) == before


def test_new_messages_extend_a_conversation(tenant_id: int, tmp_path: Path) -> None:
    run("conversations", write(tmp_path, "m.jsonl", JSONL))
    contacts_before = fetch(tenant_id, select(func.count()).select_from(Contact))
    synced = select(Conversation.synced_at).where(Conversation.external_id == "c1")
    (first_synced,) = fetch(tenant_id, synced)[0]
    more = _jsonl(
        {"conversation_id": "c1", "timestamp": "31/01/2026 08:50", "sender_type": "cliente",
         "contact_phone": "11987654321", "content": "Bom dia"},
        {"conversation_id": "c1", "timestamp": "02/02/2026 10:00", "sender_type": "atendente",
         "agent_email": "ana@sorriso.com", "content": "Confirmado!", "labels": "confirmado"},
    )  # fmt: skip
    assert counts(run("conversations", write(tmp_path, "more.jsonl", more))) == (2, 2, 0, 0, 0)
    c1 = _conversations(tenant_id)[0]
    assert c1[:7] == ("c1", _z(2026, 1, 31, 11, 50), _z(2026, 1, 31, 12, 12), _z(2026, 2, 2, 13), "resolved",
                      _z(2026, 2, 2, 13), ["agendamento", "confirmado", "vip"])  # fmt: skip
    assert fetch(tenant_id, select(func.count()).select_from(Contact)) == contacts_before
    assert fetch(tenant_id, select(func.count()).select_from(Message))[0][0] == 7
    assert first_synced is not None and fetch(tenant_id, synced)[0][0] > first_synced  # its facts are recomputed


CSV = (
    "conversa;mensagem_id;data;remetente;atendente;telefone;texto;privada\n"
    "t-1;m1;31/01/2026 14:05;cliente;;11 99999-0000;Oi, tudo bem?;\n"
    't-1;m2;31/01/2026 14:20;atendente;Carla Souza;;"Olá!\nComo posso ajudar?";não\n'
    "t-1;m3;31/01/2026 14:21;atendente;Carla Souza;;teste;talvez\n"
)


def test_csv_with_given_ids_inbox_and_channel(tenant_id: int, tmp_path: Path) -> None:
    rejects = tmp_path / "rejects.csv"
    path = write(tmp_path, "t.csv", CSV)
    summary = run(
        "conversations", path, rejects_path=rejects, options=(("inbox", "Instagram Loja"), ("channel", "instagram"))
    )
    assert counts(summary) == (3, 2, 0, 0, 1)
    assert rejects.read_text(encoding="utf-8").splitlines()[1].startswith("5,private,")  # m2 spans lines 3-4
    (t1,) = _conversations(tenant_id)
    assert t1[:6] == ("t-1", _z(2026, 1, 31, 17, 5), _z(2026, 1, 31, 17, 20), _z(2026, 1, 31, 17, 20), "resolved",
                      _z(2026, 1, 31, 17, 20))  # fmt: skip
    assert [tuple(i) for i in fetch(tenant_id, select(Inbox.external_id, Inbox.name, Inbox.channel_type))] == [
        ("import-instagram-loja", "Instagram Loja", "instagram")
    ]
    assert [tuple(m) for m in fetch(tenant_id, select(Message.external_id, Message.content).order_by(Message.id))] == [
        ("m1", "Oi, tudo bem?"),
        ("m2", "Olá!\nComo posso ajudar?"),
    ]
    assert [tuple(a) for a in fetch(tenant_id, select(Agent.external_id, Agent.name))] == [
        ("carla souza", "Carla Souza")
    ]


ANDROID = (
    "31/01/2026 14:00 - As mensagens e as chamadas são protegidas com a criptografia de ponta a ponta e ficam "
    "somente entre você e os participantes desta conversa.\n"
    "31/01/2026 14:05 - Maria Silva: Oi, tudo bem?\n"
    "Queria marcar uma limpeza\n"
    "31/01/2026 14:07 - Clínica Sorriso: Olá Maria! Temos horário amanhã às 10h.\n"
    "31/01/2026 14:08 - Maria Silva: <Mídia oculta>\n"
    "31/01/2026 14:10 - Maria Silva mudou para +55 11 98765-4321\n"
)


def test_whatsapp_android_export_is_one_conversation(tenant_id: int, tmp_path: Path) -> None:
    path = write(tmp_path, "Conversa do WhatsApp com Maria Silva.txt", ANDROID)
    options = (("agent", "Clínica Sorriso"),)
    assert counts(run("conversations", path, options=options)) == (4, 4, 0, 0, 0)
    (conversation,) = _conversations(tenant_id)
    assert conversation[1:6] == (_z(2026, 1, 31, 17, 5), _z(2026, 1, 31, 17, 7), _z(2026, 1, 31, 17, 10), "resolved",
                                 _z(2026, 1, 31, 17, 10))  # fmt: skip
    assert conversation[0].startswith("wa-")
    messages = fetch(tenant_id, select(Message.sender_kind, Message.content_type, Message.content).order_by(Message.id))
    assert [tuple(m) for m in messages] == [
        ("contact", "text", "Oi, tudo bem?\nQueria marcar uma limpeza"),
        ("agent", "text", "Olá Maria! Temos horário amanhã às 10h."),
        ("contact", "media", "<Mídia oculta>"),
        ("system", "text", "Maria Silva mudou para +55 11 98765-4321"),
    ]
    assert [tuple(i) for i in fetch(tenant_id, select(Inbox.name, Inbox.channel_type))] == [
        ("Import (whatsapp)", "whatsapp")
    ]
    assert [tuple(c) for c in fetch(tenant_id, select(Contact.name))] == [("Maria Silva",)]
    before = _snapshot(tenant_id)
    assert counts(run("conversations", path, options=options)) == (4, 0, 0, 4, 0)
    assert _snapshot(tenant_id) == before


def test_chunk_boundaries_do_not_change_the_result(tenant_id: int, tmp_path: Path) -> None:
    """One message per transaction: conversations and contacts still come out as in one chunk."""
    assert counts(run("conversations", write(tmp_path, "m.jsonl", JSONL), chunk_rows=1)) == (8, 5, 0, 0, 3)
    c1, c2 = _conversations(tenant_id)
    assert c1[1:5] == (_z(2026, 1, 31, 12), _z(2026, 1, 31, 12, 12), _z(2026, 1, 31, 12, 12), "resolved")
    assert c2[4] == "pending"
    assert len(fetch(tenant_id, select(Contact.id))) == 2


def test_inbox_names_with_the_same_key_share_the_inbox_and_nul_is_rejected(tenant_id: int, tmp_path: Path) -> None:
    rows = _jsonl(
        {"conversation_id": "a", "timestamp": "2026-01-31T10:00:00Z", "inbox": "WhatsApp Loja", "content": "1"},
        {"conversation_id": "b", "timestamp": "2026-01-31T10:00:00Z", "inbox": "whatsapp-loja", "content": "2"},
        {"conversation_id": "b", "timestamp": "2026-01-31T10:01:00Z", "content": "nul \u0000 here"},
    )
    summary = run("conversations", write(tmp_path, "m.jsonl", rows))
    assert counts(summary) == (3, 2, 0, 0, 1)
    assert [(r.line, r.field) for r in summary.first_rejects] == [(3, "content")]
    assert [tuple(i) for i in fetch(tenant_id, select(Inbox.external_id, Inbox.name))] == [
        ("import-whatsapp-loja", "WhatsApp Loja")
    ]
    assert len({c[8] for c in _conversations(tenant_id)}) == 1
