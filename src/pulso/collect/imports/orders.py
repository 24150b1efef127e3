"""Orders: purchases or bookings, upserted on ``order_id``; the customer is found or created by identity."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pulso.collect.imports import values
from pulso.collect.imports.contact_book import ContactBook, identities_of
from pulso.collect.imports.fields import Field, KindSpec, ParseContext, Record
from pulso.collect.imports.upsert import Counts, Keyed, upsert
from pulso.store.models import Order
from pulso.store.models.silver import ORDER_STATUSES, REVENUE_STATUSES
from pulso.store.session import PulsoSession


def _text(max_length: int) -> Any:
    return lambda value, _context: values.text(value, max_length)


SPEC = KindSpec(
    name="orders",
    fields=(
        Field("order_id", _text(64), required=True, aliases=("external_id", "id", "pedido"), help="natural key"),
        Field("email", lambda v, _c: values.email(v), aliases=("customer_email", "e_mail"), help="customer"),
        Field("phone", lambda v, _c: values.phone(v), aliases=("customer_phone", "telefone"), help="customer"),
        Field("user_id", _text(200), aliases=("customer_id",), help="customer"),
        Field("name", _text(200), aliases=("customer_name", "nome"), help="customer name, for a new contact"),
        Field("amount", lambda v, _c: values.money(v), required=True, aliases=("valor", "total")),
        Field("currency", lambda v, _c: values.currency(v), aliases=("moeda",), help="default: the tenant's"),
        Field("product", _text(200), aliases=("produto", "procedure")),
        Field("kind", _text(32), help="default purchase"),
        Field("status", lambda v, _c: values.choice(v, ORDER_STATUSES), help="default completed"),
        Field("ordered_at", lambda v, c: values.timestamp(v, c.zone), required=True, aliases=("date", "data")),
        Field("scheduled_for", lambda v, c: values.timestamp(v, c.zone), help="bookings"),
    ),
)


def write(session: PulsoSession, rows: Sequence[tuple[int, Record]], context: ParseContext) -> Counts:
    book = ContactBook(session, (identity for _line, record in rows for identity in identities_of(record)))
    refs: list[tuple[str, int] | None] = []
    for _line, record in rows:
        identities = identities_of(record)
        contact = {
            "name": record.get("name", ""),
            "email": record.get("email"),
            "phone": record.get("phone"),
            # a paid order (or attended booking) makes a customer; a pending or cancelled one, a lead
            "lifecycle_stage": "customer" if record.get("status", "completed") in REVENUE_STATUSES else "lead",
        }
        refs.append(book.find_or_create(identities, contact) if identities else None)
    contact_ids = book.save()
    keyed = []
    for (_line, record), ref in zip(rows, refs, strict=True):
        order: dict[str, Any] = {
            "external_id": record["order_id"],
            "amount": record["amount"],
            "currency": record.get("currency", context.currency),
            "product": record.get("product"),
            "kind": record.get("kind", "purchase"),
            "status": record.get("status", "completed"),
            "ordered_at": record["ordered_at"],
            "scheduled_for": record.get("scheduled_for"),
        }
        if ref is not None:  # a row without a customer leaves the order's contact as it was
            order["contact_id"] = contact_ids[ref]
        keyed.append(Keyed(record["order_id"], order))
    return upsert(session, Order, [Order.external_id], keyed)
