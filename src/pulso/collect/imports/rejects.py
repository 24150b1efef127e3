"""The rejects file: one CSV line per refused row, saying where, which field, why, and the row itself.

Columns: ``line`` (in the source file, header = line 1; for Parquet the 1-based row number), ``field``,
``reason``, then the source file's own columns with the row's original values, so the file can be fixed and
imported again. Several problems in one row are joined with `` | `` in ``field`` and ``reason``.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from pulso.collect.imports.fields import FieldError

REJECT_COLUMNS = ("line", "field", "reason")


@dataclass(frozen=True)
class Reject:
    line: int
    errors: tuple[FieldError, ...]

    @property
    def field(self) -> str:
        return " | ".join(error.field for error in self.errors)

    @property
    def reason(self) -> str:
        return " | ".join(f"{error.field}: {error.reason}" for error in self.errors)


class RejectsWriter:
    """Writes rejects as they come (nothing is held in memory); ``close`` is safe to call without a path."""

    def __init__(self, path: Path | None, header: Sequence[str]) -> None:
        self._header = list(header)
        self._file: IO[str] | None = None
        self._writer: Any = None
        if path is not None:
            self._file = path.open("w", encoding="utf-8", newline="")
            self._writer = csv.writer(self._file)
            self._writer.writerow([*REJECT_COLUMNS, *self._header])

    def write(self, reject: Reject, values: dict[str, Any]) -> None:
        if self._writer is None:
            return
        original = ["" if values.get(column) is None else str(values[column]) for column in self._header]
        self._writer.writerow([reject.line, reject.field, reject.reason, *original])

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
