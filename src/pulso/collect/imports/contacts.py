"""Contacts: people matched by user id, e-mail or phone, created or updated, never duplicated.

Only the cells a row fills are written (an empty cell does not erase what Pulso knows). Columns that are not
fields go into ``attributes`` (``plano`` -> ``attributes.plano``), merged with the attributes already stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update

from pulso.collect.imports import values
from pulso.collect.imports.contact_book import ContactBook, identities_of
from pulso.collect.imports.fields import Field, FieldError, KindSpec, ParseContext, Record
from pulso.collect.imports.upsert import Counts
from pulso.store.models import Contact
from pulso.store.models.silver import LIFECYCLE_STAGES
from pulso.store.session import PulsoSession
from pulso.store.types import utcnow

# import field -> contacts column
COLUMNS = {
    "name": "name",
    "email": "email",
    "phone": "phone",
    "city": "city",
    "state": "state",
    "lifecycle_stage": "lifecycle_stage",
    "first_seen_at": "first_seen_at",
    "became_lead_at": "became_lead_at",
    "became_customer_at": "became_customer_at",
    "channel": "first_touch_channel",
    "utm_source": "first_touch_source",
    "utm_medium": "first_touch_medium",
    "utm_campaign": "first_touch_campaign",
    "utm_term": "first_touch_term",
    "utm_content": "first_touch_content",
    "attributes": "attributes",
}


def _text(max_length: int) -> Any:
    return lambda value, _context: values.text(value, max_length)


def _check(record: Record) -> list[FieldError]:
    if not identities_of(record):
        return [FieldError("email/phone/user_id", "a contact needs at least one of email, phone, user_id")]
    return []


SPEC = KindSpec(
    name="contacts",
    fields=(
        Field("email", lambda v, _c: values.email(v), aliases=("e_mail",), help="identity"),
        Field("phone", lambda v, _c: values.phone(v), aliases=("telefone", "celular", "whatsapp"), help="identity"),
        Field("user_id", _text(200), aliases=("customer_id",), help="identity"),
        Field("name", _text(200), aliases=("nome",)),
        Field("city", _text(100), aliases=("cidade",)),
        Field("state", _text(50), aliases=("uf", "estado")),
        Field("lifecycle_stage", lambda v, _c: values.choice(v, LIFECYCLE_STAGES), aliases=("stage",)),
        Field("first_seen_at", lambda v, c: values.timestamp(v, c.zone), aliases=("created_at",)),
        Field("became_lead_at", lambda v, c: values.timestamp(v, c.zone), aliases=("lead_at",), help="lifecycle"),
        Field(
            "became_customer_at",
            lambda v, c: values.timestamp(v, c.zone),
            aliases=("customer_at", "converted_at"),
            help="lifecycle",
        ),
        Field("channel", _text(32), help="first-touch channel"),
        Field("utm_source", _text(100), help="first touch"),
        Field("utm_medium", _text(100), help="first touch"),
        Field("utm_campaign", _text(200), help="first touch"),
        Field("utm_term", _text(200), help="first touch"),
        Field("utm_content", _text(200), help="first touch"),
    ),
    check=_check,
    prefixes=("attributes.",),
    extras_into="attributes",
)


def write(session: PulsoSession, rows: Sequence[tuple[int, Record]], _context: ParseContext) -> Counts:
    book = ContactBook(session, (identity for _line, record in rows for identity in identities_of(record)))
    known_ids = {ref[1] for _line, r in rows if (ref := book.find(identities_of(r))) and not book.is_new(ref)}
    stored = _load(session, sorted(known_ids))
    dirty: set[int] = set()
    counts = Counts()
    for _line, record in rows:
        identities = identities_of(record)
        changes = {COLUMNS[key]: value for key, value in record.items() if key in COLUMNS}
        ref = book.find(identities)
        if ref is None:
            book.find_or_create(identities, changes)
            counts.inserted += 1
            continue
        current = book.new_contact(ref) if book.is_new(ref) else stored[ref[1]]
        if "attributes" in changes:
            changes["attributes"] = {**(current.get("attributes") or {}), **changes["attributes"]}
        if any(current.get(column) != value for column, value in changes.items()):
            current.update(changes)
            counts.updated += 1
            if not book.is_new(ref):
                dirty.add(ref[1])
        else:
            counts.unchanged += 1
        book.claim(ref, identities)
    book.save()
    if dirty:
        now = utcnow()
        session.execute(update(Contact), [{"id": i, **stored[i], "updated_at": now} for i in sorted(dirty)])
    return counts


def _load(session: PulsoSession, contact_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The writable columns of the given contacts, keyed by id."""
    columns = [getattr(Contact, name) for name in COLUMNS.values()]
    found: dict[int, dict[str, Any]] = {}
    for start in range(0, len(contact_ids), 1000):
        part = contact_ids[start : start + 1000]
        for row in session.execute(select(Contact.id, *columns).where(Contact.id.in_(part))):
            found[int(row[0])] = dict(zip(COLUMNS.values(), row[1:], strict=True))
    return found
