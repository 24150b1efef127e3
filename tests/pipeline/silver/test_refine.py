"""silver.events as a job: lifecycle, idempotence, clock skew, quarantine, duplicates, chunking, the runner."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from pulso.config import Settings
from pulso.pipeline.registry import get_job, registered_jobs
from pulso.pipeline.runner import run_pipeline
from pulso.store import platform_session, tenant_session
from pulso.store.models import Contact, ContactIdentity, Event, Quarantine, RawEvent, WebSession
from tests.pipeline.silver.helpers import add_raw, at, count, live_contacts, make_tenant, page, refine, segment


def story() -> list[dict[str, Any]]:
    """Two visitors; c1 signs up then subscribes, c2 only browses. One unparseable row, one redelivery."""
    return [
        page("m1", at(0), "c1", url="https://acme.com.br/?utm_source=facebook&utm_medium=paid&utm_campaign=promo"),
        segment("track", "m2", at(3), anon="c1", event="user_signed_up"),
        segment("identify", "m3", at(4), anon="c1", user="u1", traits={"email": "c1@x.com"}),
        segment("track", "m4", at(60 * 24), user="u1", event="subscription_started"),
        page("m5", at(1), "c2", referrer="https://duckduckgo.com/"),
        segment("track", "bad", at(2), anon="c2", event="x", originalTimestamp="31/02/2026"),
        {**page("m1", at(0), "c1"), "source": "import"},  # the same message again, from a file import
    ]


def snapshot(tenant: int) -> dict[str, Any]:
    with tenant_session(tenant) as session:
        return {
            "events": session.execute(
                select(Event.message_id, Event.contact_id, Event.session_key, Event.occurred_at).order_by(
                    Event.message_id
                )
            ).all(),
            "contacts": session.execute(
                select(Contact.id, Contact.lifecycle_stage, Contact.first_touch_channel, Contact.last_seen_at)
            ).all(),
            "identities": session.execute(select(ContactIdentity.kind, ContactIdentity.value)).all(),
            "sessions": session.execute(select(WebSession.session_key, WebSession.event_count)).all(),
            "quarantine": session.execute(select(Quarantine.reason)).all(),
        }


def test_lifecycle_from_default_events(any_settings: Settings) -> None:
    tenant = make_tenant()
    add_raw(tenant, story())
    refine(tenant)
    c1, c2 = live_contacts(tenant)
    assert (c1.lifecycle_stage, c1.became_lead_at, c1.became_customer_at) == ("customer", at(3), at(60 * 24))
    assert (c2.lifecycle_stage, c2.became_lead_at) == ("visitor", None)
    assert (c1.first_touch_channel, c1.first_touch_source, c1.first_touch_campaign) == (
        "paid_social",
        "facebook",
        "promo",
    )
    assert (c2.first_touch_channel, c2.first_touch_source) == ("organic_search", "duckduckgo.com")
    assert (c1.first_seen_at, c1.last_seen_at) == (at(0), at(60 * 24))


def test_configured_lifecycle_events_only_move_forward(any_settings: Settings) -> None:
    tenant = make_tenant(settings={"lifecycle_events": {"demo_booked": "lead", "paid": "customer"}})
    add_raw(
        tenant,
        [
            segment("track", "m1", at(10), user="u", event="paid"),
            segment("track", "m2", at(20), user="u", event="demo_booked"),  # after paying: no step back
            segment("track", "m3", at(30), user="u", event="user_signed_up"),  # a default name, not configured
        ],
    )
    refine(tenant)
    [contact] = live_contacts(tenant)
    # a customer was a lead too: became_lead_at is the earliest of the two
    assert (contact.lifecycle_stage, contact.became_lead_at, contact.became_customer_at) == (
        "customer",
        at(10),
        at(10),
    )
    add_raw(tenant, [segment("track", "m4", at(5), user="u", event="demo_booked")])  # late: an earlier lead time
    refine(tenant)
    [contact] = live_contacts(tenant)
    assert (contact.lifecycle_stage, contact.became_lead_at) == ("customer", at(5))


def test_rerun_is_idempotent_and_results_do_not_depend_on_chunking(any_settings: Settings) -> None:
    tenant = make_tenant()
    add_raw(tenant, story())
    stats = refine(tenant, chunk_size=2)
    assert (stats.events, stats.quarantined, stats.duplicates) == (5, 1, 1)
    first = snapshot(tenant)
    again = refine(tenant)
    assert (again.events, again.quarantined) == (0, 0)
    assert snapshot(tenant) == first
    assert count(tenant, RawEvent, RawEvent.processed_at.is_(None)) == 0

    other = make_tenant("other")
    add_raw(other, story())
    refine(other, chunk_size=5000)
    one_chunk = snapshot(other)
    assert len(one_chunk["events"]) == len(first["events"]) == 5
    assert [row[0] for row in one_chunk["events"]] == [row[0] for row in first["events"]]
    assert len(one_chunk["sessions"]) == len(first["sessions"]) == 2
    assert len(one_chunk["contacts"]) == len(first["contacts"])


def test_bad_rows_are_quarantined_with_the_reason(any_settings: Settings) -> None:
    tenant = make_tenant()
    add_raw(tenant, story())
    refine(tenant)
    with tenant_session(tenant) as session:
        [row] = session.scalars(select(Quarantine)).all()
        bad_id = session.scalar(select(RawEvent.id).where(RawEvent.message_id == "bad"))
        assert session.scalar(select(RawEvent.processed_at).where(RawEvent.id == bad_id)) is not None
    assert row.reason == "refine: originalTimestamp: unparseable timestamp '31/02/2026'"
    assert row.location == f"raw_events/{bad_id}"
    assert '"messageId": "bad"' in row.raw
    assert count(tenant, Event, Event.message_id == "bad") == 0


def test_clock_skew_end_to_end(any_settings: Settings) -> None:
    tenant = make_tenant()
    # a phone 3 hours behind: it says it created the event at 09:00:00 and sent it at 09:00:30; the server got
    # it at 12:01:00, so it happened at 12:00:30.
    received = datetime(2026, 3, 2, 12, 1, tzinfo=UTC)
    row = segment("track", "m1", at(0), user="u", event="x", received_at=received)
    row["payload"].update(originalTimestamp="2026-03-02T09:00:00Z", sentAt="2026-03-02T09:00:30Z")
    add_raw(tenant, [row])
    refine(tenant)
    with tenant_session(tenant) as session:
        event = session.scalars(select(Event)).one()
    assert event.occurred_at == datetime(2026, 3, 2, 12, 0, 30, tzinfo=UTC)
    assert event.original_timestamp == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert event.sent_at == datetime(2026, 3, 2, 9, 0, 30, tzinfo=UTC)
    assert event.received_at == received
    [contact] = live_contacts(tenant)
    assert contact.first_seen_at == datetime(2026, 3, 2, 12, 0, 30, tzinfo=UTC)


def test_rows_of_other_kinds_are_left_for_other_jobs(any_settings: Settings) -> None:
    tenant = make_tenant()
    add_raw(tenant, [{**page("m1", at(0), "a"), "source": "chatwoot", "kind": "conversation_created"}])
    refine(tenant)
    assert count(tenant, RawEvent, RawEvent.processed_at.is_(None)) == 1


def test_registered_before_gold_and_run_by_the_runner(any_settings: Settings) -> None:
    job = get_job("silver.events")
    assert job.order == 200
    names = [j.name for j in registered_jobs()]
    assert names.index("silver.events") < names.index("gold.daily_metrics")
    tenant = make_tenant()
    add_raw(tenant, story())
    [result] = run_pipeline("acme", job_names=["silver.events"])
    assert (result.status, result.rows) == ("succeeded", 6)  # 5 events + 1 quarantined
    with platform_session() as session:
        assert session.scalar(select(RawEvent.id).where(RawEvent.processed_at.is_(None))) is None


def test_event_carries_every_utm_field(any_settings: Settings) -> None:
    tenant = make_tenant()
    url = "https://acme.com.br/?utm_source=google&utm_medium=cpc&utm_campaign=gestao&utm_term=kanban&utm_content=ad2"
    add_raw(tenant, [page("m1", at(0), "c1", url=url)])
    refine(tenant)
    with tenant_session(tenant) as session:
        row = session.execute(
            select(Event.utm_source, Event.utm_medium, Event.utm_campaign, Event.utm_term, Event.utm_content)
        ).one()
    assert tuple(row) == ("google", "cpc", "gestao", "kanban", "ad2")
