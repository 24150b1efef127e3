"""Finding and creating contacts by identity (user id, e-mail, phone) for one chunk of imported rows.

A row's identities are looked up in the order user_id, email, phone; the first that is known names the
contact. Identities the contact does not have yet are added unless another contact already owns them (no
identity is ever moved: merging people is identity resolution's job, not the importer's). A row with no known
identity creates one new contact, which later rows of the same chunk then find. Nothing is duplicated.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select

from pulso.collect.imports.upsert import table_of
from pulso.store import bulk
from pulso.store.models import Contact, ContactIdentity
from pulso.store.session import PulsoSession

IDENTITY_FIELDS = ("user_id", "email", "phone")
Identity = tuple[str, str]  # (kind, value)
LOOKUP_BATCH = 5000  # values per IN list: well under SQLite's 32,766 bound parameters
NEW_CONTACT_DEFAULTS: dict[str, Any] = {"name": "", "lifecycle_stage": "visitor", "attributes": {}}


def identities_of(record: dict[str, Any]) -> list[Identity]:
    return [(kind, str(record[kind])) for kind in IDENTITY_FIELDS if record.get(kind)]


class ContactBook:
    """The contacts one chunk refers to. Refs are ``("id", contact_id)`` or ``("new", index)`` until :meth:`save`."""

    def __init__(self, session: PulsoSession, identities: Iterable[Identity]) -> None:
        self._session = session
        self._owner: dict[Identity, tuple[str, int]] = {}
        by_kind: dict[str, set[str]] = {}
        for kind, value in identities:
            by_kind.setdefault(kind, set()).add(value)
        for kind, kind_values in by_kind.items():  # kind = :k AND value IN (...): served by the unique index
            wanted = sorted(kind_values)
            for start in range(0, len(wanted), LOOKUP_BATCH):
                query = select(ContactIdentity.value, ContactIdentity.contact_id).where(
                    ContactIdentity.kind == kind,
                    bulk.one_of(session, ContactIdentity.value, wanted[start : start + LOOKUP_BATCH]),
                )
                for value, contact_id in session.execute(query):
                    self._owner[(kind, value)] = ("id", int(contact_id))
        self._new_contacts: list[dict[str, Any]] = []
        self._new_identities: list[tuple[tuple[str, int], Identity]] = []

    def find(self, identities: list[Identity]) -> tuple[str, int] | None:
        for identity in identities:
            if identity in self._owner:
                return self._owner[identity]
        return None

    def is_new(self, ref: tuple[str, int]) -> bool:
        return ref[0] == "new"

    def new_contact(self, ref: tuple[str, int]) -> dict[str, Any]:
        return self._new_contacts[ref[1]]

    def find_or_create(self, identities: list[Identity], fields: dict[str, Any]) -> tuple[str, int]:
        ref = self.find(identities)
        if ref is None:
            ref = ("new", len(self._new_contacts))
            self._new_contacts.append({"tenant_id": self._session.tenant_id, **fields})
        self.claim(ref, identities)
        return ref

    def claim(self, ref: tuple[str, int], identities: list[Identity]) -> None:
        """Give ``ref`` the identities nobody owns yet."""
        for identity in identities:
            if identity not in self._owner:
                self._owner[identity] = ref
                self._new_identities.append((ref, identity))

    def save(self) -> dict[tuple[str, int], int]:
        """Insert the new contacts and identities; give back the contact id of every ref handed out."""
        ids: dict[tuple[str, int], int] = {}
        if self._new_contacts:
            columns = sorted({key for row in self._new_contacts for key in row} | set(NEW_CONTACT_DEFAULTS))
            rows = [{**dict.fromkeys(columns), **NEW_CONTACT_DEFAULTS, **row} for row in self._new_contacts]
            new_ids = bulk.insert_with_ids(self._session, table_of(Contact), rows)
            ids.update({("new", index): contact_id for index, contact_id in enumerate(new_ids)})
        identity_rows = [
            {"tenant_id": self._session.tenant_id, "contact_id": ids.get(ref, ref[1]), "kind": kind, "value": value}
            for ref, (kind, value) in self._new_identities
        ]
        if identity_rows:
            keys = ("tenant_id", "kind", "value")  # claimed only when unowned: never moved from another contact
            bulk.upsert(self._session, table_of(ContactIdentity), identity_rows, keys, do_nothing=True)
        for ref in self._owner.values():
            ids.setdefault(ref, ref[1])  # existing contacts: the ref holds the id
        return ids
