"""Build one valid row for any table from its metadata, so isolation tests cover every future table.

Values come from the column types; the few columns with CHECK constraints get a value from ``OVERRIDES``.
A new table whose check constraint is not covered here makes the isolation tests fail loudly: add it below.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from pulso.store.models import Base
from pulso.store.types import UTCDateTime

OVERRIDES: dict[tuple[str, str], Any] = {
    ("users", "role"): "admin",
    ("api_keys", "kind"): "write",
    ("contacts", "lifecycle_stage"): "lead",
    ("contact_identities", "kind"): "email",
    ("inboxes", "channel_type"): "whatsapp",
    ("agents", "kind"): "human",
    ("conversations", "status"): "open",
    ("messages", "direction"): "incoming",
    ("messages", "sender_kind"): "contact",
    ("feedback", "kind"): "nps",
    ("feedback", "score"): 9,
    ("job_runs", "status"): "succeeded",
    ("sources", "kind"): "import",
    ("events", "type"): "track",
    ("orders", "status"): "completed",
    ("messages", "message_type"): "incoming",
    ("conversation_status_changes", "to_status"): "open",
    ("conversation_status_changes", "origin"): "sync",
    ("conversation_facts", "handled_by"): "human_only",
    ("conversation_facts", "status"): "open",
}


def _value(table: sa.Table, column: sa.Column[Any]) -> Any:
    if (table.name, column.name) in OVERRIDES:
        return OVERRIDES[(table.name, column.name)]
    column_type = column.type
    if isinstance(column_type, UTCDateTime | sa.DateTime):
        return datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
    if isinstance(column_type, sa.Date):
        return date(2026, 1, 15)
    if isinstance(column_type, sa.Boolean):
        return True
    if isinstance(column_type, sa.Numeric) and not isinstance(column_type, sa.Float):
        return Decimal("1.00")
    if isinstance(column_type, sa.Float):
        return 1.0
    if isinstance(column_type, sa.Integer):
        return 1
    if isinstance(column_type, sa.JSON):
        return {}
    if isinstance(column_type, sa.LargeBinary):
        return b""
    if isinstance(column_type, sa.String):
        text = f"t-{uuid.uuid4().hex}"
        return text[: column_type.length] if column_type.length else text
    raise TypeError(f"tests/store/rows.py: no test value for {table.name}.{column.name} ({column_type!r})")


def row_for_table(session: Session, table_name: str, tenant_id: int) -> int:
    """Insert one row of ``table_name`` for ``tenant_id`` (creating required parents) and return its id."""
    table = Base.metadata.tables[table_name]
    row: dict[str, Any] = {}
    for column in table.c:
        if column.primary_key:
            continue
        if column.name == "tenant_id":
            row["tenant_id"] = tenant_id
            continue
        foreign = next(iter(column.foreign_keys), None)
        if foreign is not None:
            row[column.name] = None if column.nullable else row_for_table(session, foreign.column.table.name, tenant_id)
            continue
        row[column.name] = _value(table, column)
    return int(session.execute(sa.insert(table).values(**row).returning(table.c.id)).scalar_one())
