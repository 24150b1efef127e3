"""Conversations: one message per row, grouped into conversations by ``conversation_id`` (see docs/imports.md).

Messages are upserted on ``message_id`` (given, or derived from the row so a re-import adds nothing); inboxes,
agents and contacts are found or created; then every conversation the chunk touched is recomputed from all its
stored messages, so a later file that adds messages extends the conversation and moves its timestamps.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select

from pulso.collect.imports import values
from pulso.collect.imports.conversation_store import ensure_conversations, recompute_conversations
from pulso.collect.imports.fields import Field, KindSpec, ParseContext, Record
from pulso.collect.imports.upsert import Counts, Keyed, table_of, upsert
from pulso.store.models.silver import CHANNEL_TYPES, CONVERSATION_STATUSES, Agent, Inbox, Message
from pulso.store.session import PulsoSession

SENDER_SYNONYMS = {
    "contact": ("contact", "contato", "cliente", "customer", "incoming", "entrada", "recebida", "lead"),
    "agent": ("agent", "agente", "atendente", "user", "usuario", "usuário", "humano", "outgoing", "saida", "saída"),
    "bot": ("bot", "robo", "robô", "chatbot", "automacao", "automação"),
    "system": ("system", "sistema", "activity", "atividade"),
}
SENDER_KINDS = {synonym: kind for kind, synonyms in SENDER_SYNONYMS.items() for synonym in synonyms}
TRUE, FALSE = ("true", "1", "yes", "sim", "s", "y", "t"), ("false", "0", "no", "nao", "não", "n", "f", "")


def _text(max_length: int) -> Any:
    return lambda value, _context: values.text(value, max_length)


def sender_kind(value: Any) -> str:
    cleaned = str(value).strip().lower()
    if cleaned not in SENDER_KINDS:
        raise ValueError(f"{value!r} is not a sender (contact, agent, bot, system or a pt-BR synonym like cliente)")
    return SENDER_KINDS[cleaned]


def boolean(value: Any) -> bool:
    cleaned = str(value).strip().lower()
    if cleaned in TRUE:
        return True
    if cleaned in FALSE:
        return False
    raise ValueError(f"{value!r} is not a yes/no value (true/false, sim/não, 1/0)")


def content(value: Any) -> str:
    text = str(value)
    if "\x00" in text:  # PostgreSQL text cannot hold NUL
        raise ValueError("contains NUL characters")
    return text


def labels(value: Any) -> list[str]:
    return sorted({part.strip().lower() for part in re.split(r"[,;|]", str(value)) if part.strip()})


SPEC = KindSpec(
    name="conversations",
    fields=(
        Field("conversation_id", _text(64), required=True, aliases=("conversa", "conversation", "ticket_id")),
        Field("message_id", _text(64), aliases=("mensagem_id",), help="default: derived from the row"),
        Field("timestamp", lambda v, c: values.timestamp(v, c.zone), required=True, aliases=("created_at", "data")),
        Field("sender_type", lambda v, _c: sender_kind(v), aliases=("direction", "sender", "remetente", "tipo")),
        Field("sender_name", _text(200), aliases=("nome_remetente",)),
        Field("agent_email", lambda v, _c: values.email(v), aliases=("email_atendente",)),
        Field("agent_name", _text(200), aliases=("atendente", "agente")),
        Field("contact_phone", lambda v, _c: values.phone(v), aliases=("phone", "telefone", "celular", "whatsapp")),
        Field("contact_email", lambda v, _c: values.email(v), aliases=("email", "e_mail")),
        Field("contact_name", _text(200), aliases=("nome", "cliente", "name")),
        Field("content", lambda v, _c: content(v), aliases=("text", "texto", "mensagem", "message", "body")),
        Field("content_type", _text(32), help="default text"),
        Field("private", lambda v, _c: boolean(v), aliases=("is_private", "privada", "nota_interna")),
        Field("inbox", _text(200), aliases=("caixa", "inbox_name")),
        Field("channel", lambda v, _c: values.choice(v, CHANNEL_TYPES), aliases=("canal", "channel_type")),
        Field("status", lambda v, _c: values.choice(v, CONVERSATION_STATUSES)),
        Field("labels", lambda v, _c: labels(v), aliases=("etiquetas", "tags")),
    ),
)


def derived_message_id(line: int, record: Record) -> str:
    """Stable across re-imports of the same file: conversation, time, sender, content hash and line."""
    content = hashlib.sha256(str(record.get("content", "")).encode()).hexdigest()
    sender = f"{record['sender_type']}:{record.get('sender_name', '')}:{record.get('agent_email', '')}"
    parts = (record["conversation_id"], record["timestamp"].isoformat(), sender, content, str(line))
    return "import-" + hashlib.sha256("\n".join(parts).encode()).hexdigest()[:48]


def agent_key(record: Record) -> str | None:
    """An agent's external id: the normalised e-mail, else the name lower-cased with spaces collapsed."""
    if record.get("agent_email"):
        return str(record["agent_email"])[:64]
    name = record.get("agent_name") or (
        record.get("sender_name") if record["sender_type"] in ("agent", "bot") else None
    )
    return " ".join(str(name).lower().split())[:64] if name else None


def inbox_key(name: str) -> str:
    return "import-" + "-".join(re.findall(r"\w+", name.lower()))[:57]


def write(session: PulsoSession, rows: Sequence[tuple[int, Record]], context: ParseContext) -> Counts:
    for line, record in rows:
        record.setdefault("sender_type", "contact")
        record.setdefault("message_id", derived_message_id(line, record))
    inbox_ids = _ensure_inboxes(session, rows)
    agent_ids = _ensure_agents(session, rows)
    conversation_ids = ensure_conversations(session, rows, inbox_ids)
    keyed = [
        Keyed(
            record["message_id"],
            {
                "external_id": record["message_id"],
                "conversation_id": conversation_ids[record["conversation_id"]],
                "direction": "incoming" if record["sender_type"] == "contact" else "outgoing",
                "sender_kind": record["sender_type"],
                "agent_id": agent_ids.get(agent_key(record) or "")
                if record["sender_type"] in ("agent", "bot")
                else None,
                "content": record.get("content", ""),
                "content_type": record.get("content_type", "text"),
                "is_private": bool(record.get("private", False)),
                "created_at": record["timestamp"],
            },
        )
        for _line, record in rows
    ]
    counts = upsert(session, Message, [Message.external_id], keyed)
    recompute_conversations(session, rows, conversation_ids)
    return counts


def _ensure_inboxes(session: PulsoSession, rows: Sequence[tuple[int, Record]]) -> dict[str, int]:
    """Inbox id by inbox name; a row without one goes to "Import (<channel>)"."""
    wanted: dict[str, tuple[str, str]] = {}
    for _line, record in rows:
        channel = record.get("channel", "other")
        name = record.setdefault("inbox", f"Import ({channel})")
        wanted.setdefault(inbox_key(name), (name, channel))
    query = select(Inbox.external_id, Inbox.id).where(Inbox.external_id.in_(list(wanted)))
    existing: dict[Any, Any] = dict(session.execute(query).all())
    missing = [
        {"tenant_id": session.tenant_id, "external_id": key, "name": name, "channel_type": channel}
        for key, (name, channel) in wanted.items()
        if key not in existing
    ]
    if missing:
        session.execute(insert(table_of(Inbox)), missing)
        existing = dict(session.execute(query).all())
    return {record["inbox"]: int(existing[inbox_key(record["inbox"])]) for _line, record in rows}


def _ensure_agents(session: PulsoSession, rows: Sequence[tuple[int, Record]]) -> dict[str, int]:
    """Agent id by external id, creating agents (human, or bot for bot senders) not seen before."""
    wanted: dict[str, dict[str, Any]] = {}
    for _line, record in rows:
        key = agent_key(record)
        if key and record["sender_type"] in ("agent", "bot"):
            name = record.get("agent_name") or record.get("sender_name") or key
            kind = "bot" if record["sender_type"] == "bot" else "human"
            wanted.setdefault(key, {"name": name, "email": record.get("agent_email"), "kind": kind})
    if not wanted:
        return {}
    query = select(Agent.external_id, Agent.id).where(Agent.external_id.in_(list(wanted)))
    existing = {str(k): int(v) for k, v in session.execute(query)}
    missing = [{"tenant_id": session.tenant_id, "external_id": k, **v} for k, v in wanted.items() if k not in existing]
    if missing:
        session.execute(insert(table_of(Agent)), missing)
        existing = {str(k): int(v) for k, v in session.execute(query)}
    return existing
