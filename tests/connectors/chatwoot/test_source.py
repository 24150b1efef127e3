"""Configuring a Chatwoot source: the DSN is checked against a real Chatwoot fixture database, then stored encrypted."""

from __future__ import annotations

import hashlib
import socket
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from pydantic import SecretStr
from sqlalchemy import select
from typer.testing import CliRunner

from pulso.cli import app
from pulso.config import Settings
from pulso.connectors.chatwoot.fixture import SCHEMA_VERSION, create_chatwoot_database, drop_chatwoot_database
from pulso.connectors.chatwoot.fixture.scenario import load_scenario
from pulso.connectors.chatwoot.source import (
    MIN_SCHEMA_VERSION,
    TESTED_SCHEMA_VERSION,
    add_chatwoot_source,
    chatwoot_sources,
    find_source_by_webhook_token,
    inspect_chatwoot,
    mask_dsn,
    read_only_role_sql,
    remove_chatwoot_source,
    rotate_webhook_token,
    webhook_path,
)
from pulso.errors import InvalidInputError
from pulso.security.secrets import decrypt_secret, encrypt_secret
from pulso.store import platform_session, tenant_session
from pulso.store.models import Source
from pulso.tenancy.service import create_tenant
from tests.conftest import PG_HOST, PG_PORT, PG_SUPERUSER

pytestmark = pytest.mark.postgres
ADMIN_URL = f"postgresql://{PG_SUPERUSER}@{PG_HOST}:{PG_PORT}/postgres"
PASSWORD = "s3cret-Pa55word"  # trust auth on the test server accepts any password; it must never be stored in clear
NOT_READ_ONLY = "not read-only"
runner = CliRunner()


def _new_name() -> str:
    return f"chatwoot_fixture_{uuid.uuid4().hex[:10]}"


def _dsn(database: str, user: str = PG_SUPERUSER, scheme: str = "postgresql") -> str:
    return f"{scheme}://{user}:{PASSWORD}@{PG_HOST}:{PG_PORT}/{database}"


@pytest.fixture(scope="module")
def admin_url(chatwoot_admin_url: str) -> str:
    """The server holding the fixture databases (conftest skips or fails when there is none)."""
    return chatwoot_admin_url


def _scenario_database(admin_url: str) -> str:
    name = _new_name()
    url = create_chatwoot_database(admin_url, name)
    with psycopg.connect(url) as conn:
        load_scenario(conn)
        conn.commit()
    return name


@pytest.fixture(scope="module")
def chatwoot_db(admin_url: str) -> Iterator[str]:
    """The scenario (account 1: inboxes 1, 2; account 2: inbox 3), shared by the tests that do not change it."""
    name = _scenario_database(admin_url)
    try:
        yield name
    finally:
        drop_chatwoot_database(admin_url, name)


@pytest.fixture
def altered_db(admin_url: str) -> Iterator[Callable[[str], str]]:
    """A fresh scenario database changed by the given SQL (run as superuser); dropped afterwards."""
    names: list[str] = []

    def make(sql: str) -> str:
        names.append(_scenario_database(admin_url))
        with psycopg.connect(_dsn(names[-1]), autocommit=True) as conn:
            conn.execute(sql)
        return names[-1]

    yield make
    for name in names:
        drop_chatwoot_database(admin_url, name)


@pytest.fixture
def role_in(admin_url: str) -> Iterator[Callable[[str, str], str]]:
    """Creates a login role in a database with the given grants (`{role}` is replaced); dropped afterwards."""
    created: list[tuple[str, str]] = []

    def make(database: str, grants_sql: str) -> str:
        role = f"pulso_reader_{uuid.uuid4().hex[:8]}"
        created.append((role, database))
        with psycopg.connect(_dsn(database), autocommit=True) as conn:
            conn.execute(grants_sql.replace("{role}", role))
        return _dsn(database, user=role)

    yield make
    for role, database in created:
        with psycopg.connect(_dsn(database), autocommit=True) as conn:
            conn.execute(f"DROP OWNED BY {role}")
            conn.execute(f"DROP ROLE {role}")


def _tenant(slug: str) -> int:
    with platform_session() as session:
        return create_tenant(session, slug=slug, name=slug.title()).id


def _sources() -> list[Source]:
    with platform_session() as session:
        return list(session.scalars(select(Source).order_by(Source.id)))


def _error(call: Callable[[], Any]) -> str:
    with pytest.raises(InvalidInputError) as info:
        call()
    return str(info.value)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind((PG_HOST, 0))
        return int(sock.getsockname()[1])


# ---------------------------------------------------------------- secrets and helpers (no database)


def test_secrets_round_trip_and_refuse_another_installation_key(tmp_path: Any) -> None:
    ours = Settings(secret_key=SecretStr("k" * 48), data_dir=tmp_path)
    theirs = Settings(secret_key=SecretStr("x" * 48), data_dir=tmp_path)
    dsn = "postgresql://u:s3cr%21t-pw@h/db"  # '%' and '!' never occur in a Fernet token (URL-safe base64)
    token = encrypt_secret(dsn, ours)
    assert "s3cr%21t-pw" not in token and token != encrypt_secret(dsn, ours)  # random IV each time
    assert decrypt_secret(token, ours) == dsn
    message = _error(lambda: decrypt_secret(token, theirs))
    assert "PULSO_SECRET_KEY" in message and "data/secret_key" in message and "add it again" in message
    assert "installation key" in _error(lambda: decrypt_secret("not-a-token", ours))


def test_dsn_masking_and_helpers() -> None:
    assert mask_dsn("postgresql+psycopg://reader:pw@db.example:6432/chatwoot") == (
        "postgresql+psycopg://reader:***@db.example:6432/chatwoot"
    )
    assert "hunter2" not in mask_dsn("postgresql://reader@db/chatwoot?password=hunter2&sslmode=require")
    assert "sslmode=require" in mask_dsn("postgresql://reader@db/chatwoot?password=hunter2&sslmode=require")
    assert "expected a PostgreSQL URL" in _error(lambda: mask_dsn("mysql://root@db/chatwoot"))
    assert webhook_path("abc") == "/hooks/chatwoot/abc"
    assert TESTED_SCHEMA_VERSION == SCHEMA_VERSION


# ---------------------------------------------------------------- inspection


def test_superuser_dsn_passes_with_a_not_read_only_warning(chatwoot_db: str) -> None:
    inspection = inspect_chatwoot(_dsn(chatwoot_db, scheme="postgresql+psycopg"), 1)
    assert inspection.schema_version == SCHEMA_VERSION
    assert inspection.account_name == "Clínica Sorriso"
    assert inspection.inboxes == {1: "WhatsApp Sorriso", 2: "Instagram Sorriso"}  # all of account 1, not inbox 3
    assert "waiting_since" in inspection.columns["conversations"]
    [warning] = inspection.warnings
    assert NOT_READ_ONLY in warning and "GRANT SELECT ON schema_migrations" in warning


def test_read_only_role_made_with_the_advised_sql_passes_without_warnings(chatwoot_db: str, role_in: Any) -> None:
    sql = read_only_role_sql(chatwoot_db, role="{role}").replace("choose-a-long-password", "pw")
    reader_dsn = role_in(chatwoot_db, sql)
    inspection = inspect_chatwoot(reader_dsn, 1, [2])
    assert inspection.warnings == []
    assert inspection.inboxes == {2: "Instagram Sorriso"}
    with psycopg.connect(reader_dsn) as conn, pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        conn.execute("DELETE FROM messages")  # the advised role really cannot write


def test_role_without_select_on_a_table_is_refused(chatwoot_db: str, role_in: Any) -> None:
    sql = read_only_role_sql(chatwoot_db, role="{role}") + "\nREVOKE SELECT ON reporting_events, taggings FROM {role};"
    message = _error(lambda: inspect_chatwoot(role_in(chatwoot_db, sql), 1))
    assert "no SELECT privilege on: taggings, reporting_events" in message


@pytest.mark.parametrize(
    ("dsn", "expected", "hint"),
    [
        (lambda db: _dsn(db).replace(f":{PG_PORT}/", f":{_closed_port()}/"), "Connection refused", "host and port"),
        (
            lambda db: _dsn(db, user="no_such_role_zz"),
            'role "no_such_role_zz" does not exist',
            "user name and password",
        ),
        (lambda db: _dsn("chatwoot_fixture_missing"), "does not exist", "database name"),
    ],
    ids=["closed-port", "unknown-user", "unknown-database"],
)
def test_unreachable_database_is_refused_and_nothing_saved(
    any_settings: Settings, chatwoot_db: str, dsn: Callable[[str], str], expected: str, hint: str
) -> None:
    _tenant("sorriso")
    message = _error(lambda: add_chatwoot_source("sorriso", dsn(chatwoot_db), 1))
    assert message.startswith("dsn: cannot connect to postgresql://")
    assert expected in message and hint in message
    assert PASSWORD not in message and ":***@" in message
    assert _sources() == []


def test_not_a_chatwoot_database(admin_url: str) -> None:
    assert "not a Chatwoot database" in _error(lambda: inspect_chatwoot(ADMIN_URL, 1))


def test_missing_tables_and_columns_are_all_named(altered_db: Any) -> None:
    db = altered_db("DROP TABLE reporting_events; DROP TABLE labels; ALTER TABLE messages DROP COLUMN content_type")
    message = _error(lambda: inspect_chatwoot(_dsn(db), 1))
    assert "missing tables: labels, reporting_events" in message
    assert "missing columns: messages.content_type" in message
    assert PASSWORD not in message


def test_too_old_schema_names_both_versions(altered_db: Any) -> None:
    db = altered_db("DELETE FROM schema_migrations; INSERT INTO schema_migrations VALUES ('20230101000000')")
    message = _error(lambda: inspect_chatwoot(_dsn(db), 1))
    assert "20230101000000" in message and MIN_SCHEMA_VERSION in message and "too old" in message


def test_older_schema_without_optional_columns_passes_with_warnings(altered_db: Any) -> None:
    db = altered_db(
        "ALTER TABLE conversations DROP COLUMN waiting_since, DROP COLUMN assignee_agent_bot_id;"
        "ALTER TABLE channel_twilio_sms DROP COLUMN medium;"
        "DELETE FROM schema_migrations; INSERT INTO schema_migrations VALUES ('20230801000000')"
    )
    inspection = inspect_chatwoot(_dsn(db), 1)
    assert inspection.schema_version == "20230801000000"
    assert "waiting_since" not in inspection.columns["conversations"]
    optional = next(w for w in inspection.warnings if "optional columns missing" in w)
    for column in ("conversations.waiting_since", "conversations.assignee_agent_bot_id", "channel_twilio_sms.medium"):
        assert column in optional
    assert "conversations.priority" not in optional  # still there


def test_newer_schema_than_tested_is_a_warning(altered_db: Any) -> None:
    db = altered_db("INSERT INTO schema_migrations VALUES ('20270101000000')")
    inspection = inspect_chatwoot(_dsn(db), 1)
    assert inspection.schema_version == "20270101000000"
    assert any(
        "newer than the one Pulso was tested with" in w and TESTED_SCHEMA_VERSION in w for w in inspection.warnings
    )


def test_unknown_account_and_foreign_inboxes_are_refused(chatwoot_db: str) -> None:
    assert "account 99 does not exist" in _error(lambda: inspect_chatwoot(_dsn(chatwoot_db), 99))
    assert "accounts found: 1, 2" in _error(lambda: inspect_chatwoot(_dsn(chatwoot_db), 99))
    message = _error(lambda: inspect_chatwoot(_dsn(chatwoot_db), 1, [1, 3, 42]))
    assert message == "inbox: inbox 42 does not exist; inbox 3 belongs to account 2, not 1"
    assert inspect_chatwoot(_dsn(chatwoot_db), 2, [3]).inboxes == {3: "Site Aurora"}


# ---------------------------------------------------------------- storing sources


def test_add_stores_the_dsn_encrypted_and_the_token_hashed(any_settings: Settings, chatwoot_db: str) -> None:
    tenant_id = _tenant("sorriso")
    dsn = _dsn(chatwoot_db)
    added = add_chatwoot_source("sorriso", dsn, 1, [2, 1])
    assert (added.tenant_id, added.name) == (tenant_id, "chatwoot-1")
    [row] = _sources()
    assert (row.id, row.tenant_id, row.kind, row.is_active) == (added.source_id, tenant_id, "chatwoot", True)
    assert row.config["account_id"] == 1 and row.config["inbox_ids"] == [1, 2]
    assert row.config["schema_version"] == SCHEMA_VERSION
    assert row.config["dsn_display"] == f"postgresql://{PG_SUPERUSER}:***@{PG_HOST}:{PG_PORT}/{chatwoot_db}"
    assert row.secret and PASSWORD not in row.secret and dsn not in row.secret and chatwoot_db not in row.secret
    assert PASSWORD not in str(row.config)
    assert decrypt_secret(row.secret) == dsn
    assert row.webhook_token_hash == hashlib.sha256(added.webhook_token.encode()).hexdigest()
    assert added.webhook_token not in str(row.config) + row.secret
    assert find_source_by_webhook_token(added.webhook_token) == (tenant_id, added.source_id, 1)
    assert find_source_by_webhook_token(added.webhook_token + "x") is None
    assert find_source_by_webhook_token("") is None
    with tenant_session(tenant_id) as session:
        [config] = chatwoot_sources(session)
    assert (config.source_id, config.dsn, config.account_id, config.inbox_ids) == (added.source_id, dsn, 1, (1, 2))


def test_sources_are_visible_only_to_their_tenant(any_settings: Settings, chatwoot_db: str) -> None:
    _tenant("sorriso")
    other = _tenant("aurora")
    add_chatwoot_source("sorriso", _dsn(chatwoot_db), 1)
    with tenant_session(other) as session:
        assert chatwoot_sources(session) == []
    with platform_session() as session, pytest.raises(RuntimeError):
        chatwoot_sources(session)  # needs a tenant session


def test_one_chatwoot_source_per_tenant_and_one_tenant_per_account(any_settings: Settings, chatwoot_db: str) -> None:
    _tenant("sorriso")
    _tenant("aurora")
    add_chatwoot_source("sorriso", _dsn(chatwoot_db), 1, name="main")
    message = _error(lambda: add_chatwoot_source("sorriso", _dsn(chatwoot_db), 2))
    assert "already has a Chatwoot source ('main')" in message
    # the same database and account, spelled differently, for another tenant
    same = _dsn(chatwoot_db, scheme="postgresql+psycopg").replace(PASSWORD, "other")
    assert "already the source of tenant 'sorriso'" in _error(lambda: add_chatwoot_source("aurora", same, 1))
    assert add_chatwoot_source("aurora", _dsn(chatwoot_db), 2).inspection.account_name == "Loja Aurora"
    assert [(s.name, s.config["account_id"]) for s in _sources()] == [("main", 1), ("chatwoot-2", 2)]
    assert "no tenant with slug 'nobody'" in _error(lambda: add_chatwoot_source("nobody", _dsn(chatwoot_db), 1))


def test_refused_account_or_inbox_saves_nothing(any_settings: Settings, chatwoot_db: str) -> None:
    _tenant("sorriso")
    assert "account 7 does not exist" in _error(lambda: add_chatwoot_source("sorriso", _dsn(chatwoot_db), 7))
    assert "inbox 3 belongs to account 2" in _error(lambda: add_chatwoot_source("sorriso", _dsn(chatwoot_db), 1, [3]))
    assert _sources() == []


def test_rotate_remove_and_inactive(any_settings: Settings, chatwoot_db: str) -> None:
    tenant_id = _tenant("sorriso")
    added = add_chatwoot_source("sorriso", _dsn(chatwoot_db), 1)
    new_token = rotate_webhook_token("sorriso", "chatwoot-1")
    assert find_source_by_webhook_token(added.webhook_token) is None
    assert find_source_by_webhook_token(new_token) == (tenant_id, added.source_id, 1)
    with tenant_session(tenant_id) as session:
        session.scalars(select(Source)).one().is_active = False
    assert find_source_by_webhook_token(new_token) is None
    with tenant_session(tenant_id) as session:
        assert chatwoot_sources(session) == []
    assert "no Chatwoot source named 'x'" in _error(lambda: remove_chatwoot_source("sorriso", "x"))
    remove_chatwoot_source("sorriso", "chatwoot-1")
    assert _sources() == []
    again = add_chatwoot_source("sorriso", _dsn(chatwoot_db), 1)  # can be added again, with a new token
    assert [s.id for s in _sources()] == [again.source_id]
    assert find_source_by_webhook_token(new_token) is None


# ---------------------------------------------------------------- CLI


def pulso(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_cli_add_list_rotate_remove(any_settings: Settings, chatwoot_db: str) -> None:
    _tenant("sorriso")
    dsn = _dsn(chatwoot_db)
    args = ("sources", "add", "chatwoot", "--tenant", "sorriso", "--dsn", dsn, "--account-id", "1")
    code, out = pulso(*args, "--inbox", "1", "--inbox", "2")
    assert code == 0, out
    assert "Clínica Sorriso" in out and SCHEMA_VERSION in out and "shown only now" in out
    assert NOT_READ_ONLY in out
    [row] = _sources()
    [token] = [line.rsplit("/", 1)[1] for line in out.splitlines() if "/hooks/chatwoot/" in line]
    assert "http://127.0.0.1:8000/hooks/chatwoot/" + token in out
    assert hashlib.sha256(token.encode()).hexdigest() == row.webhook_token_hash
    assert PASSWORD not in out

    code, out = pulso("sources", "list")
    assert code == 0
    assert "chatwoot-1" in out and "sorriso" in out and "1, 2" in out and "never" in out
    assert PASSWORD not in out and "***" in out and token not in out

    code, out = pulso(*args)
    assert code == 2 and "error:" in out and "already has a Chatwoot source" in out
    code, out = pulso("sources", "add", "chatwoot", "--tenant", "sorriso", "--dsn", "nope", "--account-id", "1")
    assert code == 2 and "expected a PostgreSQL URL" in out

    code, out = pulso("sources", "rotate-webhook", "--tenant", "sorriso", "--name", "chatwoot-1")
    assert code == 0 and "/hooks/chatwoot/" in out and token not in out
    assert pulso("sources", "remove", "--tenant", "sorriso", "--name", "chatwoot-1")[0] == 0
    assert _sources() == []
    code, out = pulso("sources", "list", "--tenant", "sorriso")
    assert code == 0 and "0 source(s)" in out
