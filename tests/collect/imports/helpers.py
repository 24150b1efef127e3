"""Helpers for the import tests: files written into tmp_path, running an import, reading rows back."""

from __future__ import annotations

import tracemalloc
from pathlib import Path
from typing import Any

from pulso.collect.imports import ImportRequest, ImportSummary, run_import
from pulso.store import tenant_session

SLUG = "loja"


def write(tmp_path: Path, name: str, content: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode(encoding))
    return path


def run(kind: str, path: Path, *, tenant: str = SLUG, **options: Any) -> ImportSummary:
    return run_import(ImportRequest(kind, path, tenant, **options))


def fetch(tenant_id: int, query: Any) -> list[Any]:
    with tenant_session(tenant_id) as session:
        return list(session.execute(query).all())


def counts(summary: ImportSummary) -> tuple[int, int, int, int, int]:
    """(rows read, inserted, updated, unchanged, rejected)"""
    c = summary.counts
    return (summary.rows_read, c.inserted, c.updated, c.unchanged, summary.rejected)


def peak_bytes(kind: str, path: Path) -> int:
    """Traced peak memory of importing ``path`` in chunks of 500 rows (every row must be accepted)."""
    tracemalloc.start()
    try:
        summary = run(kind, path, chunk_rows=500)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert summary.rejected == 0
    return peak
