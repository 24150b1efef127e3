"""The demo with a Chatwoot fixture database as its source, on the SQLite store: ``pulso demo chatwoot``.

Each test creates its own fixture database (a unique ``chatwoot_fixture_demo_*`` name) and drops it afterwards.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

import pulso.demo.chatwoot as chatwoot_demo
from pulso.cli import app
from pulso.config import Settings
from pulso.connectors.chatwoot.fixture import drop_chatwoot_database
from pulso.demo import DEMO_PASSWORD
from pulso.demo.chatwoot import TENANT, run_chatwoot_demo
from pulso.security.passwords import verify_password
from pulso.store import platform_session, tenant_session
from pulso.store.models import Conversation, ConversationFactsRow, DailyMetric, Tenant, User
from tests.connectors.chatwoot.conftest import chatwoot_admin_url  # noqa: F401  (the fixture: skip or fail)

CONVERSATIONS = 200
SCENARIO_ACCOUNT1_CONVERSATIONS = 4


@pytest.fixture
def demo_database(chatwoot_admin_url: str) -> Iterator[str]:  # noqa: F811
    name = f"chatwoot_fixture_demo_{uuid.uuid4().hex[:8]}"
    try:
        yield name
    finally:
        drop_chatwoot_database(chatwoot_admin_url, name)


def _account1_counts(admin_url: str, database: str) -> dict[str, int]:
    url = psycopg.conninfo.make_conninfo(admin_url, dbname=database)
    with psycopg.connect(url) as conn:
        return {
            table: int(conn.execute(f"SELECT count(*) FROM {table} WHERE account_id = 1").fetchone()[0])  # type: ignore[index]
            for table in ("contacts", "conversations", "messages")
        }


@pytest.mark.postgres
def test_chatwoot_demo_syncs_account_1_builds_facts_and_is_rerunnable(
    sqlite_settings: Settings,
    chatwoot_admin_url: str,  # noqa: F811
    demo_database: str,
) -> None:
    first = run_chatwoot_demo(chatwoot_admin_url, conversations=CONVERSATIONS, database=demo_database)

    expected = _account1_counts(chatwoot_admin_url, demo_database)
    assert expected["conversations"] == CONVERSATIONS + SCENARIO_ACCOUNT1_CONVERSATIONS
    assert first.chatwoot_rows["conversations"] == expected["conversations"]
    for table in ("contacts", "conversations", "messages"):
        assert first.synced[table] == expected[table], table
        assert first.stored[table] == expected[table], table
    assert [r.status for r in first.pipeline] == ["succeeded"] * len(first.pipeline)
    assert {"gold.conversation_facts", "gold.daily_metrics"} <= {r.job for r in first.pipeline}

    with tenant_session(first.tenant_id) as session:
        conversations = set(session.scalars(select(Conversation.id)))
        with_facts = set(session.scalars(select(ConversationFactsRow.conversation_id)))
        daily_metrics = session.scalar(select(func.count()).select_from(DailyMetric))
    assert len(conversations) == expected["conversations"]
    assert with_facts == conversations
    assert daily_metrics and daily_metrics > 0
    assert first.stored["conversation_facts"] == expected["conversations"]

    with platform_session() as session:
        tenant = session.scalars(select(Tenant).where(Tenant.slug == TENANT.slug)).one()
        owner = session.scalars(select(User).where(User.email == first.login)).one()
        assert (tenant.name, tenant.timezone) == ("Clínica Sorriso (Chatwoot)", "America/Sao_Paulo")
        assert (owner.role, owner.tenant_id) == ("admin", tenant.id)
        assert verify_password(DEMO_PASSWORD, owner.password_hash)
    assert first.password == DEMO_PASSWORD
    assert first.webhook_path.endswith(first.webhook_token)

    second = run_chatwoot_demo(chatwoot_admin_url, conversations=CONVERSATIONS, database=demo_database)
    assert second.tenant_id != first.tenant_id  # recreated, not appended to
    assert (second.chatwoot_rows, second.synced, second.stored) == (first.chatwoot_rows, first.synced, first.stored)
    with platform_session() as session:
        assert session.scalar(select(func.count()).select_from(Tenant).where(Tenant.slug == TENANT.slug)) == 1
        assert session.scalar(select(func.count()).select_from(User).where(User.email == first.login)) == 1


@pytest.mark.postgres
def test_pulso_demo_chatwoot_command(
    sqlite_settings: Settings,
    chatwoot_admin_url: str,  # noqa: F811
    demo_database: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(chatwoot_demo, "DATABASE", demo_database)
    result = CliRunner().invoke(
        app, ["demo", "chatwoot", "--admin-url", chatwoot_admin_url, "--conversations", "30", "--no-serve"]
    )
    assert result.exit_code == 0, result.output
    assert "Agreement with Chatwoot's reporting_events" in result.output
    assert "owner@chatwoot.demo" in result.output
    assert "/hooks/chatwoot/" in result.output
    assert f"/{demo_database}" in result.output
    assert re.search(r"conversations\W+34\W+34\W+34", result.output)  # 30 generated + the scenario's 4


def test_pulso_demo_chatwoot_without_postgresql_says_what_it_needs(sqlite_settings: Settings) -> None:
    url = "postgresql://postgres@127.0.0.1:1/postgres"  # port 1: nothing listens there
    result = CliRunner().invoke(app, ["demo", "chatwoot", "--admin-url", url, "--no-serve"])
    assert result.exit_code == 2
    assert "no PostgreSQL answers at postgresql://postgres@127.0.0.1:1/postgres" in result.output
    assert "needs a PostgreSQL server to hold the Chatwoot database" in result.output
    assert "--admin-url" in result.output
