"""What events say about a contact: seen times, first and last touch, lifecycle stage, identify traits.

Order-independent, so chunks and late events give the same contact whatever order they are refined in:
first touch is the earliest non-direct touch (direct only when there was none), last touch the latest non-direct
one, the stage only moves forward and ``became_*_at`` keep the earliest time. Touch times live in
``attributes["touch_times"]`` until the contacts table has columns for them. Identify traits are split into
identity keys (normalised e-mail and phone), contact fields (name, city, state) and attributes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pulso.identity import normalize_email, normalize_phone
from pulso.pipeline.silver.channel import Touch
from pulso.pipeline.silver.parse import ParsedEvent
from pulso.store.models import Contact
from pulso.store.types import utcnow

TOUCH_FIELDS = ("channel", "source", "medium", "campaign", "term", "content")
TOUCH_LIMITS = {"channel": 32, "source": 100, "medium": 100, "campaign": 200, "term": 200, "content": 200}
# churned sits between lead and customer: a lead event leaves a churned contact alone, a purchase reactivates it
STAGE_RANK = {"visitor": 0, "lead": 1, "churned": 2, "customer": 3}
# Used when tenant.settings has no "lifecycle_events": Segment's spec names and Pulso's snake_case ones.
DEFAULT_LIFECYCLE_EVENTS = {
    "Signed Up": "lead",
    "signed_up": "lead",
    "user_signed_up": "lead",
    "lead_created": "lead",
    "Order Completed": "customer",
    "order_completed": "customer",
    "subscription_started": "customer",
}
_FAR_PAST, _FAR_FUTURE = datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)


NAME_KEYS = ("name", "fullName", "full_name", "nome")
CITY_KEYS = ("city", "cidade")
STATE_KEYS = ("state", "estado", "uf")
IDENTITY_TRAITS = frozenset({"email", "phone", "telefone", "celular", "whatsapp"})


@dataclass(frozen=True)
class Traits:
    email: str | None = None
    phone: str | None = None
    name: str | None = None
    city: str | None = None
    state: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    invalid_phone: str | None = None  # the raw value, kept in attributes["phone_raw"]
    invalid_email: str | None = None  # the raw value, kept in attributes["email_raw"]


def _mapping(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _first_text(source: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = source.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def parse_traits(traits: dict[str, Any]) -> Traits:
    """Split identify traits: e-mail and phone are normalised (invalid ones kept raw in attributes as
    ``email_raw``/``phone_raw``), name, city and state become contact fields, the rest goes to attributes as sent
    (``address`` included, even when city and state were taken from it)."""
    address = _mapping(traits.get("address"))
    raw_email = traits.get("email")
    email = normalize_email(raw_email)
    raw_phone = next((traits[k] for k in ("phone", "telefone", "celular", "whatsapp") if traits.get(k)), None)
    phone = normalize_phone(raw_phone) if raw_phone is not None else None
    name = _first_text(traits, NAME_KEYS)
    if name is None:
        parts = [_first_text(traits, (key,)) for key in ("firstName", "first_name", "lastName", "last_name")]
        name = " ".join(part for part in parts if part) or None
    as_fields = IDENTITY_TRAITS | set(NAME_KEYS) | set(CITY_KEYS) | set(STATE_KEYS)
    attributes = {key: value for key, value in traits.items() if key not in as_fields}
    invalid_email = str(raw_email) if raw_email not in (None, "") and email is None else None
    invalid_phone = str(raw_phone) if phone is not None and not phone.is_valid else None
    if invalid_email:
        attributes["email_raw"] = invalid_email
    if invalid_phone:
        attributes["phone_raw"] = invalid_phone
    return Traits(
        email=email,
        phone=phone.e164 if phone is not None else None,
        name=name[:200] if name else None,
        city=(_first_text(traits, CITY_KEYS) or _first_text(address, CITY_KEYS) or "")[:100] or None,
        state=(_first_text(traits, STATE_KEYS) or _first_text(address, STATE_KEYS) or "")[:50] or None,
        attributes=attributes,
        invalid_phone=invalid_phone,
        invalid_email=invalid_email,
    )


def lifecycle_events(settings: dict[str, Any] | None) -> dict[str, str]:
    """Event name -> stage from ``tenant.settings["lifecycle_events"]`` (defaults when absent); only lead and
    customer can be set by events."""
    configured = (settings or {}).get("lifecycle_events")
    if not isinstance(configured, dict):
        return dict(DEFAULT_LIFECYCLE_EVENTS)
    return {str(name): stage for name, stage in configured.items() if stage in ("lead", "customer")}


def touch_times(contact: Contact) -> dict[str, str]:
    times = (contact.attributes or {}).get("touch_times")
    return dict(times) if isinstance(times, dict) else {}


def with_touch_times(contact: Contact, first: str | None = None, last: str | None = None) -> dict[str, Any]:
    times = touch_times(contact)
    times.update({key: value for key, value in (("first", first), ("last", last)) if value})
    return {**(contact.attributes or {}), "touch_times": times}


def _time(contact: Contact, which: str, default: datetime) -> datetime:
    value = touch_times(contact).get(which)
    return datetime.fromisoformat(value) if value else default


def first_touch_key(contact: Contact) -> tuple[int, datetime]:
    """Smaller is a better first touch: non-direct before direct before none, then earlier."""
    if contact.first_touch_channel is None:
        return (2, _FAR_FUTURE)
    return (int(contact.first_touch_channel == "direct"), _time(contact, "first", _FAR_FUTURE))


def last_touch_key(contact: Contact) -> tuple[int, datetime]:
    """Larger is a better last touch: non-direct after direct after none, then later."""
    if contact.last_touch_channel is None:
        return (-1, _FAR_PAST)
    return (int(contact.last_touch_channel != "direct"), _time(contact, "last", _FAR_PAST))


def _set_touch(contact: Contact, prefix: str, touch: Touch) -> None:
    for name in TOUCH_FIELDS:
        value = getattr(touch, name)
        setattr(contact, f"{prefix}_{name}", value[: TOUCH_LIMITS[name]] if value else None)


def apply_touch(contact: Contact, touch: Touch, moment: datetime) -> None:
    if (int(touch.is_direct), moment) < first_touch_key(contact):
        _set_touch(contact, "first_touch", touch)
        contact.attributes = with_touch_times(contact, first=moment.isoformat())
    if (int(not touch.is_direct), moment) > last_touch_key(contact):
        _set_touch(contact, "last_touch", touch)
        contact.attributes = with_touch_times(contact, last=moment.isoformat())


def advance_stage(contact: Contact, stage: str, moment: datetime) -> None:
    """Move the contact forward to ``stage`` (never back); a customer was a lead too."""
    if stage in ("lead", "customer") and (contact.became_lead_at is None or moment < contact.became_lead_at):
        contact.became_lead_at = moment
    if stage == "customer" and (contact.became_customer_at is None or moment < contact.became_customer_at):
        contact.became_customer_at = moment
    if STAGE_RANK.get(stage, 0) > STAGE_RANK.get(contact.lifecycle_stage or "visitor", 0):
        contact.lifecycle_stage = stage


def apply_identify(contact: Contact, event: ParsedEvent) -> tuple[bool, bool]:
    """Copy identify traits onto the contact (latest call wins). Returns (invalid phone, invalid e-mail)."""
    traits = parse_traits(event.properties)
    for name in ("email", "phone", "name", "city", "state"):
        value = getattr(traits, name)
        if value:
            setattr(contact, name, value)
    contact.attributes = {**(contact.attributes or {}), **traits.attributes}
    return traits.invalid_phone is not None, traits.invalid_email is not None


def apply_events(contact: Contact, events: list[ParsedEvent], stages: dict[str, str]) -> tuple[int, int]:
    """Fold a chunk's events (in arrival order) into their contact, touching each field once.
    Returns how many identify calls carried an invalid phone and an invalid e-mail."""
    first_seen = min(event.occurred_at for event in events)
    last_seen = max(event.occurred_at for event in events)
    if contact.first_seen_at is None or first_seen < contact.first_seen_at:
        contact.first_seen_at = first_seen
    if contact.last_seen_at is None or last_seen > contact.last_seen_at:
        contact.last_seen_at = last_seen
    touching = [event for event in events if event.type in ("page", "screen", "track")]
    if touching:
        first = min(touching, key=lambda e: (int(e.touch.is_direct), e.occurred_at))
        last = max(touching, key=lambda e: (int(not e.touch.is_direct), e.occurred_at))
        apply_touch(contact, first.touch, first.occurred_at)
        apply_touch(contact, last.touch, last.occurred_at)
    invalid_phones = invalid_emails = 0
    for event in events:
        if event.type == "track" and event.name in stages:
            advance_stage(contact, stages[event.name], event.occurred_at)
        elif event.type == "identify":
            invalid_phone, invalid_email = apply_identify(contact, event)
            invalid_phones += invalid_phone
            invalid_emails += invalid_email
    contact.updated_at = utcnow()
    return invalid_phones, invalid_emails
