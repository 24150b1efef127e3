"""Chatwoot rows and webhook payloads -> Pulso silver records (pure functions, chatwoot.md §4-§12, §17, §19).

Both sources map to the same records so that webhook and sync write the same keys and never double-count:

- conversations are keyed ``cw:<display_id>`` (webhooks only know the display id; one Chatwoot account maps to
  one tenant, so the display id is unique within the tenant), messages ``cw:<id>`` (the global id, which both
  carry), contacts by the identity ``chatwoot_contact_id = <id>``, inboxes ``cw:<id>``, agents ``cw:user:<id>``
  and ``cw:bot:<id>``, teams ``cw:<id>``, CSAT answers ``cw:csat:<id>``, reporting events ``cw:<id>``;
- timestamps become aware UTC (the database holds UTC wall-clock values without a zone; webhooks mix Unix
  seconds, Unix floats and ISO strings);
- enums become names (the database stores integers, webhooks mostly names);
- ``messages.content_attributes`` is decoded once or twice (Rails double-encodes it into a ``json`` column).

Records are dicts of silver column values plus ``*_ref`` keys naming other rows by external id; the loader
resolves the refs to ids.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, cast

from pulso.identity import PhoneResult, normalize_email, normalize_phone

Record = dict[str, Any]

STATUS = {0: "open", 1: "resolved", 2: "pending", 3: "snoozed"}
MESSAGE_TYPE = {0: "incoming", 1: "outgoing", 2: "activity", 3: "template"}
CONTENT_TYPE = (
    *("text", "input_text", "input_textarea", "input_email", "input_select", "cards", "form", "article"),
    *("incoming_email", "input_csat", "integrations", "sticker", "voice_call"),
)
PRIORITY = {0: "low", 1: "medium", 2: "high", 3: "urgent"}
CONTACT_STAGE = {0: "visitor", 1: "lead", 2: "customer"}
CHANNELS = {
    "Channel::WebWidget": "web",
    "Channel::Api": "api",
    "Channel::Email": "email",
    "Channel::Whatsapp": "whatsapp",
    "Channel::Sms": "sms",
    "Channel::Instagram": "instagram",
    "Channel::Telegram": "telegram",
    "Channel::Line": "line",
    "Channel::TwitterProfile": "twitter",
    "Channel::Tiktok": "tiktok",
    "Channel::Voice": "voice",
}
PHONE_CHANNELS = ("Channel::Whatsapp", "Channel::TwilioSms", "Channel::Sms")
BOT_SENDERS = ("AgentBot", "Captain::Assistant", "agent_bot", "captain_assistant")
# content_attributes keys metrics need; the rest (parsed e-mails, translations...) stays in bronze
KEPT_CONTENT_ATTRIBUTES = ("automation_rule_id", "external_echo", "in_reply_to", "external_error", "is_unsupported")


def conversation_key(display_id: int | str) -> str:
    return f"cw:{int(display_id)}"


def message_key(message_id: int | str) -> str:
    return f"cw:{int(message_id)}"


def inbox_key(inbox_id: int | str) -> str:
    return f"cw:{int(inbox_id)}"


def team_key(team_id: int | str) -> str:
    return f"cw:{int(team_id)}"


def user_key(user_id: int | str) -> str:
    return f"cw:user:{int(user_id)}"


def bot_key(bot_id: int | str) -> str:
    return f"cw:bot:{int(bot_id)}"


def contact_key(contact_id: int | str) -> str:
    """The value of the contact's ``chatwoot_contact_id`` identity."""
    return str(int(contact_id))


def utc(value: Any) -> datetime | None:
    """A database value (naive UTC), a Unix int/float (0 = none, as webhooks send it) or an ISO string -> UTC."""
    if value.__class__ is datetime or isinstance(value, datetime):  # what the database gives, by far the most common
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return None if value == 0 else datetime.fromtimestamp(value, UTC)
    if isinstance(value, str):
        text = value.strip()
        try:
            return utc(float(text))
        except ValueError:
            pass
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    raise ValueError(f"not a timestamp: {value!r}")


def decode_attributes(value: Any) -> dict[str, Any]:
    """``content_attributes`` as a dict: NULL -> {}, a JSON object -> itself, a double-encoded string -> decoded."""
    for _ in range(3):
        if value is None:
            return {}
        if isinstance(value, dict | Mapping):  # dict first: a cheap check for the common case
            return dict(value)
        if not isinstance(value, str | bytes):
            return {}
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return value if isinstance(value, dict) else {}


def _mapping(value: Any) -> Mapping[str, Any] | None:
    """``value`` if it is a mapping (None and plain dicts answered without the slow abstract-class check)."""
    if value is None:
        return None
    if value.__class__ is dict or isinstance(value, Mapping):
        return cast(Mapping[str, Any], value)
    return None


def _enum(value: Any, names: Mapping[int, str], default: str | None = None) -> str | None:
    if value is None:
        return default
    if isinstance(value, str):
        return value if value in names.values() else (names.get(int(value), default) if value.isdigit() else default)
    return names.get(int(value), default)


def channel_type(source_type: str | None, twilio_medium: int | None = None, instagram_id: str | None = None) -> str:
    """Pulso's channel for a Chatwoot inbox (WhatsApp via Twilio and Instagram via Facebook included, §4)."""
    if source_type == "Channel::TwilioSms":
        return "whatsapp" if twilio_medium == 1 else "sms"
    if source_type == "Channel::FacebookPage":
        return "instagram" if instagram_id else "facebook"
    return CHANNELS.get(source_type or "", "other")


def inbox(row: Mapping[str, Any]) -> Record:
    hours = row.get("working_hours")
    if isinstance(hours, str):
        hours = json.loads(hours)
    return {
        "external_id": inbox_key(row["id"]),
        "name": str(row.get("name") or f"inbox {row['id']}")[:200],
        "channel_type": channel_type(row.get("channel_type"), row.get("twilio_medium"), row.get("instagram_id")),
        "source_channel_type": row.get("channel_type"),
        "timezone": row.get("timezone") or "UTC",
        "working_hours": list(hours) if row.get("working_hours_enabled") and hours else None,
    }


def agent(row: Mapping[str, Any]) -> Record:
    bot = row["kind"] == "bot"
    return {
        "external_id": bot_key(row["id"]) if bot else user_key(row["id"]),
        "name": str(row.get("name") or "")[:200],
        "email": normalize_email(row.get("email")),
        "kind": "bot" if bot else "human",
        "is_active": bool(row.get("member", True)),
    }


def team(row: Mapping[str, Any]) -> Record:
    return {"external_id": team_key(row["id"]), "name": str(row.get("name") or "")[:200]}


def campaign(row: Mapping[str, Any]) -> Record:
    start = utc(row.get("scheduled_at")) or utc(row.get("created_at"))
    return {
        "channel": f"chatwoot:{channel_type(row.get('channel_type'))}",
        "name": str(row.get("title") or f"campaign {row.get('display_id')}")[:200],
        "utm_source": "chatwoot",
        "utm_medium": channel_type(row.get("channel_type")),
        "started_on": start.date() if start else None,
    }


def contact(row: Mapping[str, Any]) -> Record:
    """A contact from the database or a webhook (contact events, message senders, conversation meta.sender)."""
    additional = row.get("additional_attributes") or {}
    name = " ".join(part for part in (row.get("name"), row.get("last_name")) if part).strip()
    contact_inboxes = row.get("contact_inboxes") or []
    if isinstance(contact_inboxes, str):
        contact_inboxes = json.loads(contact_inboxes)
    phone = normalize_phone(row.get("phone_number")) if row.get("phone_number") else None
    if phone is None or not phone.is_valid:
        phone = _phone_from_source_ids(contact_inboxes) or phone
    contact_type = row.get("contact_type")
    chatwoot = {
        "id": int(row["id"]),
        "identifier": row.get("identifier"),
        "custom_attributes": row.get("custom_attributes") or {},
        "blocked": bool(row.get("blocked") or False),
        "country_code": row.get("country_code") or additional.get("country_code"),
        "labels": list(row.get("labels") or []),
    }
    if contact_inboxes:
        chatwoot["inboxes"] = [dict(ci) for ci in contact_inboxes]
    if contact_type is not None:
        chatwoot["contact_type"] = _enum(contact_type, CONTACT_STAGE)
    return {
        "chatwoot_id": contact_key(row["id"]),
        "name": name[:200],
        "email": normalize_email(row.get("email")),
        "phone": phone.e164 if phone and phone.is_valid else None,
        "city": (str(additional["city"])[:100] if additional.get("city") else None),
        "stage": "customer" if _enum(contact_type, CONTACT_STAGE) == "customer" else "lead",
        "created_at": utc(row.get("created_at")),
        "last_activity_at": utc(row.get("last_activity_at")),
        "chatwoot": chatwoot,
    }


def _phone_from_source_ids(contact_inboxes: list[dict[str, Any]]) -> PhoneResult | None:
    """A phone number from a contact's channel ids when Chatwoot has none in ``phone_number``: WhatsApp ids are
    the international digits, Twilio ids ``+E164`` or ``whatsapp:+E164`` (chatwoot.md §5)."""
    for contact_inbox in contact_inboxes:
        if contact_inbox.get("channel_type") not in PHONE_CHANNELS:
            continue  # Instagram, Telegram... ids are numbers too, but not phone numbers
        source_id = str(contact_inbox.get("source_id") or "").removeprefix("whatsapp:")
        digits = source_id.removeprefix("+")
        if digits.isdigit() and 10 <= len(digits) <= 15:
            result = normalize_phone("+" + digits)
            if result.is_valid:
                return result
    return None


def conversation(row: Mapping[str, Any]) -> Record:
    """A conversation from the database (``display_id`` column) or a webhook (``id`` is the display id)."""
    meta = row.get("meta") or {}
    display_id = row["display_id"] if "display_id" in row else row["id"]
    status = _enum(row.get("status"), STATUS, "open")
    assignee = row.get("assignee_id") or (meta.get("assignee") or {}).get("id")
    bot_assignee = row.get("assignee_agent_bot_id")
    if meta.get("assignee_type") == "AgentBot" and assignee:
        bot_assignee, assignee = assignee, None
    team_id = row.get("team_id") if "team_id" in row else (meta.get("team") or {}).get("id")
    contact_id = row.get("contact_id") or (meta.get("sender") or {}).get("id")
    updated = utc(row.get("updated_at"))
    attributes: dict[str, Any] = {
        "chatwoot": {
            "id": row.get("id") if "display_id" in row else None,
            "uuid": row.get("uuid"),
            "campaign_id": row.get("campaign_id"),
            "custom_attributes": row.get("custom_attributes") or {},
            "waiting_since": _iso(utc(row.get("waiting_since"))),
            "snoozed_until": _iso(utc(row.get("snoozed_until"))),
        }
    }
    return {
        "external_id": conversation_key(display_id),
        "display_id": int(display_id),
        "inbox_ref": inbox_key(row["inbox_id"]) if row.get("inbox_id") is not None else None,
        "contact_ref": contact_key(contact_id) if contact_id else None,
        "assignee_ref": user_key(assignee) if assignee else (bot_key(bot_assignee) if bot_assignee else None),
        "team_ref": team_key(team_id) if team_id else None,
        "status": status,
        "priority": _enum(row.get("priority"), PRIORITY),
        "labels": sorted({str(label) for label in row.get("labels") or ()}),
        "attributes": attributes,
        "created_at": utc(row.get("created_at")),
        "first_reply_at": utc(row.get("first_reply_created_at")),
        "resolved_at": updated if status == "resolved" else None,
        "last_activity_at": utc(row.get("last_activity_at")),
        "updated_at": updated,
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _sender(row: Mapping[str, Any], message_type: str, attributes: Mapping[str, Any]) -> tuple[str, str | None]:
    """(sender_kind, agent ref) from the database's sender_type/sender_id or a webhook's ``sender`` object."""
    sender = _mapping(row.get("sender"))
    sender_type = row.get("sender_type")
    sender_id = row.get("sender_id")
    if sender is not None:
        kind = sender.get("type")
        sender_type = {"user": "User", "agent_bot": "AgentBot", "captain_assistant": "Captain::Assistant"}.get(
            kind or "", "Contact"
        )
        sender_id = sender.get("id")
    if message_type == "incoming":
        return "contact", None
    if message_type in ("activity", "template") and sender_type is None:
        return "system", None
    if sender_type == "User" and sender_id is not None:
        return "agent", user_key(sender_id)
    if sender_type in BOT_SENDERS:
        return "bot", bot_key(sender_id) if sender_type == "AgentBot" and sender_id is not None else None
    if sender_type == "Contact":
        return "contact", None
    # no sender: sent from the native app (external_echo), or the sender was deleted later; either way a person
    return "agent", None


def message(row: Mapping[str, Any]) -> Record:
    """A message from the database or a ``message_created``/``message_updated`` webhook."""
    content_attributes = decode_attributes(row.get("content_attributes"))
    additional = row.get("additional_attributes") or {}
    message_type = _enum(row.get("message_type"), MESSAGE_TYPE, "outgoing") or "outgoing"
    content_type = row.get("content_type")
    if isinstance(content_type, int):
        content_type = CONTENT_TYPE[content_type] if 0 <= content_type < len(CONTENT_TYPE) else str(content_type)
    sender_kind, agent_ref = _sender(row, message_type, content_attributes)
    conversation = _mapping(row.get("conversation"))
    display_id = row["conversation_display_id"] if "conversation_display_id" in row else (conversation or {})["id"]
    kept = {key: content_attributes[key] for key in KEPT_CONTENT_ATTRIBUTES if content_attributes.get(key)}
    if (extra := _mapping(additional)) and extra.get("campaign_id"):
        kept["campaign_id"] = additional["campaign_id"]
    created = utc(row.get("created_at"))
    csat = (content_attributes.get("submitted_values") or {}) if content_type == "input_csat" else {}
    if (answer := _mapping(csat)) and answer.get("csat_survey_response"):
        kept["csat_survey_response"] = csat["csat_survey_response"]
    return {
        "external_id": message_key(row["id"]),
        "conversation_ref": conversation_key(display_id),
        "direction": "incoming" if message_type == "incoming" else "outgoing",
        "message_type": message_type,
        "sender_kind": sender_kind,
        "agent_ref": agent_ref,
        "content": str(row.get("content") or ""),
        "content_type": str(content_type or "text")[:32],
        "is_private": bool(row.get("private") or False),
        "is_deleted": bool(content_attributes.get("deleted")),
        "attributes": kept or None,
        "created_at": created,
        "updated_at": utc(row.get("updated_at")) or created,
    }


def csat(row: Mapping[str, Any]) -> Record:
    return {
        "external_id": f"cw:csat:{int(row['id'])}",
        "conversation_ref": conversation_key(row["conversation_display_id"]),
        "contact_ref": contact_key(row["contact_id"]) if row.get("contact_id") else None,
        "agent_ref": user_key(row["assigned_agent_id"]) if row.get("assigned_agent_id") else None,
        "kind": "csat",
        "score": int(row["rating"]),
        "comment": row.get("feedback_message"),
        "answered_at": utc(row.get("created_at")),
    }


def reporting_event(row: Mapping[str, Any]) -> Record:
    display_id = row.get("conversation_display_id")
    return {
        "external_id": f"cw:{int(row['id'])}",
        "conversation_ref": conversation_key(display_id) if display_id is not None else None,
        "name": str(row.get("name") or "")[:64],
        "value": row.get("value"),
        "value_in_business_hours": row.get("value_in_business_hours"),
        "user_external_id": user_key(row["user_id"]) if row.get("user_id") else None,
        "event_start_time": utc(row.get("event_start_time")),
        "event_end_time": utc(row.get("event_end_time")),
        "created_at": utc(row.get("created_at")),
    }


def status_change_from_event(row: Mapping[str, Any]) -> Record | None:
    """The status transition a reporting event records, or None (first_response, reply_time, bot_resolved).

    ``conversation_opened`` starts at the last resolve when there was one (a reopen), else at creation (pending ->
    open or snoozed -> open, which the event does not tell apart: from_status stays unknown unless the bot
    hand-off event at the same moment says pending)."""
    name = row.get("name")
    display_id = row.get("conversation_display_id")
    end = utc(row.get("event_end_time"))
    if display_id is None or end is None:
        return None
    change: Record = {"conversation_ref": conversation_key(display_id), "at": end, "origin": "reporting_event"}
    if name == "conversation_resolved":
        return {**change, "from_status": None, "to_status": "resolved", "by_bot_handoff": False}
    if name == "conversation_bot_handoff":
        return {**change, "from_status": "pending", "to_status": "open", "by_bot_handoff": True}
    if name == "conversation_opened":
        start, created = utc(row.get("event_start_time")), utc(row.get("conversation_created_at"))
        reopened = (
            start is not None and created is not None and start.replace(microsecond=0) != created.replace(microsecond=0)
        )
        return {**change, "from_status": "resolved" if reopened else None, "to_status": "open", "by_bot_handoff": False}
    return None
