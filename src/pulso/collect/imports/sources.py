"""Streaming readers: a CSV or Parquet file as chunks of rows, in constant memory, with progress.

CSV is decoded as UTF-8 (a byte-order mark is skipped), the delimiter taken from ``--delimiter`` or sniffed
from the header line; each row carries the physical line it starts on (the header is line 1). Parquet is read
batch by batch (``iter_batches``), each row numbered from 1. Progress is bytes read for CSV, rows for Parquet.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

DELIMITERS = (",", ";", "\t", "|")
Progress = Callable[[int], None]  # called with the amount done so far (bytes or rows)


@dataclass(frozen=True)
class SourceRow:
    line: int
    values: dict[str, Any]  # by source column name


class SourceFile:
    """An open input file: its header, its size in progress units, and its rows in chunks."""

    header: list[str]
    total: int
    unit: str

    def chunks(self, size: int, progress: Progress) -> Iterator[list[SourceRow]]:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


def in_chunks(
    rows: Iterable[SourceRow], size: int, progress: Progress, total: int, position: Callable[[], int] | None = None
) -> Iterator[list[SourceRow]]:
    """Group ``rows`` into lists of ``size``; report ``position()`` after each full chunk and ``total`` at the end."""
    chunk: list[SourceRow] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            if position is not None:
                progress(position())
            yield chunk
            chunk = []
    progress(total)
    if chunk:
        yield chunk


class _CountingReader(io.RawIOBase):
    """A binary file that remembers how many bytes were read from it (the CSV progress)."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self.consumed = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._raw.read(len(buffer))
        buffer[: len(data)] = data
        self.consumed += len(data)
        return len(data)

    def close(self) -> None:
        self._raw.close()
        super().close()


class CsvFile(SourceFile):
    unit = "bytes"

    def __init__(self, path: Path, delimiter: str | None = None) -> None:
        self.total = path.stat().st_size
        self._counter = _CountingReader(path.open("rb"))
        buffered = io.BufferedReader(self._counter, buffer_size=1 << 16)
        self._text = io.TextIOWrapper(buffered, encoding="utf-8-sig", errors="replace", newline="")
        first_line = self._text.readline()
        self.delimiter = delimiter or sniff_delimiter(first_line)
        self.header = next(csv.reader([first_line], delimiter=self.delimiter), [])
        self._reader = csv.reader(self._text, delimiter=self.delimiter)

    def chunks(self, size: int, progress: Progress) -> Iterator[list[SourceRow]]:
        return in_chunks(self._rows(), size, progress, self.total, lambda: self._counter.consumed)

    def _rows(self) -> Iterator[SourceRow]:
        reader, width = self._reader, len(self.header)
        next_line = 2
        for cells in reader:
            line, next_line = next_line, reader.line_num + 2  # line_num counts lines after the header
            joined = "".join(cells)
            if not joined.strip():
                continue  # blank lines are not rows
            values: dict[str, Any] = dict(zip(self.header, cells, strict=False))
            if len(cells) != width:
                values["__width__"] = f"has {len(cells)} columns, the header has {width}"
            if "\ufffd" in joined:
                values["__encoding__"] = "is not valid UTF-8 (save the file as UTF-8)"
            elif "\x00" in joined:  # PostgreSQL text cannot hold NUL
                values["__encoding__"] = "contains NUL characters"
            yield SourceRow(line, values)

    def close(self) -> None:
        self._text.close()


def sniff_delimiter(header_line: str) -> str:
    """The candidate delimiter that occurs most often in the header line (outside quotes); comma on a tie."""
    unquoted = "".join(part for index, part in enumerate(header_line.split('"')) if index % 2 == 0)
    counts = {d: unquoted.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


class ParquetFile(SourceFile):
    unit = "rows"

    def __init__(self, path: Path) -> None:
        import pyarrow.parquet as pq

        try:
            self._file = pq.ParquetFile(path)
        except Exception as exc:  # pyarrow raises its own ArrowInvalid for a non-Parquet file
            from pulso.collect.imports.fields import ImportUsageError

            raise ImportUsageError(f"file: {path.name} is not a Parquet file ({exc})") from None
        self.header = list(self._file.schema_arrow.names)
        self.total = int(self._file.metadata.num_rows)

    def chunks(self, size: int, progress: Progress) -> Iterator[list[SourceRow]]:
        done = 0
        for batch in self._file.iter_batches(batch_size=size):
            rows = batch.to_pylist()
            yield [SourceRow(done + offset + 1, values) for offset, values in enumerate(rows)]
            done += len(rows)
            progress(done)

    def close(self) -> None:
        self._file.close()


def open_source(path: Path, file_format: str | None, delimiter: str | None) -> SourceFile:
    chosen = file_format or ("parquet" if path.suffix.lower() in {".parquet", ".pq"} else "csv")
    return ParquetFile(path) if chosen == "parquet" else CsvFile(path, delimiter)
