"""The demo with a Chatwoot database as its source: ``pulso demo chatwoot`` (issue 4, "Done means").

A Chatwoot fixture database (``chatwoot_fixture_demo``) is (re)created on a PostgreSQL server with the
hand-checked scenario and a realistic volume in account 1; the tenant ``chatwoot-demo`` reads that account through
the real connector (add source, full sync) and the pipeline builds its conversation facts and daily metrics.
Logins come from :mod:`pulso.demo.writer`, like the other demo tenants (password ``pulso-demo``).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from pulso.config import get_settings
from pulso.connectors.chatwoot.source import add_chatwoot_source, chatwoot_sources, mask_dsn, webhook_path
from pulso.connectors.chatwoot.sync import ChatwootSync
from pulso.demo.writer import DEMO_PASSWORD, DemoTenant, create_demo_tenants, reset_demo
from pulso.pipeline.runner import RunResult, run_pipeline
from pulso.store.engine import app_engine
from pulso.store.models import (
    Contact,
    Conversation,
    ConversationFactsRow,
    DailyMetric,
    Message,
    SourceReportingEvent,
)
from pulso.store.session import tenant_session

TENANT = DemoTenant("chatwoot-demo", "Clínica Sorriso (Chatwoot)", "America/Sao_Paulo", "owner@chatwoot.demo")
DATABASE = "chatwoot_fixture_demo"
ACCOUNT_ID = 1  # the scenario's "Clínica Sorriso"; the scale volume is loaded into it too
DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
CHATWOOT_TABLES = ("contacts", "conversations", "messages", "reporting_events")
STORED_MODELS: dict[str, Any] = {
    "contacts": Contact,
    "conversations": Conversation,
    "messages": Message,
    "source_reporting_events": SourceReportingEvent,
    "conversation_facts": ConversationFactsRow,
    "daily_metrics": DailyMetric,
}


@dataclass(frozen=True)
class ChatwootDemo:
    """What :func:`run_chatwoot_demo` did: rows in Chatwoot's account 1, rows synced and stored, pipeline runs."""

    tenant_slug: str
    tenant_id: int
    login: str
    password: str
    dsn: str  # masked
    webhook_token: str  # the source's webhook URL carries it; shown once
    chatwoot_rows: dict[str, int]  # account 1 in the fixture database
    synced: dict[str, int]  # rows written by the full sync, per stream
    stored: dict[str, int]  # the tenant's rows after the sync and the pipeline
    pipeline: list[RunResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def webhook_path(self) -> str:
        return webhook_path(self.webhook_token)

    @property
    def failed_jobs(self) -> list[RunResult]:
        return [r for r in self.pipeline if r.status != "succeeded"]


def postgres_problem(admin_url: str) -> str | None:
    """Why no PostgreSQL answers at ``admin_url`` (one line), or None when one does."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed (pip install 'pulso[postgres]')"
    from pulso.connectors.chatwoot.fixture.schema import libpq_url

    try:
        with psycopg.connect(libpq_url(admin_url), connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:  # any failure means the demo cannot run; say which
        text = str(exc).strip()
        line = text.splitlines()[0] if text else type(exc).__name__
        password = re.search(r"://[^:/@]*:([^@]+)@", admin_url)  # never echo it, even from a malformed URL
        return line.replace(password.group(1), "***") if password else line
    return None


def load_fixture(admin_url: str, conversations: int, seed: int, database: str = DATABASE) -> str:
    """(Re)create the fixture database with the scenario and ``conversations`` more in account 1; return its DSN."""
    import psycopg

    from pulso.connectors.chatwoot.fixture import create_chatwoot_database, drop_chatwoot_database
    from pulso.connectors.chatwoot.fixture.scale import load_scale
    from pulso.connectors.chatwoot.fixture.scenario import load_scenario
    from pulso.connectors.chatwoot.fixture.schema import libpq_url

    drop_chatwoot_database(admin_url, database)
    dsn = create_chatwoot_database(admin_url, database)
    with psycopg.connect(libpq_url(dsn)) as conn:
        load_scenario(conn)
        if conversations > 0:
            load_scale(conn, ACCOUNT_ID, conversations=conversations, seed=seed)
    return dsn


def chatwoot_counts(dsn: str, account_id: int = ACCOUNT_ID) -> dict[str, int]:
    """Rows of one account in a Chatwoot database, for the tables the demo reports."""
    import psycopg

    from pulso.connectors.chatwoot.fixture.schema import libpq_url

    counts: dict[str, int] = {}
    with psycopg.connect(libpq_url(dsn)) as conn:
        for table in CHATWOOT_TABLES:
            row = conn.execute(f"SELECT count(*) FROM {table} WHERE account_id = %s", [account_id]).fetchone()
            counts[table] = int(row[0]) if row else 0
    return counts


def stored_counts(tenant_id: int) -> dict[str, int]:
    """The tenant's rows in the tables the demo fills."""
    with tenant_session(tenant_id) as session:
        return {
            name: int(session.scalar(select(func.count()).select_from(model)) or 0)
            for name, model in STORED_MODELS.items()
        }


def run_chatwoot_demo(
    admin_url: str,
    *,
    conversations: int = 2000,
    seed: int = 42,
    database: str = DATABASE,
    report: Callable[[str], None] | None = None,
) -> ChatwootDemo:
    """Recreate the Chatwoot fixture database and the ``chatwoot-demo`` tenant, sync it fully, run its pipeline.

    ``database`` must start with ``chatwoot_fixture_`` (tests pass their own name to run side by side).
    """
    if conversations < 0:
        raise ValueError(f"conversations: must be zero or more, got {conversations}")
    say = report or (lambda _message: None)
    started = time.perf_counter()
    say(f"Creating the Chatwoot database {database} (scenario + {conversations:,} conversations in account 1)")
    dsn = load_fixture(admin_url, conversations, seed, database)

    say(f"Recreating tenant {TENANT.slug} and its login {TENANT.owner_email}")
    engine = app_engine(get_settings())
    reset_demo(engine, [TENANT])
    tenant_id = create_demo_tenants(engine, [TENANT])[TENANT.slug]
    added = add_chatwoot_source(TENANT.slug, dsn, ACCOUNT_ID)

    say("Syncing Chatwoot account 1 (full)")
    with tenant_session(tenant_id) as session:
        config = chatwoot_sources(session)[0]
    synced = ChatwootSync(config).run(full=True)

    say(f"Running the pipeline for {TENANT.slug}")
    results = run_pipeline(tenant_slug=TENANT.slug)
    return ChatwootDemo(
        tenant_slug=TENANT.slug,
        tenant_id=tenant_id,
        login=TENANT.owner_email,
        password=DEMO_PASSWORD,
        dsn=mask_dsn(dsn),
        webhook_token=added.webhook_token,
        chatwoot_rows=chatwoot_counts(dsn),
        synced=dict(synced.stats.written),
        stored=stored_counts(tenant_id),
        pipeline=results,
        warnings=list(added.inspection.warnings),
        seconds=time.perf_counter() - started,
    )
