"""WhatsApp's "Export chat" text file: a pure parser, and a source that streams it as conversation rows.

Both layouts are read: Android ``31/01/2026 14:05 - Maria Silva: Oi`` and iOS ``[31/01/2026, 14:05:33] Maria
Silva: Oi``, with 12-hour times (``2:05 PM``) too. Dates are day first (pt-BR). A line without a timestamp
continues the previous message. The end-to-end encryption notice is dropped; other lines without an author
("Maria mudou o número") are system messages; ``<Mídia oculta>`` and the like are ``content_type`` media.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pulso.collect.imports.sources import SourceFile, SourceRow, in_chunks
from pulso.identity import normalize_phone

_STAMP = r"(\d{1,2})/(\d{1,2})/(\d{2,4}),? (\d{1,2}):(\d{2})(?::(\d{2}))?(?: ?([AaPp])\.? ?[Mm]\.?)?"
_ANDROID = re.compile(rf"^{_STAMP} - (.*)$")
_IOS = re.compile(rf"^\[{_STAMP}\] (.*)$")
_INVISIBLE = str.maketrans({"\u200e": None, "\u200f": None, "\ufeff": None, "\u202f": " ", "\xa0": " "})
ENCRYPTION_NOTICES = (
    "end-to-end encrypted",
    "protegidas com a criptografia de ponta a ponta",
    "criptografia de ponta a ponta",
)
MEDIA_MARKERS = (
    "<media omitted>",
    "<mídia oculta>",
    "<arquivo de mídia oculto>",
    "image omitted",
    "imagem ocultada",
    "video omitted",
    "vídeo omitido",
    "audio omitted",
    "áudio ocultado",
    "sticker omitted",
    "figurinha omitida",
    "document omitted",
    "documento omitido",
    "gif omitted",
    "gif omitido",
    "<attached:",
    "<anexado:",
)
HEADER = ["conversation_id", "timestamp", "sender_type", "sender_name", "agent_name", "contact_name"]
HEADER += ["contact_phone", "content", "content_type"]


@dataclass(frozen=True)
class ExportMessage:
    line: int  # where the message starts in the file (first line = 1)
    sent_at: datetime  # naive: the phone's local time
    author: str | None  # None for system lines
    text: str
    is_media: bool = False


def parse_export(lines: Iterable[str]) -> Iterator[ExportMessage]:
    """The messages of an export, in file order; continuation lines are joined to their message with newlines."""
    current: dict[str, Any] | None = None
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r\n").translate(_INVISIBLE)
        match = _ANDROID.match(line) or _IOS.match(line)
        if match is None:
            if current is not None:
                current["text"] += "\n" + line
            continue
        day, month, year, hour, minute, second, meridiem, rest = match.groups()
        try:
            sent_at = _moment(day, month, year, hour, minute, second, meridiem)
        except ValueError:  # not a real date: text that happens to look like a timestamp
            if current is not None:
                current["text"] += "\n" + line
            continue
        if current is not None:
            yield from _finish(current)
        current = {"line": number, "sent_at": sent_at}
        author, sep, text = rest.partition(": ")
        current["author"], current["text"] = (author.strip(), text) if sep else (None, rest)
    if current is not None:
        yield from _finish(current)


def _moment(
    day: str, month: str, year: str, hour: str, minute: str, second: str | None, meridiem: str | None
) -> datetime:
    hours = int(hour)
    if meridiem:
        hours = hours % 12 + (12 if meridiem.lower() == "p" else 0)
    full_year = int(year) + (2000 if len(year) == 2 else 0)
    first, second_part = int(day), int(month)
    if second_part > 12 >= first:  # an export from a phone set to month-first (US) English
        first, second_part = second_part, first
    return datetime(full_year, second_part, first, hours, int(minute), int(second or 0))


def _finish(current: dict[str, Any]) -> Iterator[ExportMessage]:
    text = str(current["text"]).strip()
    lowered = text.lower()
    if any(notice in lowered for notice in ENCRYPTION_NOTICES):
        return
    is_media = any(marker in lowered for marker in MEDIA_MARKERS)
    yield ExportMessage(current["line"], current["sent_at"], current["author"], text, is_media)


def contact_name(messages: Iterable[ExportMessage], business: Sequence[str]) -> str | None:
    """The first author who is not the business: the other side of the chat."""
    names = {name.casefold() for name in business}
    return next((m.author for m in messages if m.author and m.author.casefold() not in names), None)


def conversation_id(file_name: str, contact: str) -> str:
    """One export is one conversation: an id stable for the same file name and contact."""
    return "wa-" + hashlib.sha256(f"{file_name}\n{contact}".encode()).hexdigest()[:40]


def rows_of(
    messages: Iterable[ExportMessage], business: Sequence[str], contact: str, conversation: str
) -> Iterator[SourceRow]:
    """Export messages as rows with the conversation import's fields."""
    names = {name.casefold() for name in business}
    phone = _phone(contact)
    for message in messages:
        if message.author is None:
            kind, agent = "system", ""
        elif message.author.casefold() in names:
            kind, agent = "agent", message.author
        else:
            kind, agent = "contact", ""
        values = dict(zip(HEADER, [conversation, message.sent_at.isoformat(), kind], strict=False))
        values |= {"sender_name": message.author or "", "agent_name": agent, "contact_name": contact}
        values["contact_phone"] = phone
        values |= {"content": message.text, "content_type": "media" if message.is_media else "text"}
        yield SourceRow(message.line, values)


def _phone(contact: str) -> str:
    """An unsaved contact shows as its number (``+55 11 98765-4321``): then it is the contact's identity."""
    if not re.fullmatch(r"[+\d\s().-]{8,}", contact):
        return ""
    return normalize_phone(contact).e164 or ""


class WhatsAppExportFile(SourceFile):
    """A chat export read line by line (twice: once to find the contact, once for the messages)."""

    unit = "bytes"
    header = HEADER

    def __init__(self, path: Path, business: Sequence[str]) -> None:
        from pulso.collect.imports.fields import ImportUsageError

        if not business:
            raise ImportUsageError("--format whatsapp: name the business side with --agent NAME or --business-name")
        self._path, self._business = path, list(business)
        self.total = path.stat().st_size
        with path.open(encoding="utf-8-sig", errors="replace") as lines:
            contact = contact_name(parse_export(lines), self._business)
        self._contact = contact or path.stem
        self._conversation = conversation_id(path.name, self._contact)

    def chunks(self, size: int, progress: Callable[[int], None]) -> Iterator[list[SourceRow]]:
        return in_chunks(self._rows(), size, progress, self.total)

    def _rows(self) -> Iterator[SourceRow]:
        with self._path.open(encoding="utf-8-sig", errors="replace") as lines:
            yield from rows_of(parse_export(lines), self._business, self._contact, self._conversation)

    def close(self) -> None:
        pass
