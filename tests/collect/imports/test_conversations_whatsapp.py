"""The WhatsApp chat export parser: a pure function, on realistic pt-BR Android and iOS exports."""

from __future__ import annotations

from datetime import datetime

from pulso.collect.imports.whatsapp_export import ExportMessage, contact_name, conversation_id, parse_export, rows_of

ANDROID = (
    "31/01/2026 14:00 - As mensagens e as chamadas são protegidas com a criptografia de ponta a ponta e ficam "
    "somente entre você e os participantes desta conversa. Nem mesmo o WhatsApp pode ler ou ouvir o conteúdo "
    "delas. Toque para saber mais.\n"
    "31/01/2026 14:05 - Maria Silva: Oi, tudo bem?\n"
    "Queria marcar uma limpeza\n"
    "31/01/2026 14:07 - Clínica Sorriso: Olá Maria! Temos horário amanhã às 10h.\n"
    "31/01/2026 14:08 - Maria Silva: <Mídia oculta>\n"
    "31/01/2026 14:10 - Maria Silva mudou para +55 11 98765-4321\n"
)
IOS = (
    "\u200e[31/01/2026, 14:05:33] Maria Silva: \u200eAs mensagens e as chamadas são protegidas com a "
    "criptografia de ponta a ponta e ficam somente entre você e os participantes desta conversa.\n"
    "[31/01/2026, 14:05:40] Maria Silva: Oi, tudo bem?\n"
    "[31/01/2026, 14:06:02] Ana (Clínica): Oi Maria!\n"
    "Pode ser amanhã?\n"
    "\n"
    "Às 10h\n"
    "[31/01/2026, 14:07:10] Maria Silva: \u200eimagem ocultada\n"
)


def test_android_export() -> None:
    messages = list(parse_export(ANDROID.splitlines(keepends=True)))
    assert messages == [
        ExportMessage(2, datetime(2026, 1, 31, 14, 5), "Maria Silva", "Oi, tudo bem?\nQueria marcar uma limpeza"),
        ExportMessage(4, datetime(2026, 1, 31, 14, 7), "Clínica Sorriso", "Olá Maria! Temos horário amanhã às 10h."),
        ExportMessage(5, datetime(2026, 1, 31, 14, 8), "Maria Silva", "<Mídia oculta>", is_media=True),
        ExportMessage(6, datetime(2026, 1, 31, 14, 10), None, "Maria Silva mudou para +55 11 98765-4321"),
    ]
    assert contact_name(messages, ["clínica sorriso"]) == "Maria Silva"


def test_ios_export_with_invisible_marks_and_blank_continuation_lines() -> None:
    messages = list(parse_export(IOS.splitlines(keepends=True)))
    assert messages == [
        ExportMessage(2, datetime(2026, 1, 31, 14, 5, 40), "Maria Silva", "Oi, tudo bem?"),
        ExportMessage(3, datetime(2026, 1, 31, 14, 6, 2), "Ana (Clínica)", "Oi Maria!\nPode ser amanhã?\n\nÀs 10h"),
        ExportMessage(7, datetime(2026, 1, 31, 14, 7, 10), "Maria Silva", "imagem ocultada", is_media=True),
    ]


def test_twelve_hour_times_and_english_system_lines() -> None:
    text = (
        "1/31/26, 2:05 PM - Messages and calls are end-to-end encrypted. No one outside of this chat can read them.\n"
        "1/31/26, 2:05\u202fPM - John: Hi\n"
        "[31/01/2026, 12:01:00 AM] John: <Media omitted>\n"
        "32/13/2026 10:00 - not a date, so part of the previous message\n"
    )
    assert list(parse_export(text.splitlines())) == [
        ExportMessage(2, datetime(2026, 1, 31, 14, 5), "John", "Hi"),
        ExportMessage(
            3,
            datetime(2026, 1, 31, 0, 1),
            "John",
            "<Media omitted>\n32/13/2026 10:00 - not a date, so part of the previous message",
            is_media=True,
        ),
    ]


def test_conversation_id_is_stable_per_file_name_and_contact() -> None:
    first = conversation_id("Conversa do WhatsApp com Maria.txt", "Maria Silva")
    assert first == conversation_id("Conversa do WhatsApp com Maria.txt", "Maria Silva")
    assert first != conversation_id("Conversa do WhatsApp com Maria.txt", "João")
    assert first.startswith("wa-") and len(first) <= 64


def test_rows_of_an_unsaved_contact_carry_its_phone() -> None:
    """A contact not in the phone's address book shows as its number, which becomes the contact's identity."""
    text = "31/01/2026 09:00 - +55 11 98765-4321: Oi\n31/01/2026 09:02 - Loja: Olá!\n"
    messages = list(parse_export(text.splitlines()))
    contact = contact_name(messages, ["Loja"])
    assert contact == "+55 11 98765-4321"
    rows = list(rows_of(messages, ["Loja"], contact, "wa-1"))
    assert [(r.line, r.values["sender_type"], r.values["agent_name"], r.values["contact_phone"]) for r in rows] == [
        (1, "contact", "", "+5511987654321"),
        (2, "agent", "Loja", "+5511987654321"),
    ]
    assert rows[0].values["timestamp"] == "2026-01-31T09:00:00"
    named = list(rows_of(messages, ["Loja"], "Maria Silva", "wa-1"))
    assert named[0].values["contact_phone"] == ""
