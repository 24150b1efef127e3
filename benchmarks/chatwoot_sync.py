"""Chatwoot sync throughput: initial and incremental syncs of a large account against the raw COPY floor.

A Chatwoot fixture database (PostgreSQL, 127.0.0.1:5432) is bulk-loaded with N conversations and M messages for
one account; a fresh Pulso store is migrated (PostgreSQL as the RLS-bound application role, as in production, or
SQLite). Timed phases: the fixture load (not Pulso's), the initial full sync, a no-change incremental sync, an
incremental sync after 1,000 new messages, and (for information) the next sync, which re-reads the overlap window.
Side by side, the floor: the extractor's message columns moved with ``COPY ... TO STDOUT`` into ``COPY ... FROM
STDIN`` of a plain unlogged table in a PostgreSQL database - the bytes alone, no mapping, bronze, upsert or RLS.
Targets (issue 4): initial sync >= 20,000 messages/s; incremental sync of 1,000 messages < 2 s.

    .venv/bin/python benchmarks/chatwoot_sync.py [--quick] [--conversations 100000] [--messages 1000000]
        [--store postgres|sqlite] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import psycopg
from sqlalchemy import create_engine, func, select, text

PG = "postgresql+psycopg://{user}@127.0.0.1:5432/{db}"
ACCOUNT = 1
TARGET_MESSAGES_PER_S = 20_000
TARGET_INCREMENTAL_S = 2.0
T = TypeVar("T")


def timed(run: Callable[[], T]) -> tuple[T, float]:
    started = time.perf_counter()
    value = run()
    return value, time.perf_counter() - started


def configure(data_dir: str, app_url: str, owner_url: str) -> None:
    """Point Pulso at the store (empty URLs: SQLite in data_dir) and migrate it."""
    os.environ.update(
        {
            "PULSO_ENV": "development",
            "PULSO_DATA_DIR": data_dir,
            "PULSO_DATABASE_URL": app_url,
            "PULSO_ADMIN_DATABASE_URL": owner_url,
        }
    )
    from pulso.config import get_settings
    from pulso.store import migrate
    from pulso.store.engine import dispose_engines

    get_settings.cache_clear()
    dispose_engines()
    migrate.upgrade()


def load_fixture(chatwoot_url: str, conversations: int, per_conversation: int) -> float:
    from pulso.connectors.chatwoot.fixture.scale import load_scale
    from pulso.connectors.chatwoot.fixture.schema import libpq_url

    started = time.perf_counter()
    with psycopg.connect(libpq_url(chatwoot_url)) as conn:
        load_scale(conn, ACCOUNT, conversations=conversations, messages_per_conversation=per_conversation)
        conn.commit()
    with psycopg.connect(libpq_url(chatwoot_url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")  # a production database has statistics; a fresh bulk load does not
    return time.perf_counter() - started


def link_source(chatwoot_url: str) -> Any:
    """A tenant with the fixture's account as its Chatwoot source; returns the source's config."""
    from pulso.connectors.chatwoot.source import add_chatwoot_source, chatwoot_sources
    from pulso.store import platform_session, tenant_session
    from pulso.tenancy.service import create_tenant

    with platform_session() as session:
        tenant_id = create_tenant(session, slug="bench", name="Bench").id
    add_chatwoot_source("bench", chatwoot_url, ACCOUNT)
    with tenant_session(tenant_id) as session:
        return chatwoot_sources(session)[0]


def sync(config: Any, *, full: bool = False, profile: bool = False) -> tuple[Any, float]:
    from pulso.config import get_settings
    from pulso.connectors.chatwoot.sync import ChatwootSync

    def run() -> Any:
        return ChatwootSync(config, settings=get_settings()).run(full=full)

    if not profile:
        return timed(run)
    profiler = cProfile.Profile()
    result, seconds = timed(lambda: profiler.runcall(run))
    print(f"--- cProfile of the initial sync ({seconds:.1f} s with the profiler on), top 25 by cumulative time")
    stats = pstats.Stats(profiler, stream=sys.stdout)
    stats.sort_stats("cumulative").print_stats(25)
    stats.sort_stats("tottime").print_stats(15)
    return result, seconds


def conversation_facts(tenant_id: int) -> int:
    """The gold job that follows a sync: per-conversation facts for everything just synced."""
    from pulso.pipeline.gold.conversation_facts import compute_conversation_facts
    from pulso.store import tenant_session

    with tenant_session(tenant_id) as session:
        return compute_conversation_facts(session)


def append(chatwoot_url: str, count: int) -> int:
    from pulso.connectors.chatwoot.fixture.scale import append_messages
    from pulso.connectors.chatwoot.fixture.schema import libpq_url

    with psycopg.connect(libpq_url(chatwoot_url)) as conn:
        # a second after now: strictly later than any snapshot already taken
        at = datetime.now(UTC).replace(tzinfo=None) + timedelta(seconds=1)
        inserted = append_messages(conn, ACCOUNT, count, at=at)
        conn.commit()
    time.sleep(1.1)  # the next sync's snapshot must see `at` as past, as a real one would
    return inserted


def copy_floor(chatwoot_url: str, target_url: str) -> tuple[int, float]:
    """The extractor's message select streamed by COPY into an unlogged table of the same columns."""
    from pulso.connectors.chatwoot.extract import _BIG
    from pulso.connectors.chatwoot.fixture.schema import libpq_url

    columns, source, _ = _BIG["messages"]
    query = f"SELECT {columns} FROM {source} WHERE x.account_id = {ACCOUNT}"
    with psycopg.connect(libpq_url(chatwoot_url)) as reader, psycopg.connect(libpq_url(target_url)) as writer:
        described = reader.execute(f"{query} LIMIT 0").description or []
        types = [reader.execute("SELECT %s::regtype::text", [c.type_code]).fetchone() for c in described]
        ddl = ", ".join(f'"{c.name}" {t[0]}' for c, t in zip(described, types, strict=True) if t)
        writer.execute(f"CREATE UNLOGGED TABLE bench_copy_floor ({ddl})")
        writer.commit()
        started = time.perf_counter()
        with (
            reader.cursor() as out_cursor,
            writer.cursor() as in_cursor,
            out_cursor.copy(f"COPY ({query}) TO STDOUT") as out,
            in_cursor.copy("COPY bench_copy_floor FROM STDIN") as into,
        ):
            for chunk in out:
                into.write(chunk)
        writer.commit()
        seconds = time.perf_counter() - started
        row = writer.execute("SELECT count(*) FROM bench_copy_floor").fetchone()
        writer.execute("DROP TABLE bench_copy_floor")
        writer.commit()
    return int(row[0]) if row else 0, seconds


def verify(chatwoot_url: str, tenant_id: int) -> list[str]:
    """Problems found (empty: Pulso holds every message of the account, once)."""
    from pulso.connectors.chatwoot.extract import Scope, table_counts
    from pulso.store import tenant_session
    from pulso.store.models import Conversation, Message

    expected = table_counts(chatwoot_url, Scope(ACCOUNT), ["messages", "conversations"])
    with tenant_session(tenant_id) as session:
        messages = int(session.scalar(select(func.count()).select_from(Message)) or 0)
        distinct = int(session.scalar(select(func.count(func.distinct(Message.external_id)))) or 0)
        conversations = int(session.scalar(select(func.count()).select_from(Conversation)) or 0)
    problems = []
    if messages != expected["messages"]:
        problems.append(f"Pulso holds {messages} messages, Chatwoot {expected['messages']}")
    if distinct != messages:
        problems.append(f"{messages - distinct} duplicate messages")
    if conversations != expected["conversations"]:
        problems.append(f"Pulso holds {conversations} conversations, Chatwoot {expected['conversations']}")
    print(f"verify: {messages} messages ({distinct} distinct), {conversations} conversations; Chatwoot {expected}")
    return problems


def run(args: argparse.Namespace, chatwoot_url: str, store_name: str, data_dir: str) -> list[str]:
    per_conversation = args.messages // args.conversations
    fixture_s = load_fixture(chatwoot_url, args.conversations, per_conversation)
    total = args.conversations * per_conversation
    print(f"fixture: {args.conversations} conversations, {total} messages loaded in {fixture_s:.1f} s (not Pulso's)")

    if args.store == "postgres":
        app_url, owner_url = PG.format(user="pulso_app", db=store_name), PG.format(user="postgres", db=store_name)
    else:
        app_url = owner_url = ""
    configure(data_dir, app_url, owner_url)
    config = link_source(chatwoot_url)

    initial, initial_s = sync(config, full=True, profile=args.profile)
    rows = sum(initial.stats.written.values())
    print(f"initial sync: {initial_s:.1f} s, written {initial.stats.written}, skipped {initial.stats.skipped}")
    print("  seconds per stream:", {k: round(v, 1) for k, v in initial.seconds_by_stream.items()})
    facts_rows, facts_s = timed(lambda: conversation_facts(config.tenant_id))
    print(f"gold.conversation_facts after the initial sync: {facts_rows} conversations in {facts_s:.1f} s")
    noop, noop_s = sync(config)
    print(f"no-change incremental: {noop_s:.2f} s, written {noop.stats.written}")
    appended = append(chatwoot_url, args.append)
    incremental, incremental_s = sync(config)
    print(f"incremental after {appended} new messages: {incremental_s:.2f} s, written {incremental.stats.written}")
    repeat, repeat_s = sync(config)
    print(f"next incremental (re-reads the {os.environ.get('PULSO_CHATWOOT_OVERLAP_MINUTES', 10)}-minute overlap):")
    print(f"  {repeat_s:.2f} s, written {repeat.stats.written}")

    floor_rows, floor_s = copy_floor(chatwoot_url, PG.format(user="postgres", db=store_name))
    print(f"copy floor: {floor_rows} messages in {floor_s:.2f} s")

    problems = verify(chatwoot_url, config.tenant_id)
    if incremental.messages < appended:
        problems.append(f"the incremental sync wrote {incremental.messages} of {appended} new messages")
    if floor_rows != total + appended:
        problems.append(f"the copy floor moved {floor_rows} of {total + appended} messages")

    messages_per_s = initial.messages / initial_s
    floor_per_s = floor_rows / floor_s
    print(f"BENCH chatwoot_initial_messages_per_s {messages_per_s:.0f} messages/s")
    print(f"BENCH chatwoot_initial_rows_per_s {rows / initial_s:.0f} rows/s")
    print(f"BENCH chatwoot_incremental_1000_s {incremental_s:.3f} s")
    print(f"BENCH chatwoot_noop_incremental_s {noop_s:.3f} s")
    print(f"BENCH chatwoot_facts_conversations_per_s {facts_rows / facts_s:.0f} conversations/s")
    print(f"BENCH chatwoot_copy_floor_messages_per_s {floor_per_s:.0f} messages/s")
    print(f"BENCH chatwoot_initial_vs_copy_floor {messages_per_s / floor_per_s:.3f} x")
    print(f"BENCH chatwoot_initial_vs_target {messages_per_s / TARGET_MESSAGES_PER_S:.2f} x")
    print(f"BENCH chatwoot_incremental_vs_target {TARGET_INCREMENTAL_S / incremental_s:.2f} x")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=1_000_000, help="a multiple of --conversations")
    parser.add_argument("--quick", action="store_true", help="10,000 conversations and 100,000 messages")
    parser.add_argument("--append", type=int, default=1_000, help="new messages for the incremental sync")
    parser.add_argument("--store", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--profile", action="store_true", help="cProfile the initial sync (top 25, cumulative)")
    args = parser.parse_args()
    if args.quick:
        args.conversations, args.messages = 10_000, 100_000
    if args.messages % args.conversations:
        parser.error("--messages must be a multiple of --conversations")

    from pulso.connectors.chatwoot.fixture import create_chatwoot_database, drop_chatwoot_database

    admin_url = PG.format(user="postgres", db="postgres")
    suffix = uuid.uuid4().hex[:8]
    chatwoot_name, store_name = f"chatwoot_fixture_bench_{suffix}", f"pulso_bench_{suffix}"
    maintenance = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    problems: list[str] = []
    try:
        # the Pulso store (with --store sqlite, only the copy floor's target)
        with maintenance.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{store_name}"'))
        chatwoot_url = create_chatwoot_database(admin_url.replace("+psycopg", ""), chatwoot_name)
        with tempfile.TemporaryDirectory() as directory:
            problems = run(args, chatwoot_url, store_name, directory)
    finally:
        from pulso.store.engine import dispose_engines

        dispose_engines()
        drop_chatwoot_database(admin_url.replace("+psycopg", ""), chatwoot_name)
        with maintenance.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{store_name}" WITH (FORCE)'))
        maintenance.dispose()
    if problems:
        print("FAILED: " + "; ".join(problems), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
