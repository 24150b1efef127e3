"""The Chatwoot fixture database: schema as chatwoot.md describes it, the hand-checked scenario, the scale loader."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest

from pulso.connectors.chatwoot.fixture import (
    SCHEMA_VERSION,
    create_chatwoot_database,
    drop_chatwoot_database,
)
from pulso.connectors.chatwoot.fixture.scale import append_messages, load_scale
from pulso.connectors.chatwoot.fixture.scenario import ScenarioFacts, load_scenario
from tests.conftest import PG_HOST, PG_PORT, PG_SUPERUSER

pytestmark = pytest.mark.postgres
ADMIN_URL = f"postgresql://{PG_SUPERUSER}@{PG_HOST}:{PG_PORT}/postgres"


def _new_name() -> str:
    return f"chatwoot_fixture_{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="module")
def admin_url(chatwoot_admin_url: str) -> str:
    """The server holding the fixture databases (conftest skips or fails when there is none)."""
    return chatwoot_admin_url


@pytest.fixture
def empty_db(admin_url: str) -> Iterator[Any]:
    """A fresh database with the Chatwoot schema only; dropped afterwards."""
    name = _new_name()
    url = create_chatwoot_database(admin_url, name)
    try:
        with psycopg.connect(url) as conn:
            yield conn
    finally:
        drop_chatwoot_database(admin_url, name)


@pytest.fixture(scope="module")
def scenario(admin_url: str) -> Iterator[tuple[Any, ScenarioFacts]]:
    """The scenario loaded once for the read-only tests of this module."""
    name = _new_name()
    url = create_chatwoot_database(admin_url, name)
    try:
        with psycopg.connect(url) as conn:
            facts = load_scenario(conn)
            conn.commit()
            yield conn, facts
    finally:
        drop_chatwoot_database(admin_url, name)


def _scalar(conn: Any, sql: str, *params: Any) -> Any:
    return conn.execute(sql, list(params)).fetchone()[0]


# ---------------------------------------------------------------- schema


def test_schema_creates_cleanly_and_database_is_dropped(admin_url: str) -> None:
    name = _new_name()
    url = create_chatwoot_database(admin_url, name)
    with psycopg.connect(url) as conn:
        assert _scalar(conn, "SELECT version FROM schema_migrations") == SCHEMA_VERSION == "20260130061021"
        tables = {
            r[0] for r in conn.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")
        }
    drop_chatwoot_database(admin_url, name)
    required = {
        "accounts", "users", "account_users", "inboxes", "channel_whatsapp", "channel_twilio_sms", "channel_instagram",
        "channel_facebook_pages", "channel_telegram", "channel_web_widgets", "channel_email", "channel_api",
        "inbox_members", "agent_bots", "agent_bot_inboxes", "working_hours", "contacts", "contact_inboxes",
        "conversations", "messages", "teams", "labels", "tags", "taggings", "csat_survey_responses",
        "reporting_events", "campaigns", "schema_migrations",
    }  # fmt: skip
    assert required <= tables
    with psycopg.connect(ADMIN_URL) as conn:
        assert _scalar(conn, "SELECT count(*) FROM pg_database WHERE datname = %s", name) == 0


def test_fixture_database_names_are_restricted(admin_url: str) -> None:
    with pytest.raises(ValueError, match="chatwoot_fixture_"):
        create_chatwoot_database(admin_url, "postgres")


@pytest.mark.parametrize(
    ("table", "column", "data_type"),
    [
        ("conversations", "status", "integer"),
        ("conversations", "display_id", "integer"),
        ("conversations", "waiting_since", "timestamp without time zone"),
        ("conversations", "uuid", "uuid"),
        ("messages", "created_at", "timestamp without time zone"),
        ("messages", "message_type", "integer"),
        ("messages", "content_attributes", "json"),
        ("messages", "additional_attributes", "jsonb"),
        ("messages", "source_id", "text"),
        ("contact_inboxes", "source_id", "text"),
        ("reporting_events", "value", "double precision"),
        ("accounts", "feature_flags", "bigint"),
        ("channel_twilio_sms", "medium", "integer"),
        ("channel_facebook_pages", "instagram_id", "character varying"),
        ("taggings", "context", "character varying"),
    ],
)
def test_column_types_follow_chatwoot(empty_db: Any, table: str, column: str, data_type: str) -> None:
    found = _scalar(
        empty_db,
        "SELECT data_type FROM information_schema.columns WHERE table_name = %s AND column_name = %s",
        table,
        column,
    )
    assert found == data_type


def test_ts6_columns_have_precision_six(empty_db: Any) -> None:
    sql = "SELECT datetime_precision FROM information_schema.columns WHERE table_name = %s AND column_name = %s"
    assert _scalar(empty_db, sql, "reporting_events", "created_at") == 6
    assert _scalar(empty_db, sql, "conversations", "waiting_since") == 6


# ---------------------------------------------------------------- scenario


def test_scenario_counts_match_facts(scenario: tuple[Any, ScenarioFacts]) -> None:
    conn, facts = scenario
    actual = {table: _scalar(conn, f"SELECT count(*) FROM {table}") for table in facts.counts}
    assert actual == facts.counts
    assert _scalar(conn, "SELECT count(*) FROM conversations WHERE account_id = 1") == facts.account1_conversations
    assert _scalar(conn, "SELECT count(*) FROM messages WHERE account_id = 1") == facts.account1_messages
    assert (
        _scalar(conn, "SELECT count(*) FROM reporting_events WHERE account_id = 1") == facts.account1_reporting_events
    )
    by_type = dict(
        conn.execute("SELECT message_type, count(*) FROM messages WHERE account_id = 1 GROUP BY 1").fetchall()
    )
    assert by_type == facts.account1_messages_by_type


def test_two_accounts_with_per_account_display_ids(scenario: tuple[Any, ScenarioFacts]) -> None:
    conn, facts = scenario
    assert [r[0] for r in conn.execute("SELECT id FROM accounts ORDER BY id")] == list(facts.account_ids)
    rows = conn.execute("SELECT id, account_id, display_id FROM conversations").fetchall()
    assert {cid: (account, display) for cid, account, display in rows} == facts.display_ids
    # Account 2's messages and events hang only off account 2's conversations and inboxes.
    leaks = _scalar(
        conn,
        "SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id "
        "JOIN inboxes i ON i.id = m.inbox_id WHERE m.account_id <> c.account_id OR i.account_id <> m.account_id",
    )
    assert leaks == 0


def test_statuses_and_enums(scenario: tuple[Any, ScenarioFacts]) -> None:
    conn, facts = scenario
    assert dict(conn.execute("SELECT id, status FROM conversations").fetchall()) == facts.final_status
    senders = conn.execute("SELECT DISTINCT sender_type FROM messages WHERE message_type = 1").fetchall()
    assert {r[0] for r in senders} == {"User", "AgentBot"}
    private = conn.execute("SELECT id FROM messages WHERE private AND message_type = 1 ORDER BY id").fetchall()
    assert tuple(r[0] for r in private) == facts.private_note_ids
    bot = conn.execute("SELECT id FROM messages WHERE sender_type = 'AgentBot' ORDER BY id").fetchall()
    assert tuple(r[0] for r in bot) == facts.bot_message_ids
    assert _scalar(conn, "SELECT count(*) FROM messages WHERE message_type = 2 AND sender_type IS NULL") == 5
    assert _scalar(conn, "SELECT count(*) FROM taggings WHERE context <> 'labels'") == 0


def test_content_attributes_are_double_encoded(scenario: tuple[Any, ScenarioFacts]) -> None:
    conn, facts = scenario
    kind, raw = conn.execute(
        "SELECT json_typeof(content_attributes), content_attributes #>> '{}' FROM messages WHERE id = %s",
        [facts.csat_survey_message_id],
    ).fetchone()
    assert kind == "string"
    inner = json.loads(raw)
    assert inner["submitted_values"]["csat_survey_response"]["rating"] == 5
    assert _scalar(conn, "SELECT count(*) FROM messages WHERE content_attributes IS NULL") == 22


def test_soft_deleted_message(scenario: tuple[Any, ScenarioFacts]) -> None:
    conn, facts = scenario
    content, raw, created, updated = conn.execute(
        "SELECT content, content_attributes #>> '{}', created_at, updated_at FROM messages WHERE id = %s",
        [facts.deleted_message_id],
    ).fetchone()
    assert content == "This message was deleted"
    assert json.loads(raw) == {"deleted": True}
    assert updated > created


def test_status_change_without_new_message(scenario: tuple[Any, ScenarioFacts]) -> None:
    conn, _ = scenario
    conversation_updated, last_message_updated = conn.execute(
        "SELECT c.updated_at, max(m.updated_at) FROM conversations c JOIN messages m ON m.conversation_id = c.id "
        "WHERE c.id = 3 GROUP BY c.id"
    ).fetchone()
    assert conversation_updated - last_message_updated == timedelta(minutes=4, seconds=50)


def test_csat_response(scenario: tuple[Any, ScenarioFacts]) -> None:
    conn, facts = scenario
    rows = conn.execute(
        "SELECT conversation_id, message_id, rating, assigned_agent_id FROM csat_survey_responses"
    ).fetchall()
    assert rows == [(1, facts.csat_survey_message_id, 5, 1)]
    assert tuple(r[2] for r in rows) == facts.csat_ratings


def _events(conn: Any, name: str) -> list[tuple[int, float, float]]:
    rows: list[tuple[int, float, float]] = conn.execute(
        "SELECT conversation_id, value, value_in_business_hours FROM reporting_events WHERE name = %s ORDER BY id",
        [name],
    ).fetchall()
    return rows


def test_reporting_events_match_facts(scenario: tuple[Any, ScenarioFacts]) -> None:
    conn, facts = scenario
    first = _events(conn, "first_response")
    assert {cid: value for cid, value, _ in first} == facts.chatwoot_first_response_seconds
    assert {cid: bh for cid, _, bh in first} == facts.chatwoot_first_response_business_seconds
    assert tuple(v for _, v, _ in _events(conn, "reply_time")) == facts.reply_time_seconds
    resolved = _events(conn, "conversation_resolved")
    assert tuple(v for _, v, _ in resolved) == facts.resolution_seconds
    assert tuple(bh for _, _, bh in resolved) == facts.resolution_business_seconds
    assert len(resolved) == facts.resolutions_count
    assert len(_events(conn, "conversation_bot_resolved")) == facts.bot_resolutions_count
    assert len({cid for cid, _, _ in _events(conn, "conversation_bot_handoff")}) == facts.bot_handoffs_count
    opened = _events(conn, "conversation_opened")
    assert tuple(v for _, v, _ in opened) == facts.opened_seconds
    assert tuple(bh for _, _, bh in opened) == facts.opened_business_seconds
    # Every value is end - start, and the row is inserted after the event ends.
    wrong = _scalar(
        conn,
        "SELECT count(*) FROM reporting_events WHERE name <> 'conversation_opened' "
        "AND (value <> extract(epoch FROM event_end_time - event_start_time) OR created_at <= event_end_time)",
    )
    assert wrong == 0


def test_first_human_reply_recomputed_from_messages(scenario: tuple[Any, ScenarioFacts]) -> None:
    """The hand-worked 'from creation' numbers follow from the message rows themselves."""
    conn, facts = scenario
    rows = conn.execute(
        "SELECT c.id, extract(epoch FROM min(m.created_at) - c.created_at)::int FROM conversations c "
        "JOIN messages m ON m.conversation_id = c.id "
        "AND m.message_type = 1 AND NOT m.private AND m.sender_type = 'User' "
        "GROUP BY c.id"
    ).fetchall()
    assert dict(rows) == facts.first_human_reply_from_creation_seconds
    first_reply = dict(conn.execute("SELECT id, first_reply_created_at FROM conversations").fetchall())
    assert first_reply[1] == datetime(2026, 2, 2, 10, 5)
    assert first_reply[3] is None and first_reply[4] is None


def _business_seconds(conn: Any, inbox_id: int, start: datetime, end: datetime) -> int:
    """Working seconds between two naive-UTC times, from the inbox's working_hours rows (independent check)."""
    zone = ZoneInfo(_scalar(conn, "SELECT timezone FROM inboxes WHERE id = %s", inbox_id))
    hours = {
        day: (open_h, open_m, close_h, close_m)
        for day, closed, open_h, open_m, close_h, close_m in conn.execute(
            "SELECT day_of_week, closed_all_day, open_hour, open_minutes, close_hour, close_minutes "
            "FROM working_hours WHERE inbox_id = %s",
            [inbox_id],
        )
        if not closed
    }
    total = 0
    local_day: date = start.replace(tzinfo=UTC).astimezone(zone).date() - timedelta(days=1)
    while local_day <= end.replace(tzinfo=UTC).astimezone(zone).date():
        window = hours.get((local_day.weekday() + 1) % 7)  # Python Monday 0 -> Chatwoot Sunday 0
        if window:
            opens = datetime.combine(local_day, time(window[0], window[1]), zone).astimezone(UTC).replace(tzinfo=None)
            closes = datetime.combine(local_day, time(window[2], window[3]), zone).astimezone(UTC).replace(tzinfo=None)
            overlap = (min(end, closes) - max(start, opens)).total_seconds()
            total += max(0, int(overlap))
        local_day += timedelta(days=1)
    return total


def test_business_hours_values_recomputed(scenario: tuple[Any, ScenarioFacts]) -> None:
    conn, _ = scenario
    rows = conn.execute(
        "SELECT e.name, e.inbox_id, e.event_start_time, e.event_end_time, e.value_in_business_hours, "
        "i.working_hours_enabled "
        "FROM reporting_events e JOIN inboxes i ON i.id = e.inbox_id WHERE e.value > 0"
    ).fetchall()
    for name, inbox_id, start, end, business, enabled in rows:
        expected = _business_seconds(conn, inbox_id, start, end) if enabled else 0
        assert business == expected, name


# ---------------------------------------------------------------- scale


@pytest.mark.slow
def test_small_scale_run_and_append(empty_db: Any) -> None:
    conn = empty_db
    load_scenario(conn)
    result = load_scale(conn, account_id=3, conversations=1_000, messages_per_conversation=6, seed=7)
    conn.commit()
    assert result.rows["conversations"] == 1_000
    assert result.rows["messages"] == 6_000
    assert result.rows["contacts"] == 500
    assert _scalar(conn, "SELECT count(*) FROM conversations WHERE account_id = 3") == 1_000
    assert _scalar(conn, "SELECT count(*) FROM messages WHERE account_id = 3") == 6_000
    assert (
        _scalar(conn, "SELECT min(display_id) || '-' || max(display_id) FROM conversations WHERE account_id = 3")
        == "1-1000"
    )
    assert _scalar(conn, "SELECT count(*) FROM messages WHERE account_id = 1") == 22  # scenario untouched
    assert (
        _scalar(conn, "SELECT count(*) FROM reporting_events WHERE account_id = 3") == result.rows["reporting_events"]
    )
    # New rows get fresh ids from the sequences after COPY with explicit ids.
    moment = datetime(2026, 3, 1, 12, 0)
    assert append_messages(conn, account_id=3, n=150, at=moment) == 150
    conn.commit()
    assert _scalar(conn, "SELECT count(*) FROM messages WHERE account_id = 3") == 6_150
    touched = _scalar(
        conn, "SELECT count(*) FROM conversations WHERE updated_at = %s AND last_activity_at = %s", moment, moment
    )
    assert touched == 150
    assert _scalar(conn, "SELECT count(*) FROM conversations WHERE updated_at = %s AND status = 1", moment) == 0
    assert _scalar(conn, "SELECT count(*) FROM messages WHERE account_id <> 3 AND created_at = %s", moment) == 0
