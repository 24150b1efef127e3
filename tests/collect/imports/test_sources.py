"""The CSV reader (no database): line numbers across quoted line breaks, blank lines, bad rows, chunks."""

from __future__ import annotations

from pathlib import Path

from pulso.collect.imports.sources import CsvFile, SourceRow


def _read(path: Path, size: int = 2, delimiter: str | None = None) -> tuple[CsvFile, list[list[SourceRow]], list[int]]:
    seen: list[int] = []
    source = CsvFile(path, delimiter)
    chunks = list(source.chunks(size, seen.append))
    source.close()
    return source, chunks, seen


def test_line_numbers_count_the_header_and_quoted_line_breaks(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(
        b'\xef\xbb\xbfid\tnote\n1\t"two\nlines"\n\n2\tplain\r\n3\t"x"\n4\tcaf\xe9\n5\tone\textra\n6\tnul\x00\n'
    )
    source, chunks, seen = _read(path)
    assert source.delimiter == "\t"
    assert source.header == ["id", "note"]  # the byte-order mark is not part of the first name
    rows = [row for chunk in chunks for row in chunk]
    assert [len(chunk) for chunk in chunks] == [2, 2, 2]
    assert [(row.line, row.values.get("id")) for row in rows] == [
        (2, "1"),
        (5, "2"),
        (6, "3"),
        (7, "4"),
        (8, "5"),
        (9, "6"),
    ]
    assert rows[0].values["note"] == "two\nlines"
    assert rows[3].values["__encoding__"] == "is not valid UTF-8 (save the file as UTF-8)"
    assert rows[4].values["__width__"] == "has 3 columns, the header has 2"
    assert rows[5].values["__encoding__"] == "contains NUL characters"
    assert seen[-1] == path.stat().st_size  # progress ends at the file size, in bytes


def test_given_delimiter_wins(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("a,b;c\n1,2;3\n", encoding="utf-8")
    source, chunks, _ = _read(path, delimiter=";")
    assert source.header == ["a,b", "c"]
    assert chunks[0][0].values == {"a,b": "1,2", "c": "3"}
