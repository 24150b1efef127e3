"""Upserting one chunk of records on a natural key, counting inserted, updated and unchanged rows.

Rows are applied in file order as if one at a time: the first row of a new key is an insert, a later row of
the same key (in this chunk or a later import) is an update when any value differs and unchanged otherwise.
Only the final state of each key is written: one multi-row INSERT and one executemany UPDATE by primary key.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.orm import QueryableAttribute

from pulso.store.models import Base
from pulso.store.session import PulsoSession


def table_of(model: type[Base]) -> Table:
    """The model's table, for Core inserts (still run through the tenant session and its checks)."""
    return cast(Table, model.__table__)


@dataclass
class Counts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    def add(self, other: Counts) -> None:
        self.inserted += other.inserted
        self.updated += other.updated
        self.unchanged += other.unchanged


@dataclass(frozen=True)
class Keyed:
    """A row to upsert: its natural key and the column values it sets (``tenant_id`` is added here)."""

    key: Hashable
    values: dict[str, Any]


def upsert(
    session: PulsoSession,
    model: type[Base],
    key_columns: Sequence[QueryableAttribute[Any]],
    rows: Sequence[Keyed],
    lookup_chunk: int = 5000,
) -> Counts:
    """Insert or update ``rows`` of ``model`` keyed by ``key_columns`` (a tuple key for several columns)."""
    counts = Counts()
    if not rows:
        return counts
    compared = sorted({column for row in rows for column in row.values})
    existing = _existing(session, model, key_columns, [row.key for row in rows], compared, lookup_chunk)
    state: dict[Hashable, dict[str, Any]] = {}
    ids: dict[Hashable, int | None] = {}
    for row in rows:
        if row.key not in state:
            found = existing.get(row.key)
            ids[row.key] = found[0] if found else None
            state[row.key] = dict(found[1]) if found else {}
            if not found:
                counts.inserted += 1
                state[row.key] = dict(row.values)
                continue
        current = state[row.key]
        if any(current.get(column) != value for column, value in row.values.items()):
            counts.updated += 1
            current.update(row.values)
        else:
            counts.unchanged += 1
    tenant_id = session.tenant_id
    inserts = [{"tenant_id": tenant_id, **values} for key, values in state.items() if ids[key] is None]
    updates = [
        {"id": ids[key], **values}
        for key, values in state.items()
        if ids[key] is not None and values != existing[key][1]
    ]
    if inserts:
        columns = sorted({column for row in inserts for column in row})
        rows_out = [{column: row.get(column) for column in columns} for row in inserts]
        # a Core insert on the table: same SQL as the ORM bulk insert, without its per-row bookkeeping (2x faster)
        session.execute(insert(table_of(model)), rows_out)
    if updates:
        session.execute(update(model), updates)
    return counts


def _existing(
    session: PulsoSession,
    model: type[Base],
    key_columns: Sequence[QueryableAttribute[Any]],
    keys: list[Hashable],
    compared: list[str],
    lookup_chunk: int,
) -> dict[Hashable, tuple[int, dict[str, Any]]]:
    """The id and current values of every key already stored."""
    from sqlalchemy import tuple_

    found: dict[Hashable, tuple[int, dict[str, Any]]] = {}
    unique = list(dict.fromkeys(keys))
    single = len(key_columns) == 1
    key_expression = key_columns[0] if single else tuple_(*key_columns)
    value_columns = [getattr(model, name) for name in compared]
    id_column, tenant_column = getattr(model, "id"), getattr(model, "tenant_id")  # noqa: B009
    for start in range(0, len(unique), lookup_chunk):
        part = unique[start : start + lookup_chunk]
        query = select(id_column, *key_columns, *value_columns).where(
            tenant_column == session.tenant_id, key_expression.in_(part)
        )
        for result in session.execute(query):
            width = len(key_columns)
            key = result[1] if single else tuple(result[1 : 1 + width])
            values = dict(zip(compared, result[1 + width :], strict=True))
            found[key] = (int(result[0]), values)
    return found
