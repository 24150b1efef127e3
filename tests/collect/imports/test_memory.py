"""Constant memory: the traced peak of an import does not grow with the file (10x the rows, same peak)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.collect.imports.helpers import peak_bytes


def _orders_file(path: Path, prefix: str, rows: int) -> Path:
    with path.open("w", encoding="utf-8") as file:
        file.write("order_id;email;amount;status;ordered_at;product\n")
        for i in range(rows):
            file.write(f"{prefix}{i};c{i % 300}@example.com;{i % 997},{i % 100:02d};completed;")
            file.write(f"{1 + i % 28:02d}/01/2026 10:{i % 60:02d};Produto {i % 40}\n")
    return path


@pytest.mark.slow
def test_peak_memory_does_not_scale_with_rows(sqlite_tenant_id: int, tmp_path: Path) -> None:
    peak_bytes("orders", _orders_file(tmp_path / "warm.csv", "W", 1_000))  # first use fills import and statement caches
    small = peak_bytes("orders", _orders_file(tmp_path / "small.csv", "S", 2_000))
    large = peak_bytes("orders", _orders_file(tmp_path / "large.csv", "L", 20_000))
    print(f"traced peak: {small:,} B for 2,000 rows, {large:,} B for 20,000 rows")
    assert large < small * 1.5, f"peak {large:,} B for 20,000 rows vs {small:,} B for 2,000 rows"
