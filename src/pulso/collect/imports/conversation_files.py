"""The files a conversation import reads: CSV, Parquet, JSON Lines or a WhatsApp chat export, with defaults.

The format comes from ``--format`` or the file name (``.jsonl``/``.ndjson``, ``.txt`` = WhatsApp export,
``.parquet``, else CSV). ``--inbox`` and ``--channel`` fill the inbox and channel of rows that have none.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from pulso.collect.imports.fields import ImportUsageError
from pulso.collect.imports.jsonl import JsonlFile
from pulso.collect.imports.sources import SourceFile, SourceRow
from pulso.collect.imports.sources import open_source as open_table
from pulso.collect.imports.whatsapp_export import WhatsAppExportFile
from pulso.store.models.silver import CHANNEL_TYPES

if TYPE_CHECKING:
    from pulso.collect.imports.service import ImportRequest

FORMATS = ("jsonl", "whatsapp")
SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".txt": "whatsapp", ".parquet": "parquet", ".pq": "parquet"}
OPTIONS = ("agent", "inbox", "channel")


class WithDefaults(SourceFile):
    """A source whose rows get ``defaults`` for the columns they lack or leave empty."""

    def __init__(self, source: SourceFile, defaults: dict[str, str]) -> None:
        self._source, self._defaults = source, defaults
        self.header = [*source.header, *(column for column in defaults if column not in source.header)]
        self.total, self.unit = source.total, source.unit

    def chunks(self, size: int, progress: Callable[[int], None]) -> Iterator[list[SourceRow]]:
        for chunk in self._source.chunks(size, progress):
            for row in chunk:
                for column, value in self._defaults.items():
                    if _blank(row.values.get(column)):
                        row.values[column] = value
            yield chunk

    def close(self) -> None:
        self._source.close()


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def open_source(request: ImportRequest, delimiter: str | None) -> SourceFile:
    unknown = [name for name, _value in request.options if name not in OPTIONS]
    if unknown:
        raise ImportUsageError(f"conversations: unknown option {unknown[0]!r}")
    agents = [value for name, value in request.options if name == "agent" and value.strip()]
    chosen = request.file_format or SUFFIXES.get(request.path.suffix.lower(), "csv")
    defaults = {name: value for name, value in request.options if name in ("inbox", "channel") and value.strip()}
    if "channel" in defaults and defaults["channel"] not in CHANNEL_TYPES:
        raise ImportUsageError(f"--channel: {defaults['channel']!r} is not one of {', '.join(CHANNEL_TYPES)}")
    source: SourceFile
    if chosen == "whatsapp":
        source = WhatsAppExportFile(request.path, agents)
        defaults.setdefault("channel", "whatsapp")
    elif chosen == "jsonl":
        source = JsonlFile(request.path)
    else:
        source = open_table(request.path, chosen, delimiter)
    return WithDefaults(source, defaults) if defaults else source
