"""Configuring a Chatwoot source: check a read-only DSN against Chatwoot's schema, then store it encrypted.

A tenant reads one Chatwoot account (one account maps to one tenant). The DSN is checked before anything is
stored (connection, schema version, tables, columns, privileges, account, inboxes) so every mistake surfaces
as one clear message when the source is added, not as a failing sync later. The webhook token is returned once;
only its SHA-256 hash is stored.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from pulso.errors import InvalidInputError
from pulso.security.secrets import decrypt_secret, encrypt_secret
from pulso.store.models import Source, Tenant, Watermark
from pulso.store.session import PulsoSession, platform_session, tenant_session
from pulso.tenancy.service import get_tenant

if TYPE_CHECKING:
    import psycopg

KIND = "chatwoot"
MIN_SCHEMA_VERSION = "20230701000000"  # reply_time reporting events exist from here on (chatwoot.md §12)
# = fixture.schema.SCHEMA_VERSION (a test pins it); not imported so the CLI loads without psycopg installed
TESTED_SCHEMA_VERSION = "20260130061021"
WEBHOOK_PREFIX = "/hooks/chatwoot/"
_STAMPS = ("created_at", "updated_at")

# What an extractor reads; every column here existed by MIN_SCHEMA_VERSION (chatwoot.md §2-§13, §19.11).
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "accounts": ("id", "name", *_STAMPS),
    "inboxes": ("id", "account_id", "name", "channel_type", "channel_id", "timezone", "working_hours_enabled",
                "csat_survey_enabled", *_STAMPS),
    "working_hours": ("id", "inbox_id", "account_id", "day_of_week", "closed_all_day", "open_all_day", "open_hour",
                      "open_minutes", "close_hour", "close_minutes"),
    "contacts": ("id", "account_id", "name", "email", "phone_number", "identifier", "additional_attributes",
                 "custom_attributes", "last_activity_at", *_STAMPS),
    "contact_inboxes": ("id", "contact_id", "inbox_id", "source_id", *_STAMPS),
    "conversations": ("id", "account_id", "inbox_id", "display_id", "uuid", "status", "assignee_id", "team_id",
                      "contact_id", "contact_inbox_id", "campaign_id", "additional_attributes", "custom_attributes",
                      "snoozed_until", "last_activity_at", *_STAMPS),
    "messages": ("id", "account_id", "inbox_id", "conversation_id", "message_type", "content_type", "content",
                 "private", "status", "sender_type", "sender_id", "source_id", "content_attributes",
                 "additional_attributes", *_STAMPS),
    "users": ("id", "name", "display_name", "email", *_STAMPS),
    "account_users": ("id", "account_id", "user_id", "role", *_STAMPS),
    "agent_bots": ("id", "name", "account_id", *_STAMPS),
    "teams": ("id", "account_id", "name", *_STAMPS),
    "labels": ("id", "account_id", "title", *_STAMPS),
    "tags": ("id", "name"),
    "taggings": ("id", "tag_id", "taggable_type", "taggable_id", "context", "created_at"),
    "csat_survey_responses": ("id", "account_id", "conversation_id", "message_id", "contact_id", "rating",
                              "feedback_message", "assigned_agent_id", *_STAMPS),
    "reporting_events": ("id", "account_id", "inbox_id", "user_id", "conversation_id", "name", "value",
                         "value_in_business_hours", "event_start_time", "event_end_time", *_STAMPS),
    "campaigns": ("id", "account_id", "inbox_id", "display_id", "title", "sender_id", "campaign_type",
                  "campaign_status", *_STAMPS),
}  # fmt: skip

# Columns older databases lack, and what Pulso loses without each one.
_OPTIONAL: dict[str, dict[str, str]] = {
    "conversations": {
        "waiting_since": "replies waiting for an agent are derived from messages only",
        "cached_label_list": "labels are read from taggings only",
        "assignee_agent_bot_id": "conversations assigned to an agent bot show no bot assignee",
        "priority": "conversation priority is unknown",
        "sla_policy_id": "SLA policies per conversation are unknown",
        "first_reply_created_at": "Chatwoot's own first-reply time is unavailable (computed from messages)",
    },
    "channel_twilio_sms": {"medium": "Twilio WhatsApp inboxes are counted as SMS"},
    "channel_facebook_pages": {"instagram_id": "Instagram inboxes connected through Facebook count as Facebook"},
}
OPTIONAL_COLUMNS: dict[str, tuple[str, ...]] = {table: tuple(cols) for table, cols in _OPTIONAL.items()}
INSPECTED_TABLES: tuple[str, ...] = tuple(dict.fromkeys([*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS]))


@dataclass(frozen=True)
class ChatwootInspection:
    """What a DSN gives access to; ``columns`` holds the columns present per inspected table (empty if absent)."""

    schema_version: str
    account_id: int
    account_name: str
    inboxes: dict[int, str]
    columns: dict[str, frozenset[str]]
    warnings: list[str]


@dataclass(frozen=True)
class AddedSource:
    source_id: int
    tenant_id: int
    name: str
    webhook_token: str  # shown once; only its hash is stored
    inspection: ChatwootInspection


@dataclass(frozen=True)
class ChatwootSourceConfig:
    """A configured source as a sync reads it (the DSN decrypted)."""

    source_id: int
    tenant_id: int
    name: str
    dsn: str
    account_id: int
    inbox_ids: tuple[int, ...]
    schema_version: str


@dataclass(frozen=True)
class SourceSummary:
    """One row of ``pulso sources list``: never a secret."""

    tenant_slug: str
    kind: str
    name: str
    is_active: bool
    account_id: int | None
    inbox_ids: tuple[int, ...]
    dsn_display: str
    last_synced_at: datetime | None
    last_error: str | None


# ---------------------------------------------------------------- DSN helpers


def _parse_dsn(dsn: str) -> URL:
    try:
        url = make_url(dsn.strip())
    except (ArgumentError, ValueError):
        url = None
    if url is None or url.drivername not in {"postgresql", "postgres", "postgresql+psycopg"}:
        raise InvalidInputError(
            "dsn: expected a PostgreSQL URL like postgresql://user:password@host:5432/chatwoot "
            "(postgresql+psycopg:// is accepted too)"
        )
    return url


def mask_dsn(dsn: str) -> str:
    """The DSN with its password (in the URL or a ``password=`` parameter) replaced by ``***``."""
    url = _parse_dsn(dsn)
    query = {k: ("***" if "password" in k.lower() else v) for k, v in url.query.items()}
    return url.set(query=query).render_as_string(hide_password=True)


def _hide_password(text: str, dsn: str) -> str:
    """Defence in depth: libpq messages do not echo passwords, but never let one through if they did."""
    password = _parse_dsn(dsn).password
    if password and len(password) >= 4:
        text = text.replace(password, "***")
    return text


def source_fingerprint(dsn: str, account_id: int) -> str:
    """Identifies one Chatwoot account in one database: sha256 of ``host:port/dbname#account_id``."""
    url = _parse_dsn(dsn)
    host = (url.host or "localhost").lower()
    database = url.database or url.username or ""
    return hashlib.sha256(f"{host}:{url.port or 5432}/{database}#{account_id}".encode()).hexdigest()


def hash_webhook_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def webhook_path(token: str) -> str:
    return f"{WEBHOOK_PREFIX}{token}"


def read_only_role_sql(database: str, role: str = "pulso_reader") -> str:
    """SQL a Chatwoot database owner runs to create a role that can read exactly what Pulso reads."""
    tables = ", ".join(["schema_migrations", *INSPECTED_TABLES])
    return "\n".join(
        [
            f"CREATE ROLE {role} LOGIN PASSWORD 'choose-a-long-password';",
            f'GRANT CONNECT ON DATABASE "{database}" TO {role};',
            f"GRANT USAGE ON SCHEMA public TO {role};",
            f"GRANT SELECT ON {tables} TO {role};",
            f"ALTER ROLE {role} SET default_transaction_read_only = on;",
        ]
    )


def _version_label(version: str) -> str:
    return f"{version} ({version[:4]}-{version[4:6]}-{version[6:8]})"


# ---------------------------------------------------------------- inspection


def inspect_chatwoot(dsn: str, account_id: int, inbox_ids: Sequence[int] = ()) -> ChatwootInspection:
    """Check that ``dsn`` reaches a Chatwoot database Pulso can read for ``account_id``; raise on any problem."""
    _check_ids(account_id, inbox_ids)
    masked = mask_dsn(dsn)
    try:
        import psycopg
    except ImportError:
        raise InvalidInputError("dsn: reading Chatwoot needs psycopg: pip install 'pulso[postgres]'") from None
    from pulso.connectors.chatwoot.fixture.schema import libpq_url

    try:
        conn = psycopg.connect(libpq_url(dsn), connect_timeout=5, options="-c default_transaction_read_only=on")
    except psycopg.Error as exc:
        text = str(exc).strip()
        first_line = _hide_password(text.splitlines()[0] if text else type(exc).__name__, dsn)
        hint = _connect_hint(first_line)
        raise InvalidInputError(f"dsn: cannot connect to {masked}: {first_line} ({hint})") from None
    with conn:
        version = _schema_version(conn, masked)
        columns, warnings = _check_tables(conn, masked)
        account_name = _account_name(conn, account_id)
        inboxes = _inboxes(conn, account_id, inbox_ids)
        if version > TESTED_SCHEMA_VERSION:
            warnings.append(
                f"schema {_version_label(version)} is newer than the one Pulso was tested with "
                f"({_version_label(TESTED_SCHEMA_VERSION)}); sync should work, but newer Chatwoot data may be missed"
            )
        warnings.extend(_write_privilege_warning(conn))
    return ChatwootInspection(version, account_id, account_name, inboxes, columns, warnings)


def _check_ids(account_id: int, inbox_ids: Sequence[int]) -> None:
    if isinstance(account_id, bool) or not isinstance(account_id, int) or not 0 < account_id < 2**31:
        raise InvalidInputError(f"account_id: must be a positive integer, got {account_id!r}")
    for inbox_id in inbox_ids:
        if isinstance(inbox_id, bool) or not isinstance(inbox_id, int) or not 0 < inbox_id < 2**31:
            raise InvalidInputError(f"inbox: ids must be positive integers, got {inbox_id!r}")


def _connect_hint(message: str) -> str:
    lowered = message.lower()
    if "database" in lowered and "does not exist" in lowered:
        return "check the database name"
    if any(s in lowered for s in ("password", "authentication", "role", "pg_hba", "permission denied")):
        return "check the user name and password"
    if any(s in lowered for s in ("refused", "resolve", "translate host", "timeout", "timed out", "no route")):
        return "check the host and port, and that PostgreSQL accepts connections from this machine"
    return "check host, port, user, password and database name"


def _scalar(conn: psycopg.Connection[Any], sql: str, params: Sequence[Any] = ()) -> Any:
    row = conn.execute(sql, list(params)).fetchone()
    return row[0] if row else None


def _schema_version(conn: psycopg.Connection[Any], masked: str) -> str:
    if _scalar(conn, "SELECT to_regclass('schema_migrations') IS NOT NULL") is not True:
        raise InvalidInputError(f"dsn: {masked} is not a Chatwoot database (it has no schema_migrations table)")
    if not _scalar(conn, "SELECT has_table_privilege(to_regclass('schema_migrations'), 'SELECT')"):
        raise InvalidInputError("dsn: the role has no SELECT privilege on schema_migrations; grant it read access")
    version = _scalar(conn, "SELECT max(version) FROM schema_migrations WHERE version ~ '^[0-9]{14}$'")
    if version is None:
        raise InvalidInputError(f"dsn: {masked} has an empty schema_migrations table; is Chatwoot migrated?")
    if version < MIN_SCHEMA_VERSION:
        raise InvalidInputError(
            f"dsn: Chatwoot schema {_version_label(version)} is too old; Pulso needs "
            f"{_version_label(MIN_SCHEMA_VERSION)} or newer (reply-time events start there). Upgrade Chatwoot first."
        )
    return str(version)


_CATALOG_SQL = """
SELECT c.relname, a.attname, has_table_privilege(c.oid, 'SELECT')
FROM pg_catalog.pg_class c
LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND pg_catalog.pg_table_is_visible(c.oid) AND c.relname = ANY(%s)
"""


def _check_tables(conn: psycopg.Connection[Any], masked: str) -> tuple[dict[str, frozenset[str]], list[str]]:
    """Columns present per table; raise naming every missing table, column and privilege at once."""
    present: dict[str, set[str]] = {table: set() for table in INSPECTED_TABLES}
    readable: dict[str, bool] = {}
    for table, column, can_select in conn.execute(_CATALOG_SQL, [list(INSPECTED_TABLES)]).fetchall():
        readable[table] = bool(can_select)
        if column is not None:
            present[table].add(column)
    missing_tables = [t for t in REQUIRED_COLUMNS if t not in readable]
    missing_columns = [
        f"{t}.{c}" for t, cols in REQUIRED_COLUMNS.items() if t in readable for c in cols if c not in present[t]
    ]
    unreadable = [t for t in REQUIRED_COLUMNS if readable.get(t) is False]
    problems = []
    if missing_tables:
        problems.append(f"missing tables: {', '.join(missing_tables)}")
    if missing_columns:
        problems.append(f"missing columns: {', '.join(missing_columns)}")
    if unreadable:
        problems.append(f"no SELECT privilege on: {', '.join(unreadable)} (grant the role read access)")
    if problems:
        raise InvalidInputError(f"dsn: {masked} does not have the Chatwoot tables Pulso reads: {'; '.join(problems)}")
    warnings = []
    lost = [f"{t}.{c} ({loss})" for t, cols in _OPTIONAL.items() for c, loss in cols.items() if c not in present[t]]
    if lost:
        warnings.append(f"older Chatwoot schema, optional columns missing: {'; '.join(lost)}")
    unreadable_optional = [t for t in OPTIONAL_COLUMNS if readable.get(t) is False]
    if unreadable_optional:
        warnings.append(f"no SELECT privilege on {', '.join(unreadable_optional)}; channel details are not read")
    return {t: frozenset(cols) for t, cols in present.items()}, warnings


def _account_name(conn: psycopg.Connection[Any], account_id: int) -> str:
    name = _scalar(conn, "SELECT name FROM accounts WHERE id = %s", [account_id])
    if name is None:
        known = [r[0] for r in conn.execute("SELECT id FROM accounts ORDER BY id LIMIT 20").fetchall()]
        raise InvalidInputError(
            f"account_id: Chatwoot account {account_id} does not exist in this database"
            f" (accounts found: {', '.join(map(str, known)) or 'none'})"
        )
    return str(name)


def _inboxes(conn: psycopg.Connection[Any], account_id: int, inbox_ids: Sequence[int]) -> dict[int, str]:
    """Names of the chosen inboxes, or of all the account's inboxes when none were chosen."""
    if not inbox_ids:
        rows = conn.execute("SELECT id, name FROM inboxes WHERE account_id = %s ORDER BY id", [account_id])
        return {int(i): str(n) for i, n in rows.fetchall()}
    found = {
        int(i): (int(a), str(n))
        for i, a, n in conn.execute(
            "SELECT id, account_id, name FROM inboxes WHERE id = ANY(%s)", [sorted(set(inbox_ids))]
        ).fetchall()
    }
    problems = [f"inbox {i} does not exist" for i in sorted(set(inbox_ids)) if i not in found]
    problems += [
        f"inbox {i} belongs to account {a}, not {account_id}" for i, (a, _) in sorted(found.items()) if a != account_id
    ]
    if problems:
        raise InvalidInputError(f"inbox: {'; '.join(problems)}")
    return {i: n for i, (_, n) in sorted(found.items())}


def _write_privilege_warning(conn: psycopg.Connection[Any]) -> list[str]:
    if not _scalar(conn, "SELECT has_table_privilege(to_regclass('messages'), 'INSERT, UPDATE, DELETE')"):
        return []
    role, database = conn.execute("SELECT current_user, current_database()").fetchone() or ("?", "?")
    return [
        f"the role {role!r} can INSERT/UPDATE/DELETE on messages: it is not read-only. Pulso only reads, in "
        "read-only transactions, but a leaked DSN should not be able to change Chatwoot. As the database owner, "
        "create a read-only role and add the source with its DSN instead:\n" + read_only_role_sql(str(database))
    ]


# ---------------------------------------------------------------- storage


def add_chatwoot_source(
    tenant_slug: str, dsn: str, account_id: int, inbox_ids: Sequence[int] = (), name: str | None = None
) -> AddedSource:
    """Check the DSN, then store it encrypted for the tenant; return the webhook token (shown only this once)."""
    source_name = (name if name is not None else f"chatwoot-{account_id}").strip()
    if not source_name or len(source_name) > 200:
        raise InvalidInputError("name: must be 1-200 characters")
    fingerprint = source_fingerprint(dsn, account_id)
    with platform_session() as session:
        tenant_id = get_tenant(session, tenant_slug).id
        others = session.execute(select(Source.config, Tenant.slug).join(Tenant, Tenant.id == Source.tenant_id).where(
            Source.kind == KIND, Source.tenant_id != tenant_id
        )).all()  # fmt: skip
    for config, other_slug in others:
        if (config or {}).get("fingerprint") == fingerprint:
            raise InvalidInputError(
                f"dsn: Chatwoot account {account_id} of this database is already the source of tenant "
                f"{other_slug!r}; one Chatwoot account feeds one tenant"
            )
    with tenant_session(tenant_id) as session:
        _check_unique_in_tenant(session, tenant_slug, source_name)
    inspection = inspect_chatwoot(dsn, account_id, inbox_ids)
    token = secrets.token_urlsafe(32)
    config = {
        "account_id": account_id,
        "inbox_ids": sorted(set(inbox_ids)),
        "schema_version": inspection.schema_version,
        "dsn_display": mask_dsn(dsn),
        "fingerprint": fingerprint,
    }
    with tenant_session(tenant_id) as session:
        _check_unique_in_tenant(session, tenant_slug, source_name)  # again: someone may have added one meanwhile
        row = Source(
            tenant_id=tenant_id,
            kind=KIND,
            name=source_name,
            config=config,
            secret=encrypt_secret(dsn.strip()),
            webhook_token_hash=hash_webhook_token(token),
        )
        session.add(row)
        session.flush()
        source_id = row.id
    return AddedSource(source_id, tenant_id, source_name, token, inspection)


def _check_unique_in_tenant(session: PulsoSession, tenant_slug: str, name: str) -> None:
    existing = session.execute(select(Source.kind, Source.name).where((Source.kind == KIND) | (Source.name == name)))
    for kind, existing_name in existing.all():
        if kind == KIND:
            raise InvalidInputError(
                f"tenant: {tenant_slug!r} already has a Chatwoot source ({existing_name!r}); one Chatwoot account "
                "maps to one tenant. Remove it first: "
                f"pulso sources remove --tenant {tenant_slug} --name {existing_name}"
            )
        raise InvalidInputError(f"name: tenant {tenant_slug!r} already has a source named {name!r}")


def chatwoot_sources(session: PulsoSession) -> list[ChatwootSourceConfig]:
    """The active Chatwoot sources of the session's tenant, DSN decrypted (a tenant session is required)."""
    tenant_id = session.tenant_id
    rows = session.scalars(select(Source).where(Source.kind == KIND, Source.is_active).order_by(Source.id)).all()
    return [
        ChatwootSourceConfig(
            source_id=row.id,
            tenant_id=tenant_id,
            name=row.name,
            dsn=decrypt_secret(row.secret or ""),
            account_id=int(row.config["account_id"]),
            inbox_ids=tuple(int(i) for i in row.config.get("inbox_ids", [])),
            schema_version=str(row.config.get("schema_version", "")),
        )
        for row in rows
    ]


def find_source_by_webhook_token(token: str) -> tuple[int, int, int] | None:
    """``(tenant_id, source_id, account_id)`` of the active Chatwoot source whose webhook URL carries ``token``,
    else None: one query answers everything a webhook needs to know about its source."""
    if not token or len(token) > 256:
        return None
    with platform_session() as session:
        row = session.execute(
            select(Source.tenant_id, Source.id, Source.config).where(
                Source.webhook_token_hash == hash_webhook_token(token), Source.kind == KIND, Source.is_active
            )
        ).first()
    return (int(row[0]), int(row[1]), int(row[2]["account_id"])) if row else None


def _tenant_source(session: PulsoSession, tenant_slug: str, name: str) -> Source:
    row = session.scalar(select(Source).where(Source.kind == KIND, Source.name == name))
    if row is None:
        raise InvalidInputError(f"name: tenant {tenant_slug!r} has no Chatwoot source named {name!r}")
    return row


def _tenant_id(tenant_slug: str) -> int:
    with platform_session() as session:
        return get_tenant(session, tenant_slug).id


def rotate_webhook_token(tenant_slug: str, name: str) -> str:
    """A new webhook token for the source; the old URL stops working at once."""
    token = secrets.token_urlsafe(32)
    with tenant_session(_tenant_id(tenant_slug)) as session:
        _tenant_source(session, tenant_slug, name).webhook_token_hash = hash_webhook_token(token)
    return token


def remove_chatwoot_source(tenant_slug: str, name: str) -> None:
    """Forget the source, its credential and its sync positions; data already synced stays."""
    with tenant_session(_tenant_id(tenant_slug)) as session:
        row = _tenant_source(session, tenant_slug, name)
        session.execute(delete(Watermark).where(Watermark.source_id == row.id))
        session.delete(row)


def list_sources(tenant_slug: str | None = None) -> list[SourceSummary]:
    """Every source (of one tenant, or of all for the platform admin), without secrets."""
    if tenant_slug is None:
        with platform_session() as session:
            return _summaries(session)
    with tenant_session(_tenant_id(tenant_slug)) as session:
        return _summaries(session)


def _summaries(session: PulsoSession) -> list[SourceSummary]:
    rows = session.execute(
        select(Source, Tenant.slug).join(Tenant, Tenant.id == Source.tenant_id).order_by(Tenant.slug, Source.name)
    ).all()
    summaries = []
    for row, slug in rows:
        config = row.config or {}
        account = config.get("account_id")
        summaries.append(
            SourceSummary(
                tenant_slug=slug,
                kind=row.kind,
                name=row.name,
                is_active=row.is_active,
                account_id=int(account) if account is not None else None,
                inbox_ids=tuple(int(i) for i in config.get("inbox_ids", [])),
                dsn_display=str(config.get("dsn_display", "")),
                last_synced_at=row.last_synced_at,
                last_error=row.last_error,
            )
        )
    return summaries
