"""Seeding the demo: every entity is there, rows are consistent, runs are deterministic and re-runnable."""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, func, select

from pulso.config import Settings
from pulso.demo import DEMO_PASSWORD, DEMO_TENANTS, PLATFORM_ADMIN_EMAIL, seed_demo
from pulso.demo.verify import tenant_ids
from pulso.demo.writer import reset_demo
from pulso.security.passwords import verify_password
from pulso.store.engine import app_engine
from pulso.store.models import Contact, Conversation, Event, Inbox, Message, Order, Tenant, User
from pulso.store.session import platform_session, tenant_session
from tests.demo.helpers import (
    END_DATE,
    SEED,
    SeededDemo,
    copy_demo,
    fingerprint,
    sqlite_copy,
    sqlite_file,
    tenant_row_counts,
)

SORRISO_TABLES = (
    "inboxes",
    "agents",
    "contacts",
    "contact_identities",
    "conversations",
    "messages",
    "orders",
    "feedback",
    "campaigns",
    "campaign_spend",
)
INSIGHTOS_TABLES = ["contacts", "contact_identities", "events", "orders", "campaigns", "campaign_spend"]
CUTOFF = datetime(END_DATE.year, END_DATE.month, END_DATE.day, tzinfo=ZoneInfo("America/Sao_Paulo"))


def test_every_entity_has_rows_and_the_summary_matches_the_database(seeded: SeededDemo) -> None:
    summary = seeded.summary
    for table in SORRISO_TABLES:
        assert summary.tenants["sorriso"][table] > 0, table
    for table in INSIGHTOS_TABLES:
        assert summary.tenants["insightos"][table] > 0, table
    ids = tenant_ids(app_engine(seeded.settings))
    for slug, tenant_id in ids.items():
        stored = {k: v for k, v in tenant_row_counts(seeded.settings, tenant_id).items() if v}
        assert stored == summary.tenants[slug]
    # the sizes the docs promise for `small`
    assert 2_500 <= summary.tenants["sorriso"]["conversations"] <= 3_600
    assert 30_000 <= summary.tenants["insightos"]["events"] <= 70_000
    assert summary.elapsed_seconds > 0


def test_demo_logins_exist_with_their_roles(seeded: SeededDemo) -> None:
    with platform_session(engine=app_engine(seeded.settings)) as session:
        users = {u.email: u for u in session.scalars(select(User))}
        tenants = {t.id: t.slug for t in session.scalars(select(Tenant))}
    assert set(users) == {"owner@sorriso.demo", "owner@insightos.demo", PLATFORM_ADMIN_EMAIL}
    assert (users["owner@sorriso.demo"].role, tenants[users["owner@sorriso.demo"].tenant_id]) == ("admin", "sorriso")
    assert tenants[users["owner@insightos.demo"].tenant_id] == "insightos"
    assert (users[PLATFORM_ADMIN_EMAIL].role, users[PLATFORM_ADMIN_EMAIL].tenant_id) == ("platform_admin", None)
    assert all(verify_password(DEMO_PASSWORD, u.password_hash) for u in users.values())


def test_tenants_use_sao_paulo_time(seeded: SeededDemo) -> None:
    with platform_session(engine=app_engine(seeded.settings)) as session:
        rows = session.execute(select(Tenant.slug, Tenant.name, Tenant.timezone)).all()
    assert sorted(rows) == [
        ("insightos", "InsightOS", "America/Sao_Paulo"),
        ("sorriso", "Clínica Sorriso", "America/Sao_Paulo"),
    ]


def test_conversation_timestamps_agree_with_their_messages(seeded: SeededDemo) -> None:
    ids = tenant_ids(app_engine(seeded.settings))
    with tenant_session(ids["sorriso"], engine=app_engine(seeded.settings)) as session:
        conversations = session.scalars(select(Conversation)).all()
        messages = session.execute(
            select(Message.conversation_id, Message.direction, Message.is_private, Message.created_at, Message.agent_id)
        ).all()
    by_conversation = defaultdict(list)
    for row in messages:
        by_conversation[row.conversation_id].append(row)
    private_before_reply = 0
    for conversation in conversations:
        rows = by_conversation[conversation.id]
        public_replies = [m.created_at for m in rows if m.direction == "outgoing" and not m.is_private]
        assert conversation.created_at == min(m.created_at for m in rows)
        assert conversation.first_reply_at == (min(public_replies) if public_replies else None)
        assert conversation.last_activity_at == max(m.created_at for m in rows)
        assert all(m.agent_id == conversation.assignee_agent_id for m in rows if m.direction == "outgoing")
        if conversation.status == "resolved":
            assert conversation.resolved_at is not None and conversation.resolved_at >= conversation.last_activity_at
        else:
            assert conversation.resolved_at is None
        assert max(m.created_at for m in rows) < CUTOFF
        private_before_reply += any(
            m.is_private and conversation.first_reply_at and m.created_at < conversation.first_reply_at for m in rows
        )
    # private notes exist and do not count as the first reply
    assert private_before_reply > 0
    statuses = {c.status for c in conversations}
    assert {"resolved", "open"} <= statuses


def test_customers_are_the_contacts_who_booked(seeded: SeededDemo) -> None:
    ids = tenant_ids(app_engine(seeded.settings))
    with tenant_session(ids["sorriso"], engine=app_engine(seeded.settings)) as session:
        first_booking = dict(
            session.execute(
                select(Order.contact_id, func.min(Order.ordered_at))
                .where(Order.kind == "booking", Order.product != "Manutenção do aparelho")
                .group_by(Order.contact_id)
            ).all()
        )
        contacts = session.execute(select(Contact.id, Contact.lifecycle_stage, Contact.became_customer_at)).all()
    for contact_id, stage, became_customer_at in contacts:
        assert (stage == "customer") == (contact_id in first_booking)
        assert became_customer_at == first_booking.get(contact_id)


def test_subscription_payments_are_monthly_and_priced_by_plan(seeded: SeededDemo) -> None:
    ids = tenant_ids(app_engine(seeded.settings))
    with tenant_session(ids["insightos"], engine=app_engine(seeded.settings)) as session:
        payments = session.execute(
            select(Order.contact_id, Order.ordered_at, Order.amount).where(Order.kind == "subscription_payment")
        ).all()
        stages = dict(session.execute(select(Contact.id, Contact.lifecycle_stage)).all())
    by_contact = defaultdict(list)
    for contact_id, at, amount in payments:
        by_contact[contact_id].append((at, amount))
    assert len(by_contact) > 100
    for contact_id, rows in by_contact.items():
        rows.sort()
        assert stages[contact_id] in {"customer", "churned"}
        assert len({amount for _, amount in rows}) == 1
        gaps = [(b[0] - a[0]).days for a, b in itertools.pairwise(rows)]
        assert all(26 <= gap <= 32 for gap in gaps), gaps
    assert {"lead", "customer", "churned"} <= set(stages.values())


def test_events_look_like_segment_calls(seeded: SeededDemo) -> None:
    ids = tenant_ids(app_engine(seeded.settings))
    with tenant_session(ids["insightos"], engine=app_engine(seeded.settings)) as session:
        events = session.scalars(select(Event).limit(5000)).all()
        types = dict(session.execute(select(Event.type, func.count()).group_by(Event.type)).all())
        distinct_ids = session.scalar(select(func.count(func.distinct(Event.message_id))))
        total = session.scalar(select(func.count()).select_from(Event))
    assert set(types) == {"page", "track", "identify"}
    assert distinct_ids == total
    for event in events:
        assert event.context["page"]["path"].startswith("/")
        assert event.anonymous_id
        campaign = event.context.get("campaign")
        assert (event.utm_source, event.utm_medium, event.utm_campaign) == (
            (campaign["source"], campaign["medium"], campaign["name"]) if campaign else (None, None, None)
        )
        assert event.occurred_at <= event.sent_at <= event.received_at < CUTOFF + timedelta(seconds=5)
        if event.type == "track":
            assert event.user_id is not None
    assert any(e.user_id is None for e in events) and any(e.contact_id is not None for e in events)


@pytest.mark.slow
def test_same_seed_gives_the_same_rows_and_another_seed_does_not(
    seeded: SeededDemo, tmp_path: Path, migrated_sqlite_template: Path
) -> None:
    again = sqlite_copy(migrated_sqlite_template, tmp_path / "again")
    other = sqlite_copy(migrated_sqlite_template, tmp_path / "other")
    seed_demo("small", SEED, end_date=END_DATE, settings=again, progress=False)
    seed_demo("small", SEED + 1, end_date=END_DATE, settings=other, progress=False)
    reference = fingerprint(seeded.settings)
    assert fingerprint(again) == reference
    different = fingerprint(other)
    assert different.keys() == reference.keys()
    changed = {table for table in reference if different[table] != reference[table]}
    assert {"sorriso.messages", "sorriso.contacts", "insightos.events", "insightos.orders"} <= changed


@pytest.mark.slow
def test_reseeding_replaces_the_demo_tenants_without_leftovers(seeded: SeededDemo, sqlite_settings: Settings) -> None:
    copy_demo(seeded, sqlite_file(sqlite_settings))  # as seed_demo("small", SEED, end_date=END_DATE) leaves it
    first = seeded.summary
    engine = app_engine(sqlite_settings)
    old_ids = tenant_ids(engine)
    before = fingerprint(sqlite_settings)
    reset_demo(engine, DEMO_TENANTS)
    for tenant_id in old_ids.values():  # ON DELETE CASCADE removed every row of the replaced tenants
        assert not any(tenant_row_counts(sqlite_settings, tenant_id).values())
    with platform_session(engine=engine) as session:
        assert session.scalar(select(func.count()).select_from(User)) == 0
    second = seed_demo("small", SEED, end_date=END_DATE, progress=False)
    third = seed_demo("small", SEED, end_date=END_DATE, progress=False)  # over an existing demo this time
    assert second.tenants == first.tenants == third.tenants
    assert fingerprint(sqlite_settings) == before
    for slug, tenant_id in tenant_ids(engine).items():
        assert {k: v for k, v in tenant_row_counts(sqlite_settings, tenant_id).items() if v} == third.tenants[slug]
    with platform_session(engine=engine) as session:
        assert session.scalar(select(func.count()).select_from(User)) == 3
        assert session.scalar(select(func.count()).select_from(Tenant)) == 2


def test_deleting_a_tenant_cascades_to_every_tenant_table(sqlite_settings: Settings) -> None:
    """The demo relies on ON DELETE CASCADE from tenants; SQLite enforces it only with PRAGMA foreign_keys=ON."""
    engine = app_engine(sqlite_settings)
    with platform_session(engine=engine) as session:
        tenant = Tenant(slug="cascade", name="Cascade")
        session.add(tenant)
        session.flush()
        tenant_id = tenant.id
    with tenant_session(tenant_id, engine=engine) as session:
        session.add(Inbox(tenant_id=tenant_id, external_id="1", name="x", channel_type="whatsapp"))
        session.add(Contact(tenant_id=tenant_id, name="x", lifecycle_stage="lead"))
    assert sum(tenant_row_counts(sqlite_settings, tenant_id).values()) == 2
    with platform_session(engine=engine) as session:
        session.execute(delete(Tenant).where(Tenant.id == tenant_id))
    assert not any(tenant_row_counts(sqlite_settings, tenant_id).values())


def test_unknown_size_is_refused(sqlite_settings: Settings) -> None:
    with pytest.raises(ValueError, match="size"):
        seed_demo("huge", progress=False)


def test_everything_happened_before_end_date_except_future_appointments(seeded: SeededDemo) -> None:
    ids = tenant_ids(app_engine(seeded.settings))
    latest = []
    with tenant_session(ids["sorriso"], engine=app_engine(seeded.settings)) as session:
        latest.append(session.scalar(select(func.max(Message.created_at))))
        latest.append(session.scalar(select(func.max(Order.ordered_at))))
        future = session.scalar(select(func.count()).select_from(Order).where(Order.scheduled_for >= CUTOFF))
        scheduled = session.scalar(select(func.count()).select_from(Order).where(Order.status == "scheduled"))
    with tenant_session(ids["insightos"], engine=app_engine(seeded.settings)) as session:
        latest.append(session.scalar(select(func.max(Event.occurred_at))))
    assert all(t is not None and CUTOFF - timedelta(days=2) < t < CUTOFF for t in latest)
    assert future == scheduled and future > 0
