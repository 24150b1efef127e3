"""Parquet: typed columns read batch by batch; naive timestamps are the tenant's local time."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import select

from pulso.store.models import Order
from tests.collect.imports.helpers import counts, fetch, run


def test_parquet_orders(tenant_id: int, tmp_path: Path) -> None:
    table = pa.table(
        {
            "order_id": ["P1", "P2", "P3", "P4", "P5"],
            "email": ["a@example.com", None, "b@example.com", None, "a@example.com"],
            "amount": [10.5, 20.0, -1.0, 3.0, 7.25],
            "ordered_at": [datetime(2026, 1, 1, 12), datetime(2026, 1, 2, 9), None, datetime(2026, 1, 3), None],
            "qty": [1, 2, 3, 4, 5],
        }
    )
    path = tmp_path / "orders.parquet"
    pq.write_table(table, path, row_group_size=2)
    rejects = tmp_path / "rejects.csv"
    summary = run("orders", path, rejects_path=rejects, chunk_rows=2)
    assert counts(summary) == (5, 3, 0, 0, 2)
    assert summary.ignored_columns == ["qty"]
    rows = fetch(tenant_id, select(Order.external_id, Order.amount, Order.ordered_at).order_by(Order.external_id))
    assert [tuple(r) for r in rows] == [
        ("P1", Decimal("10.50"), datetime(2026, 1, 1, 15, tzinfo=UTC)),  # naive 12:00 in São Paulo
        ("P2", Decimal("20.00"), datetime(2026, 1, 2, 12, tzinfo=UTC)),
        ("P4", Decimal("3.00"), datetime(2026, 1, 3, 3, tzinfo=UTC)),
    ]
    with rejects.open(encoding="utf-8", newline="") as file:
        lines = list(csv.reader(file))
    assert lines == [
        ["line", "field", "reason", "order_id", "email", "amount", "ordered_at", "qty"],
        ["3", "amount | ordered_at", "amount: -1.0 is negative | ordered_at: missing required field",
         "P3", "b@example.com", "-1.0", "", "3"],
        ["5", "ordered_at", "ordered_at: missing required field", "P5", "a@example.com", "7.25", "", "5"],
    ]  # fmt: skip
    assert counts(run("orders", path, chunk_rows=2)) == (5, 0, 0, 3, 2)


def test_parquet_events_keep_typed_properties_and_report_rows(tenant_id: int, tmp_path: Path) -> None:
    from pulso.store.models import RawEvent

    table = pa.table(
        {
            "event": ["Viewed", "Bought"],
            "anonymous_id": ["a1", "a1"],
            "timestamp": pa.array([datetime(2026, 1, 1, 12, tzinfo=UTC)] * 2, pa.timestamp("us", tz="UTC")),
            "properties.items": [1, 3],
            "properties.total": [None, 59.9],
        }
    )
    path = tmp_path / "events.parquet"
    pq.write_table(table, path)
    progress: list[tuple[str, int]] = []

    class Sink:
        def start(self, total: int, unit: str) -> None:
            progress.append((unit, total))

        def update(self, done: int) -> None:
            progress.append(("done", done))

    from pulso.collect.imports import ImportRequest, run_import

    summary = run_import(ImportRequest("events", path, "loja"), Sink())
    assert counts(summary) == (2, 2, 0, 0, 0)
    assert progress == [("rows", 2), ("done", 2)]
    payloads = [r[0] for r in fetch(tenant_id, select(RawEvent.payload).order_by(RawEvent.id))]
    assert [p["properties"] for p in payloads] == [{"items": 1}, {"items": 3, "total": 59.9}]
    assert payloads[0]["timestamp"] == "2026-01-01T12:00:00Z"
