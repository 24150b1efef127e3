"""``pulso import conversations`` as a user runs it: WhatsApp iOS export, exit codes 0 / 1 / 2."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from pulso.cli import app
from pulso.store.models.silver import Agent, Conversation, Message
from tests.collect.imports.helpers import fetch, write

runner = CliRunner()
IOS = (
    "\u200e[31/01/2026, 14:05:33] Maria Silva: \u200eAs mensagens e as chamadas são protegidas com a "
    "criptografia de ponta a ponta e ficam somente entre você e os participantes desta conversa.\n"
    "[31/01/2026, 14:05:40] Maria Silva: Oi, tudo bem?\n"
    "[31/01/2026, 14:06:02] Ana (Clínica): Oi Maria!\n"
    "Pode ser amanhã?\n"
    "[31/01/2026, 2:07:10 PM] Maria Silva: \u200eimagem ocultada\n"
)


def pulso(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_ios_export_through_the_cli(tenant_id: int, tmp_path: Path) -> None:
    path = write(tmp_path, "WhatsApp Chat - Maria Silva.txt", IOS)
    args = ("import", "conversations", str(path), "--tenant", "loja", "--agent", "Ana (Clínica)", "--quiet")
    code, out = pulso(*args)
    assert code == 0, out
    assert "rows read" in out
    conversation = fetch(
        tenant_id, select(Conversation.created_at, Conversation.first_reply_at, Conversation.last_activity_at)
    )
    assert [tuple(c) for c in conversation] == [
        (
            datetime(2026, 1, 31, 17, 5, 40, tzinfo=UTC),
            datetime(2026, 1, 31, 17, 6, 2, tzinfo=UTC),
            datetime(2026, 1, 31, 17, 7, 10, tzinfo=UTC),
        )
    ]
    messages = fetch(tenant_id, select(Message.sender_kind, Message.content).order_by(Message.id))
    assert [tuple(m) for m in messages] == [
        ("contact", "Oi, tudo bem?"),
        ("agent", "Oi Maria!\nPode ser amanhã?"),
        ("contact", "imagem ocultada"),
    ]
    assert [tuple(a) for a in fetch(tenant_id, select(Agent.external_id, Agent.kind))] == [("ana (clínica)", "human")]
    assert pulso(*args)[0] == 0
    assert len(fetch(tenant_id, select(Message.id))) == 3


def test_every_row_rejected_exits_1(tenant_id: int, tmp_path: Path) -> None:
    path = write(tmp_path, "bad.csv", "conversation_id,timestamp,content\nc1,amanhã,oi\n")
    code, out = pulso("import", "conversations", str(path), "--tenant", "loja", "--quiet")
    assert code == 1
    assert "rejected line 2: timestamp" in out


@pytest.mark.parametrize(
    ("name", "content", "extra", "message"),
    [
        ("chat.txt", IOS, [], "--agent NAME or --business-name"),
        ("m.csv", "conversation_id,timestamp\n", ["--channel", "fax"], "--channel: 'fax' is not one of"),
        ("m.csv", "conversation_id,content\n", [], "missing required column timestamp"),
        ("m.csv", "conversation_id,timestamp\n", ["--format", "xml"], "--format: 'xml' is not one of"),
    ],
)
def test_usage_errors_exit_2(
    tenant_id: int, tmp_path: Path, name: str, content: str, extra: list[str], message: str
) -> None:
    path = write(tmp_path, name, content)
    code, out = pulso("import", "conversations", str(path), "--tenant", "loja", "--quiet", *extra)
    assert code == 2, out
    assert message in out.replace("\n", "")


def test_jsonl_and_whatsapp_formats_are_only_for_conversations(tenant_id: int, tmp_path: Path) -> None:
    path = write(tmp_path, "o.jsonl", '{"order_id": "A1"}\n')
    code, out = pulso("import", "orders", str(path), "--tenant", "loja", "--format", "jsonl", "--quiet")
    assert code == 2
    assert "only for conversations" in out
