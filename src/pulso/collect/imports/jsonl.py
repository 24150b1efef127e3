"""JSON Lines as a streamed source: one object per line, read line by line (twice: first to collect the keys).

The header is every key any object has, in order of first appearance, so objects may leave keys out. A line that
is not a JSON object is a structural problem of that row, rejected with its line number.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from pulso.collect.imports.sources import SourceFile, SourceRow, in_chunks


class JsonlFile(SourceFile):
    unit = "bytes"

    def __init__(self, path: Path) -> None:
        self.total = path.stat().st_size
        self._path = path
        self._done = 0  # bytes read so far, for progress
        keys: dict[str, None] = {}  # every key of every object, in order of first appearance
        with path.open(encoding="utf-8-sig", errors="replace") as lines:
            for line in lines:
                parsed = _object(line) if line.strip() else None
                if isinstance(parsed, dict):
                    keys.update(dict.fromkeys(parsed))
        self.header = list(keys)

    def chunks(self, size: int, progress: Callable[[int], None]) -> Iterator[list[SourceRow]]:
        return in_chunks(self._rows(), size, progress, self.total, lambda: self._done)

    def _rows(self) -> Iterator[SourceRow]:
        self._done = 0
        with self._path.open("rb") as lines:
            for number, raw in enumerate(lines, start=1):
                self._done += len(raw)
                text = raw.decode("utf-8-sig" if number == 1 else "utf-8", errors="replace")
                if not text.strip():
                    continue
                parsed = _object(text)
                values: dict[str, Any] = {}
                if isinstance(parsed, dict):
                    values.update({key: _cell(value) for key, value in parsed.items()})
                    if "\ufffd" in text:
                        values["__encoding__"] = "is not valid UTF-8 (save the file as UTF-8)"
                else:
                    values["__width__"] = parsed
                yield SourceRow(number, values)

    def close(self) -> None:
        pass


def _object(line: str) -> dict[str, Any] | str:
    try:
        parsed = json.loads(line)
    except json.JSONDecodeError as exc:
        return f"is not valid JSON ({exc.msg})"
    return parsed if isinstance(parsed, dict) else "is not a JSON object"


def _cell(value: Any) -> Any:
    """Lists (labels) become comma-separated text; everything else is kept for the field parsers."""
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    return value
