"""Merging contacts found to be one person: the older contact survives and takes everything of the others.

Every row that points at a loser (found from the foreign keys in the metadata, so a future table is covered:
identities, events, web sessions, orders, conversations, feedback, lead scores, customer value...) is moved
to the survivor; touches, seen times and lifecycle are combined; the loser keeps its row with
``merged_into_id`` set, so nothing is lost and old references can be followed.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Table, update

from pulso.pipeline.silver.contacts import (
    STAGE_RANK,
    TOUCH_FIELDS,
    advance_stage,
    first_touch_key,
    last_touch_key,
    touch_times,
    with_touch_times,
)
from pulso.store.models import Base, Contact
from pulso.store.session import PulsoSession


def contact_references() -> list[tuple[Table, str]]:
    """Every (table, column) that references ``contacts.id``, except the merge pointer itself."""
    found = []
    for table in Base.metadata.sorted_tables:
        for fk in table.foreign_keys:
            # a composite key (tenant_id, contact_id) -> contacts (tenant_id, id) is followed through its id column
            if fk.column.name != "id" or fk.column.table.name != "contacts" or fk.parent.name == "merged_into_id":
                continue
            if "tenant_id" in table.c:
                found.append((table, fk.parent.name))
    return found


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    return min(x for x in (a, b) if x is not None) if a or b else None


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    return max(x for x in (a, b) if x is not None) if a or b else None


def combine_into(survivor: Contact, loser: Contact) -> None:
    """Fold ``loser``'s facts into ``survivor`` (in memory): earliest first touch, latest last touch, widest
    seen range, most advanced lifecycle, and fields/attributes the survivor does not have yet."""
    if first_touch_key(loser) < first_touch_key(survivor):
        for name in TOUCH_FIELDS:
            setattr(survivor, f"first_touch_{name}", getattr(loser, f"first_touch_{name}"))
        survivor.attributes = with_touch_times(survivor, first=touch_times(loser).get("first"))
    if last_touch_key(loser) > last_touch_key(survivor):
        for name in TOUCH_FIELDS:
            setattr(survivor, f"last_touch_{name}", getattr(loser, f"last_touch_{name}"))
        survivor.attributes = with_touch_times(survivor, last=touch_times(loser).get("last"))
    survivor.first_seen_at = _earliest(survivor.first_seen_at, loser.first_seen_at)
    survivor.last_seen_at = _latest(survivor.last_seen_at, loser.last_seen_at)
    for stage, moment in (("lead", loser.became_lead_at), ("customer", loser.became_customer_at)):
        if moment is not None:
            advance_stage(survivor, stage, moment)
    if STAGE_RANK.get(loser.lifecycle_stage, 0) > STAGE_RANK.get(survivor.lifecycle_stage, 0):
        survivor.lifecycle_stage = loser.lifecycle_stage
    for name in ("name", "email", "phone", "city", "state"):
        if not getattr(survivor, name) and getattr(loser, name):
            setattr(survivor, name, getattr(loser, name))
    survivor.attributes = {**(loser.attributes or {}), **(survivor.attributes or {})}


def merge_contacts(session: PulsoSession, survivor: Contact, losers: list[Contact]) -> None:
    """Move every reference to ``losers`` onto ``survivor`` and mark the losers merged."""
    loser_ids = [loser.id for loser in losers]
    for table, column in contact_references():
        session.execute(
            update(table)
            .where(table.c.tenant_id == session.tenant_id, table.c[column].in_(loser_ids))
            .values({column: survivor.id})
        )
    contacts = Base.metadata.tables["contacts"]
    session.execute(  # contacts merged into a loser earlier now point straight at the survivor
        update(contacts)
        .where(contacts.c.tenant_id == session.tenant_id, contacts.c.merged_into_id.in_(loser_ids))
        .values(merged_into_id=survivor.id)
    )
    for loser in losers:
        combine_into(survivor, loser)
        loser.merged_into_id = survivor.id
