"""Reading one Chatwoot account out of Chatwoot's own PostgreSQL database (chatwoot.md §2-§13).

One sync reads inside one ``REPEATABLE READ READ ONLY`` transaction, so every stream sees the same snapshot, and
streams large tables through server-side cursors (one scan each; Chatwoot has no index on ``updated_at``).

The large streams (contacts, conversations, messages, csat, reporting events) are read either

- in **full**: ``id > :last_id ORDER BY id`` (primary-key order, resumable after a crash), or
- **incrementally**: ``(updated_at, id) > (:since, :last_id) ORDER BY updated_at, id``, where the caller starts
  ``since`` an overlap window before the last watermark, so rows committed late with an older ``updated_at`` are
  still seen; the id breaks ties between rows sharing a timestamp.

The small ones (inboxes with their working hours, agents and bots, teams, campaigns) are read whole every time.
Rows come back as dicts with the column names below; timestamps are naive UTC (Chatwoot's convention).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import orjson
import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import set_json_loads

from pulso.connectors.chatwoot.fixture.schema import libpq_url

Row = dict[str, Any]
Mode = Literal["full", "incremental", "window"]


@dataclass(frozen=True)
class Scope:
    account_id: int
    inbox_ids: tuple[int, ...] = ()  # empty: every inbox of the account


@dataclass(frozen=True)
class Position:
    """Where a big stream resumes: after (updated_at, id) incrementally, or after id in full mode."""

    updated_at: datetime | None = None
    last_id: int = 0


def _labels(kind: str, alias: str) -> str:
    return (
        "(SELECT coalesce(array_agg(t.name ORDER BY t.name), '{}') FROM taggings tg JOIN tags t ON t.id = tg.tag_id"
        f" WHERE tg.taggable_type = '{kind}' AND tg.taggable_id = {alias}.id AND tg.context = 'labels')"
    )


# Each big stream: its select list, FROM clause with the table alias `x`, and an inbox filter.
_BIG: dict[str, tuple[str, str, str]] = {
    "contacts": (
        "x.id, x.name, x.last_name, x.email, x.phone_number, x.identifier, x.additional_attributes,"
        " x.custom_attributes, x.contact_type, x.blocked, x.country_code, x.last_activity_at, x.created_at,"
        f" x.updated_at, {_labels('Contact', 'x')} AS labels, (SELECT coalesce(json_agg(json_build_object("
        "'inbox_id', ci.inbox_id, 'source_id', ci.source_id, 'channel_type', i.channel_type) ORDER BY ci.id), '[]')"
        " FROM contact_inboxes ci JOIN inboxes i ON i.id = ci.inbox_id WHERE ci.contact_id = x.id) AS contact_inboxes",
        "contacts x",
        "EXISTS (SELECT 1 FROM contact_inboxes ci WHERE ci.contact_id = x.id AND ci.inbox_id = ANY(%(inboxes)s))",
    ),
    "conversations": (
        "x.id, x.display_id, x.inbox_id, x.status, x.assignee_id, {assignee_bot}, x.team_id, x.contact_id,"
        " x.campaign_id, {priority}, x.uuid::text AS uuid, x.custom_attributes, x.additional_attributes,"
        " x.created_at, x.updated_at, x.last_activity_at, {first_reply}, {waiting_since}, x.snoozed_until,"
        f" {_labels('Conversation', 'x')} AS labels",
        "conversations x",
        "x.inbox_id = ANY(%(inboxes)s)",
    ),
    "messages": (
        "x.id, c.display_id AS conversation_display_id, x.message_type, x.content_type, x.content, x.private,"
        " x.sender_type, x.sender_id, x.content_attributes, x.additional_attributes, x.status, x.created_at,"
        " x.updated_at",
        "messages x JOIN conversations c ON c.id = x.conversation_id",
        "x.inbox_id = ANY(%(inboxes)s)",
    ),
    "csat": (
        "x.id, c.display_id AS conversation_display_id, x.contact_id, x.assigned_agent_id, x.rating,"
        " x.feedback_message, x.message_id, x.created_at, x.updated_at",
        "csat_survey_responses x JOIN conversations c ON c.id = x.conversation_id",
        "c.inbox_id = ANY(%(inboxes)s)",
    ),
    "reporting_events": (
        "x.id, c.display_id AS conversation_display_id, c.created_at AS conversation_created_at, x.name, x.value,"
        " x.value_in_business_hours, x.user_id, x.event_start_time, x.event_end_time, x.created_at, x.updated_at",
        "reporting_events x LEFT JOIN conversations c ON c.id = x.conversation_id",
        "x.inbox_id = ANY(%(inboxes)s)",
    ),
}

_OPTIONAL = {
    "assignee_bot": ("assignee_agent_bot_id", "x.assignee_agent_bot_id", "NULL::int8 AS assignee_agent_bot_id"),
    "priority": ("priority", "x.priority", "NULL::int4 AS priority"),
    "first_reply": ("first_reply_created_at", "x.first_reply_created_at", "NULL::timestamp AS first_reply_created_at"),
    "waiting_since": ("waiting_since", "x.waiting_since", "NULL::timestamp AS waiting_since"),
}


def _json_loads(data: bytes | str) -> Any:
    """orjson for json/jsonb columns (several times faster); json for what it refuses (integers past 64 bits)."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)


class ChatwootReader:
    """A read-only snapshot of one Chatwoot database for one sync."""

    def __init__(self, dsn: str, scope: Scope, *, fetch_size: int = 5000, snapshot: str | None = None) -> None:
        """``snapshot``: an id from another reader's :meth:`export_snapshot`, to read exactly what it reads."""
        self.scope = scope
        self.fetch_size = fetch_size
        self.dsn = dsn
        self._conn = psycopg.connect(
            libpq_url(dsn), connect_timeout=10, options="-c default_transaction_read_only=on", row_factory=dict_row
        )
        set_json_loads(_json_loads, self._conn)
        self._conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        self._conn.read_only = True
        if snapshot is not None:
            self._conn.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(snapshot)))
        row = self._conn.execute("SELECT (now() AT TIME ZONE 'UTC') AS now").fetchone()
        assert row is not None
        self.snapshot_at: datetime = row["now"]  # naive UTC; every read below sees the database as of this instant
        self._conversation_columns = self._columns("conversations")
        self._cursor_number = 0

    def export_snapshot(self) -> str:
        """The id of this reader's snapshot, for a second reader working in parallel on the same data."""
        row = self._conn.execute("SELECT pg_export_snapshot() AS id").fetchone()
        assert row is not None
        return str(row["id"])

    def close(self) -> None:
        self._conn.rollback()
        self._conn.close()

    def __enter__(self) -> ChatwootReader:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _columns(self, table: str) -> frozenset[str]:
        rows = self._conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema()"
            " AND table_name = %s",
            (table,),
        ).fetchall()
        return frozenset(str(row["column_name"]) for row in rows)

    def _has_table(self, table: str) -> bool:
        row = self._conn.execute("SELECT to_regclass(%s) IS NOT NULL AS present", (table,)).fetchone()
        return bool(row and row["present"])

    def _params(self, **extra: Any) -> dict[str, Any]:
        return {"account": self.scope.account_id, "inboxes": list(self.scope.inbox_ids), **extra}

    def _inbox_filter(self, clause: str) -> str:
        return f" AND {clause}" if self.scope.inbox_ids else ""

    def _select(self, stream: str) -> tuple[str, str]:
        columns, source, inbox_clause = _BIG[stream]
        if stream == "conversations":
            present = self._conversation_columns
            for key, (column, expression, fallback) in _OPTIONAL.items():
                columns = columns.replace(f"{{{key}}}", expression if column in present else fallback)
        return f"SELECT {columns} FROM {source} WHERE x.account_id = %(account)s", self._inbox_filter(inbox_clause)

    def count(
        self, stream: str, mode: Mode, position: Position = Position(), window_start: datetime | None = None
    ) -> int:
        """How many rows :meth:`stream` would give (for progress bars)."""
        _, source, _ = _BIG[stream]
        _, inbox = self._select(stream)
        where, params = self._where(stream, mode, position, window_start)
        sql = f"SELECT count(*) AS n FROM {source} WHERE x.account_id = %(account)s{inbox}{where}"
        row = self._conn.execute(sql, params).fetchone()  # type: ignore[call-overload]
        return int(row["n"]) if row else 0

    def _where(
        self, stream: str, mode: Mode, position: Position, window_start: datetime | None
    ) -> tuple[str, dict[str, Any]]:
        params = self._params(last_id=position.last_id, since=position.updated_at, window=window_start)
        if mode == "full":
            return " AND x.id > %(last_id)s", params
        if mode == "window":  # the reconciliation sweep: rows whose columns may change without updated_at
            if window_start is None:
                raise ValueError("a window read needs window_start")
            active = " OR x.last_activity_at >= %(window)s" if stream == "conversations" else ""
            return f" AND (x.created_at >= %(window)s OR x.updated_at >= %(window)s{active})", params
        if position.updated_at is None:
            return "", params
        return " AND (x.updated_at, x.id) > (%(since)s, %(last_id)s)", params

    def stream(
        self, stream: str, mode: Mode, position: Position = Position(), window_start: datetime | None = None
    ) -> Iterator[list[Row]]:
        """Pages of rows of one big stream, in resumable order, through a server-side cursor."""
        if stream not in _BIG:
            raise ValueError(f"unknown stream {stream!r}; known: {', '.join(_BIG)}")
        select, inbox = self._select(stream)
        where, params = self._where(stream, mode, position, window_start)
        order = " ORDER BY x.id" if mode == "full" else " ORDER BY x.updated_at, x.id"
        self._cursor_number += 1
        with self._conn.cursor(name=f"pulso_{stream}_{self._cursor_number}") as cursor:
            cursor.itersize = self.fetch_size
            cursor.execute(select + inbox + where + order, params)  # type: ignore[call-overload]
            while page := cursor.fetchmany(self.fetch_size):
                yield page

    def ids(self, stream: Literal["conversations", "contacts"]) -> list[int]:
        """Every id (conversations: display_id) of the account now, for detecting hard deletes."""
        column = "display_id" if stream == "conversations" else "id"
        _, source, inbox_clause = _BIG[stream]
        sql = (
            f"SELECT x.{column} AS id FROM {source} WHERE x.account_id = %(account)s{self._inbox_filter(inbox_clause)}"
        )
        return [int(row["id"]) for row in self._conn.execute(sql, self._params())]  # type: ignore[arg-type]

    def inboxes(self) -> list[Row]:
        twilio = self._has_table("channel_twilio_sms") and "medium" in self._columns("channel_twilio_sms")
        facebook = self._has_table("channel_facebook_pages")
        medium = "tw.medium" if twilio else "NULL::int4"
        instagram = "fb.instagram_id" if facebook else "NULL::varchar"
        joins = ""
        if twilio:
            joins += (
                " LEFT JOIN channel_twilio_sms tw ON i.channel_type = 'Channel::TwilioSms' AND tw.id = i.channel_id"
            )
        if facebook:
            joins += " LEFT JOIN channel_facebook_pages fb ON i.channel_type = 'Channel::FacebookPage'"
            joins += " AND fb.id = i.channel_id"
        sql = (
            f"SELECT i.id, i.name, i.channel_type, i.timezone, i.working_hours_enabled, {medium} AS twilio_medium,"
            f" {instagram} AS instagram_id, i.created_at, i.updated_at,"
            " (SELECT coalesce(json_agg(json_build_object('day_of_week', w.day_of_week, 'closed_all_day',"
            " w.closed_all_day, 'open_all_day', w.open_all_day, 'open_hour', w.open_hour, 'open_minutes',"
            " w.open_minutes, 'close_hour', w.close_hour, 'close_minutes', w.close_minutes) ORDER BY w.day_of_week),"
            " '[]') FROM working_hours w WHERE w.inbox_id = i.id) AS working_hours"
            f" FROM inboxes i{joins} WHERE i.account_id = %(account)s{self._inbox_filter('i.id = ANY(%(inboxes)s)')}"
            " ORDER BY i.id"
        )
        return self._conn.execute(sql, self._params()).fetchall()  # type: ignore[arg-type]

    def agents(self) -> list[Row]:
        """The account's agents (users with a membership) and its bots (plus system-wide bots).

        Users who left the account are not listed; their old messages create inactive agents when loaded."""
        users = self._conn.execute(
            "SELECT 'user' AS kind, u.id, coalesce(nullif(u.display_name, ''), u.name) AS name, u.email,"
            " true AS member FROM users u JOIN account_users au ON au.user_id = u.id"
            " WHERE au.account_id = %(account)s ORDER BY u.id",
            self._params(),
        ).fetchall()
        bots = self._conn.execute(
            "SELECT 'bot' AS kind, b.id, coalesce(b.name, 'bot ' || b.id) AS name, NULL AS email, true AS member"
            " FROM agent_bots b WHERE b.account_id = %(account)s OR b.account_id IS NULL ORDER BY b.id",
            self._params(),
        ).fetchall()
        return [*users, *bots]

    def teams(self) -> list[Row]:
        return self._conn.execute(
            "SELECT id, name FROM teams WHERE account_id = %(account)s ORDER BY id", self._params()
        ).fetchall()

    def campaigns(self) -> list[Row]:
        sql = (
            "SELECT c.id, c.display_id, c.title, c.campaign_type, c.campaign_status, c.enabled, c.scheduled_at,"
            " c.created_at, i.channel_type FROM campaigns c LEFT JOIN inboxes i ON i.id = c.inbox_id"
            f" WHERE c.account_id = %(account)s{self._inbox_filter('c.inbox_id = ANY(%(inboxes)s)')} ORDER BY c.id"
        )
        return self._conn.execute(sql, self._params()).fetchall()  # type: ignore[arg-type]

    def labels(self) -> list[Row]:
        """The account's label definitions. Conversations and contacts carry their labels by name (taggings);
        a deleted label's taggings stay in Chatwoot, so this list says which names are still defined."""
        return self._conn.execute(
            "SELECT id, title, description, color, show_on_sidebar, created_at, updated_at FROM labels"
            " WHERE account_id = %(account)s ORDER BY id",
            self._params(),
        ).fetchall()


def table_counts(dsn: str, scope: Scope, tables: Sequence[str]) -> dict[str, int]:
    """Rows per table for one account (tests and the benchmark compare these with what Pulso holds)."""
    counts = {}
    with psycopg.connect(libpq_url(dsn)) as conn:
        for table in tables:
            row = conn.execute(f"SELECT count(*) FROM {table} WHERE account_id = %s", (scope.account_id,)).fetchone()
            counts[table] = int(row[0]) if row else 0
    return counts
