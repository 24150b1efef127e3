"""Contacts: matched by e-mail, phone or user id, created or updated, extra columns into attributes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from pulso.store.models import Contact, ContactIdentity
from tests.collect.imports.helpers import counts, fetch, run, write

CONTACTS = (
    "email,phone,user_id,nome,cidade,uf,stage,utm_source,utm_campaign,plano,attributes.origem\n"
    "ana@example.com,(11) 91234-5678,u1,Ana,São Paulo,SP,lead,google,verao,gold,site\n"
    ",11912345678,,Ana Souza,,,customer,,,,\n"  # the same phone: Ana again, updated
    "bia@example.com,,,Bia,Rio,RJ,,,,,\n"
    ",,,Sem Identidade,,,,,,,\n"
    "carl@example.com,,,Carl,,,prospect,,,,\n"
    "dan@example.com,,u2,Dan,,,,,,silver,\n"
)
COLUMNS = (Contact.name, Contact.email, Contact.phone, Contact.city, Contact.lifecycle_stage)


def _contacts(tenant_id: int) -> list[tuple[object, ...]]:
    query = select(*COLUMNS, Contact.first_touch_source, Contact.attributes).order_by(Contact.id)
    return [tuple(r) for r in fetch(tenant_id, query)]


def test_contacts_import(tenant_id: int, tmp_path: Path) -> None:
    summary = run("contacts", write(tmp_path, "c.csv", CONTACTS))
    assert counts(summary) == (6, 3, 1, 0, 2)
    assert [r.reason for r in summary.first_rejects] == [
        "email/phone/user_id: a contact needs at least one of email, phone, user_id",
        "lifecycle_stage: 'prospect' is not one of visitor, lead, customer, churned",
    ]
    assert _contacts(tenant_id) == [
        ("Ana Souza", "ana@example.com", "+5511912345678", "São Paulo", "customer", "google",
         {"plano": "gold", "origem": "site"}),
        ("Bia", "bia@example.com", None, "Rio", "visitor", None, {}),
        ("Dan", "dan@example.com", None, None, "visitor", None, {"plano": "silver"}),
    ]  # fmt: skip
    identities = fetch(tenant_id, select(ContactIdentity.kind, ContactIdentity.value).order_by(ContactIdentity.id))
    assert [tuple(i) for i in identities] == [
        ("user_id", "u1"),
        ("email", "ana@example.com"),
        ("phone", "+5511912345678"),
        ("email", "bia@example.com"),
        ("user_id", "u2"),
        ("email", "dan@example.com"),
    ]


def test_reimport_gives_the_same_database_and_updates_merge(tenant_id: int, tmp_path: Path) -> None:
    path = write(tmp_path, "c.csv", CONTACTS)
    run("contacts", path)
    before = _contacts(tenant_id)
    # rows are applied in order again: line 2 sets Ana back to "Ana", line 3 to "Ana Souza" (2 updates)
    assert counts(run("contacts", path)) == (6, 0, 2, 2, 2)
    assert _contacts(tenant_id) == before
    assert fetch(tenant_id, select(func.count()).select_from(ContactIdentity))[0][0] == 6

    update = "user_id;cidade;plano\nu1;Campinas;platinum\nu9;;\n"
    assert counts(run("contacts", write(tmp_path, "u.csv", update))) == (2, 1, 1, 0, 0)
    ana = _contacts(tenant_id)[0]
    assert ana[0] == "Ana Souza"  # empty cells erase nothing
    assert ana[3] == "Campinas"
    assert ana[6] == {"plano": "platinum", "origem": "site"}
    assert fetch(tenant_id, select(func.count()).select_from(Contact))[0][0] == 4


def test_lifecycle_moments_are_imported(tenant_id: int, tmp_path: Path) -> None:
    """became_lead_at / became_customer_at (and their aliases) are local times stored in UTC (São Paulo: UTC-2
    on 1 February 2018, summer time, which ended on 18 February; UTC-3 after);
    an empty cell leaves the stored moment alone."""
    content = (
        "user_id,stage,lead_at,converted_at\n"
        "m1,customer,2018-02-01,2018-02-26 19:58:54\n"
        "m2,lead,2018-03-05 10:00,\n"
        "m3,lead,31/13/2018,\n"  # not a date: rejected
    )
    summary = run("contacts", write(tmp_path, "c.csv", content))
    assert counts(summary) == (3, 2, 0, 0, 1)
    assert summary.first_rejects[0].reason.startswith("became_lead_at: '31/13/2018'")
    query = select(Contact.lifecycle_stage, Contact.became_lead_at, Contact.became_customer_at).order_by(Contact.id)
    assert [tuple(r) for r in fetch(tenant_id, query)] == [
        ("customer", datetime(2018, 2, 1, 2, tzinfo=UTC), datetime(2018, 2, 26, 22, 58, 54, tzinfo=UTC)),
        ("lead", datetime(2018, 3, 5, 13, tzinfo=UTC), None),
    ]
    assert counts(run("contacts", write(tmp_path, "u.csv", "user_id,became_customer_at\nm2,2018-04-01\n"))) == (
        1, 0, 1, 0, 0,
    )  # fmt: skip
    assert fetch(tenant_id, query)[1][1:] == (datetime(2018, 3, 5, 13, tzinfo=UTC), datetime(2018, 4, 1, 3, tzinfo=UTC))
