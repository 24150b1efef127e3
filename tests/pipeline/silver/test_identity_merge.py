"""Identity resolution end to end: identify and alias join people, merges move all history to the older contact."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select

from pulso.config import Settings
from pulso.store import tenant_session
from pulso.store.models import Contact, ContactIdentity, Event, LeadScore, Order, WebSession
from tests.pipeline.silver.helpers import add_raw, at, count, live_contacts, make_tenant, page, refine, segment


def identities(tenant: int) -> set[tuple[str, str, int]]:
    with tenant_session(tenant) as session:
        rows = session.execute(select(ContactIdentity.kind, ContactIdentity.value, ContactIdentity.contact_id))
        return {(kind, value, contact_id) for kind, value, contact_id in rows}


def test_identify_merges_an_anonymous_visitor_into_the_older_contact(any_settings: Settings) -> None:
    tenant = make_tenant()
    # run 1: an anonymous visitor from a Google Ads click -> contact A
    ad = "https://acme.com.br/?utm_source=google&utm_medium=cpc&utm_campaign=bf"
    add_raw(tenant, [page("m1", at(0), "a1", url=ad), page("m2", at(5), "a1")])
    refine(tenant)
    [contact_a] = live_contacts(tenant)
    # run 2: the same person signs up on another device (a2) and comes back from Instagram -> contact B
    add_raw(
        tenant,
        [
            segment("identify", "m3", at(99), anon="a2", user="u1", traits={"email": "Ana@X.com", "name": "Ana"}),
            segment("track", "m4", at(100), user="u1", event="user_signed_up"),
            page("m5", at(150), "a2", referrer="https://l.instagram.com/"),
        ],
    )
    refine(tenant)
    contact_b = next(c for c in live_contacts(tenant) if c.id != contact_a.id)
    assert contact_a.id < contact_b.id
    with tenant_session(tenant) as session:  # history elsewhere that points at B must follow the merge
        session.add(Order(external_id="o1", contact_id=contact_b.id, amount=Decimal(90), ordered_at=at(160)))
        session.add(LeadScore(contact_id=contact_b.id, score=0.8))
    # run 3: on the first device, she logs in: a1 (contact A) is u1 (contact B) -> one person
    add_raw(tenant, [segment("identify", "m6", at(200), anon="a1", user="u1")])
    stats = refine(tenant)
    assert stats.contacts_merged == 1

    [survivor] = live_contacts(tenant)
    assert survivor.id == contact_a.id  # the older contact survives
    with tenant_session(tenant) as session:
        loser = session.get_one(Contact, contact_b.id)
        assert loser.merged_into_id == survivor.id
    a = survivor.id
    assert identities(tenant) == {
        ("anonymous_id", "a1", a),
        ("anonymous_id", "a2", a),
        ("user_id", "u1", a),
        ("email", "ana@x.com", a),
    }
    # nothing lost: 6 events, 4 visits (a1: 0-5 and 200; a2: 99 and 150, 51 minutes apart), the order, the score
    assert count(tenant, Event) == 6 == count(tenant, Event, Event.contact_id == a)
    assert count(tenant, WebSession) == 4 == count(tenant, WebSession, WebSession.contact_id == a)
    assert count(tenant, Order, Order.contact_id == a) == 1
    assert count(tenant, LeadScore, LeadScore.contact_id == a) == 1
    # combined: earliest first touch (the ad at 0), latest non-direct last touch (Instagram at 150)
    assert (survivor.first_touch_channel, survivor.first_touch_source, survivor.first_touch_campaign) == (
        "paid_search",
        "google",
        "bf",
    )
    assert (survivor.last_touch_channel, survivor.last_touch_source) == ("social", "l.instagram.com")
    assert (survivor.first_seen_at, survivor.last_seen_at) == (at(0), at(200))
    assert (survivor.lifecycle_stage, survivor.became_lead_at) == ("lead", at(100))
    assert (survivor.email, survivor.name) == ("ana@x.com", "Ana")


def test_one_chunk_merges_the_same_way(any_settings: Settings) -> None:
    """The same story in a single run: no merge is needed, the chunk resolves to one contact."""
    tenant = make_tenant()
    add_raw(
        tenant,
        [
            page("m1", at(0), "a1"),
            segment("identify", "m3", at(99), anon="a2", user="u1"),
            segment("identify", "m6", at(200), anon="a1", user="u1"),
        ],
    )
    stats = refine(tenant)
    assert (stats.contacts_created, stats.contacts_merged) == (1, 0)
    assert len(live_contacts(tenant)) == 1


def test_two_users_on_one_device_stay_two_people(any_settings: Settings) -> None:
    tenant = make_tenant()
    add_raw(tenant, [segment("identify", "m1", at(0), anon="shared", user="u1")])
    refine(tenant)
    add_raw(tenant, [segment("identify", "m2", at(60), anon="shared", user="u2"), page("m3", at(61), "shared")])
    refine(tenant)
    first, second = live_contacts(tenant)
    assert identities(tenant) == {
        ("anonymous_id", "shared", first.id),
        ("user_id", "u1", first.id),
        ("user_id", "u2", second.id),
    }
    with tenant_session(tenant) as session:
        owners = dict(session.execute(select(Event.message_id, Event.contact_id)).all())
    assert owners == {"m1": first.id, "m2": second.id, "m3": first.id}  # m3 has only the shared anonymous id


def test_alias_joins_previous_id_to_user_id(any_settings: Settings) -> None:
    tenant = make_tenant()
    add_raw(tenant, [page("m1", at(0), "a3"), segment("identify", "m2", at(1), user="old-id")])
    refine(tenant)
    assert len(live_contacts(tenant)) == 2
    add_raw(
        tenant,
        [
            segment("alias", "m3", at(2), user="old-id", previousId="a3"),  # anonymous -> user
            segment("alias", "m4", at(3), user="new-id", previousId="old-id"),  # user id renamed: same person
        ],
    )
    stats = refine(tenant)
    [contact] = live_contacts(tenant)
    assert stats.contacts_merged == 1
    assert {(kind, value) for kind, value, _ in identities(tenant)} == {
        ("anonymous_id", "a3"),
        ("user_id", "old-id"),
        ("user_id", "new-id"),
    }
    assert {contact_id for _, _, contact_id in identities(tenant)} == {contact.id}


def test_email_and_phone_become_identities_and_link_people(any_settings: Settings) -> None:
    tenant = make_tenant()
    traits = {"email": " Bia@Loja.COM.br", "phone": "(21) 8765-4321", "city": "Niterói", "state": "RJ", "plan": "pro"}
    add_raw(tenant, [segment("identify", "m1", at(0), user="u5", traits=traits)])
    refine(tenant)
    # later an anonymous form fill with the same phone written another way joins her contact
    add_raw(tenant, [segment("identify", "m2", at(30), anon="a5", traits={"phone": "+55 21 98765-4321"})])
    refine(tenant)
    [contact] = live_contacts(tenant)
    assert (contact.email, contact.phone, contact.city, contact.state) == (
        "bia@loja.com.br",
        "+5521987654321",
        "Niterói",
        "RJ",
    )
    assert contact.attributes["plan"] == "pro"
    assert ("phone", "+5521987654321", contact.id) in identities(tenant)
    assert ("anonymous_id", "a5", contact.id) in identities(tenant)


def test_invalid_phone_is_kept_raw_and_counted(any_settings: Settings) -> None:
    tenant = make_tenant()
    traits = {"phone": "98765-4321", "email": "not-an-email"}
    add_raw(tenant, [segment("identify", "m1", at(0), user="u6", traits=traits)])
    stats = refine(tenant)
    [contact] = live_contacts(tenant)
    assert (stats.invalid_phones, stats.invalid_emails) == (1, 1)
    assert (contact.phone, contact.email) == (None, None)
    assert (contact.attributes["phone_raw"], contact.attributes["email_raw"]) == ("98765-4321", "not-an-email")
    assert {kind for kind, _, _ in identities(tenant)} == {"user_id"}


def test_received_time_is_utc_aware(any_settings: Settings) -> None:
    tenant = make_tenant()
    add_raw(tenant, [segment("track", "m1", at(0), user="u", event="x")])
    refine(tenant)
    with tenant_session(tenant) as session:
        event = session.scalars(select(Event)).one()
    assert event.received_at == at(0) and event.received_at.tzinfo == UTC
    assert isinstance(event.occurred_at, datetime)


def test_merge_chains_point_at_the_final_survivor(any_settings: Settings) -> None:
    tenant = make_tenant()
    for rows in (
        [page("m1", at(0), "a1")],  # contact A
        [segment("identify", "m2", at(1), user="u1")],  # contact B
        [page("m3", at(2), "a3")],  # contact C
        [segment("identify", "m4", at(3), anon="a3", user="u1")],  # C merges into B
        [segment("identify", "m5", at(4), anon="a1", user="u1")],  # B merges into A
    ):
        add_raw(tenant, rows)
        refine(tenant)
    with tenant_session(tenant) as session:
        merged = dict(session.execute(select(Contact.id, Contact.merged_into_id).order_by(Contact.id)).all())
    a, b, c = sorted(merged)
    assert merged == {a: None, b: a, c: a}
    assert count(tenant, Event, Event.contact_id == a) == 5
    assert {contact_id for _, _, contact_id in identities(tenant)} == {a}
