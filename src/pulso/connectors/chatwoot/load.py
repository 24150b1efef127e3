"""Writing Chatwoot records (pulso.connectors.chatwoot.transform) into bronze and silver, idempotently.

Every write is an upsert on the row's natural key (``INSERT ... ON CONFLICT DO UPDATE``, on SQLite and
PostgreSQL alike), so reading a row twice (overlap windows, a resumed sync, a webhook followed by the sync)
changes nothing. References between rows (``*_ref`` keys) are resolved through :class:`Refs`, which remembers
ids for the whole sync and looks up the ones it has not seen in batches.

Status changes are merged across origins: the same transition reported by a reporting event, a webhook and a
sync diff within :data:`SAME_CHANGE_SECONDS` of each other is one change (the reporting event's time wins).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

import orjson
from sqlalchemy import Table, bindparam, delete, select, text, update

from pulso.collect.imports.contact_book import ContactBook, Identity
from pulso.store import bulk
from pulso.store.models import (
    Agent,
    Base,
    Campaign,
    Contact,
    ContactIdentity,
    Conversation,
    ConversationStatusChange,
    Event,
    Feedback,
    Inbox,
    Message,
    Order,
    SourceReportingEvent,
    Team,
)
from pulso.store.session import PulsoSession
from pulso.store.types import UTCDateTime, utcnow

Record = dict[str, Any]
SAME_CHANGE_SECONDS = 15
LOOKUP_BATCH = 5000
KEEP = ("created_at",)  # when Pulso first saw the row: not changed by later syncs
STAGE_RANK = {"visitor": 0, "lead": 1, "customer": 2, "churned": 2}
_STATS_LOCK = threading.Lock()


@dataclass
class LoadStats:
    """Rows written per stream and rows skipped, with why (e.g. a message whose conversation is not synced)."""

    written: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)

    def add(self, stream: str, written: int, skipped: int = 0) -> None:
        with _STATS_LOCK:  # page writers of one stream may run in parallel threads
            self.written[stream] = self.written.get(stream, 0) + written
            if skipped:
                self.skipped[stream] = self.skipped.get(stream, 0) + skipped


def _table(model: type[Base]) -> Table:
    return cast(Table, model.__table__)


def upsert(
    session: PulsoSession,
    model: type[Base],
    rows: Sequence[Record],
    keys: Sequence[str] = ("tenant_id", "external_id"),
    *,
    returning: bool = False,
    insert_only: Sequence[str] = (),
) -> dict[Any, int]:
    """Insert or update ``rows`` on ``keys`` (COPY-staged on PostgreSQL, pulso.store.bulk); with ``returning``,
    give back id by external_id. A key given twice in ``rows`` keeps its last row."""
    tenant_id = session.tenant_id
    values = [row if "tenant_id" in row else {"tenant_id": tenant_id, **row} for row in rows]
    wanted = ("id", "external_id") if returning else ()
    written = bulk.upsert(session, _table(model), values, keys, returning=wanted, insert_only=insert_only)
    return {str(key): int(row_id) for row_id, key in written}


def bronze_payload(source_id: int, stream: str, rows: Sequence[Any], origin: str) -> bytes:
    """A page as its bronze JSON (built once: it is also what the row's digest is taken of)."""
    payload = {"source_id": source_id, "stream": stream, "origin": origin, "rows": list(rows)}
    return orjson.dumps(payload, option=orjson.OPT_NON_STR_KEYS)


def write_bronze(
    session: PulsoSession,
    source_id: int,
    stream: str,
    rows: Sequence[Any],
    origin: str,
    *,
    processed: bool = True,
    payload: bytes | None = None,
) -> str:
    """One bronze row per page, exactly as read (JSON of the source's columns); re-reading a page is a no-op.
    Returns the row's ``message_id``. The JSON text goes to the database as it is (one parse, on the server)."""
    payload = payload if payload is not None else bronze_payload(source_id, stream, rows, origin)
    message_id = f"{source_id}:{stream}:{hashlib.sha256(payload).hexdigest()[:40]}"
    now = utcnow()
    as_json = "CAST(:payload AS json)" if session.get_bind().dialect.name == "postgresql" else ":payload"
    session.execute(
        text(
            "INSERT INTO raw_events (tenant_id, source, kind, message_id, payload, received_at, processed_at)"
            f" VALUES (:tenant, 'chatwoot', :kind, :message_id, {as_json}, :now, :processed)"
            " ON CONFLICT (tenant_id, source, message_id) DO NOTHING"
        ).bindparams(bindparam("now", type_=UTCDateTime()), bindparam("processed", type_=UTCDateTime())),
        {
            "tenant": session.tenant_id,
            "kind": stream[:32],
            "message_id": message_id,
            "payload": payload.decode(),
            "now": now,
            "processed": now if processed else None,
        },
    )
    return message_id


class Refs:
    """Ids of already stored rows by external key, for one tenant, cached for a sync."""

    def __init__(self, session: PulsoSession) -> None:
        self.session = session
        self.inboxes: dict[str, int] = {}
        self.agents: dict[str, int] = {}
        self.teams: dict[str, int] = {}
        self.contacts: dict[str, int] = {}  # chatwoot contact id -> contact id
        self.conversations: dict[str, int] = {}
        self.fresh: set[int] = set()  # conversations written in this sync: their synced_at is already new
        self.reload_small()

    def fork(self, session: PulsoSession) -> Refs:
        """Refs for another session (a parallel page writer) sharing these caches: ids, once stored, are the same
        for every transaction of the tenant."""
        forked = object.__new__(Refs)
        forked.__dict__.update(self.__dict__)
        forked.session = session
        return forked

    def reload_small(self) -> None:
        s = self.session
        self.inboxes = {str(k): int(v) for k, v in s.execute(select(Inbox.external_id, Inbox.id))}
        self.agents = {str(k): int(v) for k, v in s.execute(select(Agent.external_id, Agent.id))}
        self.teams = {str(k): int(v) for k, v in s.execute(select(Team.external_id, Team.id))}

    def lookup_contacts(self, keys: Iterable[str]) -> None:
        missing = sorted({k for k in keys if k and k not in self.contacts})
        for start in range(0, len(missing), LOOKUP_BATCH):
            query = select(ContactIdentity.value, ContactIdentity.contact_id).where(
                ContactIdentity.kind == "chatwoot_contact_id",
                bulk.one_of(self.session, ContactIdentity.value, missing[start : start + LOOKUP_BATCH]),
            )
            self.contacts.update({str(k): int(v) for k, v in self.session.execute(query)})

    def lookup_conversations(self, keys: Iterable[str]) -> None:
        missing = sorted({k for k in keys if k and k not in self.conversations})
        for start in range(0, len(missing), LOOKUP_BATCH):
            query = select(Conversation.external_id, Conversation.id).where(
                bulk.one_of(self.session, Conversation.external_id, missing[start : start + LOOKUP_BATCH])
            )
            self.conversations.update({str(k): int(v) for k, v in self.session.execute(query)})

    def agent_ids(self, keys: Iterable[str | None]) -> None:
        """Make sure every agent ref has a row: users who left the account still wrote old messages."""
        unknown = sorted({k for k in keys if k and k not in self.agents})
        if not unknown:
            return
        rows = [
            {
                "external_id": key,
                "name": f"Chatwoot {'bot' if key.startswith('cw:bot:') else 'user'} {key.rsplit(':', 1)[1]}",
                "kind": "bot" if key.startswith("cw:bot:") else "human",
                "is_active": False,
                "created_at": utcnow(),
            }
            for key in unknown
        ]
        tenant_id = self.session.tenant_id
        stamped = [{"tenant_id": tenant_id, **row} for row in rows]
        bulk.upsert(self.session, _table(Agent), stamped, ("tenant_id", "external_id"), do_nothing=True)
        query = select(Agent.external_id, Agent.id).where(bulk.one_of(self.session, Agent.external_id, unknown))
        self.agents.update({str(k): int(v) for k, v in self.session.execute(query)})


def load_inboxes(refs: Refs, records: Sequence[Record]) -> int:
    stamped = [{**r, "created_at": utcnow()} for r in records]
    refs.inboxes.update(upsert(refs.session, Inbox, stamped, returning=True, insert_only=KEEP))
    return len(records)


def load_agents(refs: Refs, records: Sequence[Record], *, complete: bool) -> int:
    """Upsert agents; with ``complete`` (the whole account was read), Chatwoot users no longer in it go inactive."""
    stamped = [{**r, "created_at": utcnow()} for r in records]
    refs.agents.update(upsert(refs.session, Agent, stamped, returning=True, insert_only=KEEP))
    if complete:
        present = [r["external_id"] for r in records]
        refs.session.execute(
            update(Agent)
            .where(Agent.external_id.like("cw:%"), Agent.external_id.not_in(present), Agent.is_active)
            .values(is_active=False)
        )
    return len(records)


def load_teams(refs: Refs, records: Sequence[Record]) -> int:
    stamped = [{**r, "created_at": utcnow()} for r in records]
    refs.teams.update(upsert(refs.session, Team, stamped, returning=True, insert_only=KEEP))
    return len(records)


def load_campaigns(refs: Refs, records: Sequence[Record]) -> int:
    unique = {(r["channel"], r["name"]): {**r, "created_at": utcnow()} for r in records}  # same title: first wins
    upsert(refs.session, Campaign, list(unique.values()), keys=("tenant_id", "channel", "name"), insert_only=KEEP)
    return len(unique)


def load_contacts(refs: Refs, records: Sequence[Record]) -> int:
    """Find each contact by its Chatwoot id, then e-mail, then phone (so a tracked visitor who writes on
    WhatsApp is one person); create the ones nobody knows; update names, channels and Chatwoot attributes."""
    session = refs.session
    latest = {r["chatwoot_id"]: r for r in records}  # a page may hold a contact once; webhooks may repeat
    identities = {key: _identities(record) for key, record in latest.items()}
    book = ContactBook(session, (i for ids in identities.values() for i in ids))
    refs_by_key = {}
    for key, record in latest.items():
        fields = {
            "name": record["name"],
            "email": record["email"],
            "phone": record["phone"],
            "city": record["city"],
            "lifecycle_stage": record["stage"],
            "first_seen_at": record["created_at"],
            "became_lead_at": record["created_at"],
            "became_customer_at": record["created_at"] if record["stage"] == "customer" else None,
            "first_touch_channel": "chat",
            "last_seen_at": record["last_activity_at"],
            "attributes": {"chatwoot": record["chatwoot"]},
            "updated_at": utcnow(),
        }
        refs_by_key[key] = book.find_or_create(identities[key], fields)
    ids = book.save()
    contact_ids = {key: ids[ref] for key, ref in refs_by_key.items()}
    refs.contacts.update(contact_ids)
    existing = [(key, contact_ids[key]) for key, ref in refs_by_key.items() if not book.is_new(ref)]
    if existing:
        _update_existing_contacts(session, [(latest[key], contact_id) for key, contact_id in existing])
    return len(latest)


def _identities(record: Record) -> list[Identity]:
    found: list[Identity] = [("chatwoot_contact_id", record["chatwoot_id"])]
    found += [(kind, record[kind]) for kind in ("email", "phone") if record.get(kind)]
    return found


def _update_existing_contacts(session: PulsoSession, pairs: Sequence[tuple[Record, int]]) -> None:
    ids = [contact_id for _, contact_id in pairs]
    current: dict[int, tuple[Any, ...]] = {}
    for start in range(0, len(ids), LOOKUP_BATCH):
        query = select(
            Contact.id, Contact.name, Contact.email, Contact.phone, Contact.city, Contact.lifecycle_stage,
            Contact.attributes, Contact.last_seen_at, Contact.became_customer_at,
        ).where(bulk.one_of(session, Contact.id, ids[start : start + LOOKUP_BATCH]))  # fmt: skip
        current.update({int(row[0]): tuple(row[1:]) for row in session.execute(query)})
    changes = []
    for record, contact_id in pairs:
        name, email, phone, city, stage, attributes, last_seen, became_customer = current[contact_id]
        upgraded = STAGE_RANK.get(record["stage"], 0) > STAGE_RANK.get(stage, 0)
        seen = max((t for t in (last_seen, record["last_activity_at"]) if t), default=None)
        changes.append(
            {
                "id": contact_id,
                "name": record["name"] or name,
                "email": email or record["email"],
                "phone": phone or record["phone"],
                "city": record["city"] or city,
                "lifecycle_stage": record["stage"] if upgraded else stage,
                "became_customer_at": became_customer
                or (record["created_at"] if upgraded and record["stage"] == "customer" else None),
                "attributes": {**(attributes or {}), "chatwoot": record["chatwoot"]},
                "last_seen_at": seen,
                "updated_at": utcnow(),
            }
        )
    session.execute(update(Contact), changes)


def load_conversations(refs: Refs, records: Sequence[Record], stats: LoadStats) -> list[Record]:
    """Upsert conversations; returns the status changes seen as differences from what Pulso held."""
    session = refs.session
    latest = {r["external_id"]: r for r in records}
    refs.lookup_contacts(r["contact_ref"] for r in latest.values() if r["contact_ref"])
    keys = list(latest)
    before: dict[str, str] = {}
    for start in range(0, len(keys), LOOKUP_BATCH):
        query = select(Conversation.external_id, Conversation.status).where(
            bulk.one_of(session, Conversation.external_id, keys[start : start + LOOKUP_BATCH])
        )
        before.update({str(k): str(v) for k, v in session.execute(query)})
    refs.agent_ids(r["assignee_ref"] for r in latest.values())
    now = utcnow()
    rows, skipped = [], 0
    for record in latest.values():
        inbox_id = refs.inboxes.get(record["inbox_ref"] or "")
        if inbox_id is None or record["created_at"] is None:
            skipped += 1  # an inbox outside the source's selection, or deleted meanwhile
            continue
        rows.append(
            {
                "external_id": record["external_id"],
                "display_id": record["display_id"],
                "inbox_id": inbox_id,
                "contact_id": refs.contacts.get(record["contact_ref"] or ""),
                "assignee_agent_id": refs.agents.get(record["assignee_ref"] or ""),
                "team_id": refs.teams.get(record["team_ref"] or ""),
                "status": record["status"],
                "priority": record["priority"],
                "labels": record["labels"],
                "attributes": record["attributes"],
                "created_at": record["created_at"],
                "first_reply_at": record["first_reply_at"],
                "resolved_at": record["resolved_at"],
                "last_activity_at": record["last_activity_at"],
                "synced_at": now,
            }
        )
    written = upsert(session, Conversation, rows, returning=True)
    refs.conversations.update(written)
    refs.fresh.update(written.values())
    stats.add("conversations", len(rows), skipped)
    changes = []
    for row in rows:
        old = before.get(row["external_id"])
        moment = latest[row["external_id"]]["updated_at"]
        if old is not None and old != row["status"] and moment is not None:
            changes.append(
                {
                    "conversation_ref": row["external_id"],
                    "at": moment,
                    "from_status": old,
                    "to_status": row["status"],
                    "by_bot_handoff": False,
                    "origin": "sync",
                }
            )
    return changes


def load_messages(refs: Refs, records: Sequence[Record], stats: LoadStats) -> None:
    session = refs.session
    refs.lookup_conversations(r["conversation_ref"] for r in records)
    refs.agent_ids(r["agent_ref"] for r in records)
    conversations, agents, tenant_id = refs.conversations, refs.agents, session.tenant_id
    rows, skipped, touched = [], 0, set()
    for record in records:
        conversation_id = conversations.get(record["conversation_ref"])
        if conversation_id is None or record["created_at"] is None:
            skipped += 1  # its conversation is outside the selection or was deleted
            continue
        touched.add(conversation_id)
        row = dict(record, tenant_id=tenant_id, conversation_id=conversation_id)
        row["agent_id"] = agents.get(record["agent_ref"] or "")
        del row["conversation_ref"], row["agent_ref"]
        rows.append(row)
    upsert(session, Message, rows)
    touch_conversations(session, touched - refs.fresh)
    stats.add("messages", len(rows), skipped)


def touch_conversations(session: PulsoSession, ids: Iterable[int]) -> None:
    """Mark conversations as changed, so the facts job recomputes them.

    Rows are locked in id order first: on a full read the messages and the events streams run in two transactions
    at once, and two ordered lockers can wait for each other but never deadlock."""
    wanted = sorted(set(ids))
    now = utcnow()
    for start in range(0, len(wanted), LOOKUP_BATCH):
        part = bulk.one_of(session, Conversation.id, wanted[start : start + LOOKUP_BATCH])
        # NO KEY UPDATE: what updating synced_at takes anyway; it does not wait for the KEY SHARE locks that
        # foreign-key checks of messages written meanwhile (another page writer) hold on the same conversations
        lock = select(Conversation.id).where(part).order_by(Conversation.id).with_for_update(key_share=True)
        session.execute(lock)
        session.execute(update(Conversation).where(part).values(synced_at=now))


def load_csat(refs: Refs, records: Sequence[Record], stats: LoadStats) -> None:
    refs.lookup_conversations(r["conversation_ref"] for r in records)
    refs.lookup_contacts(r["contact_ref"] for r in records if r["contact_ref"])
    refs.agent_ids(r["agent_ref"] for r in records)
    rows, skipped = [], 0
    for record in records:
        conversation_id = refs.conversations.get(record["conversation_ref"])
        if conversation_id is None or not 1 <= record["score"] <= 5 or record["answered_at"] is None:
            skipped += 1
            continue
        rows.append(
            {
                "external_id": record["external_id"],
                "conversation_id": conversation_id,
                "contact_id": refs.contacts.get(record["contact_ref"] or ""),
                "agent_id": refs.agents.get(record["agent_ref"] or ""),
                "kind": "csat",
                "score": record["score"],
                "comment": record["comment"],
                "answered_at": record["answered_at"],
            }
        )
    upsert(refs.session, Feedback, rows)
    touch_conversations(refs.session, {row["conversation_id"] for row in rows} - refs.fresh)
    stats.add("csat", len(rows), skipped)


def load_reporting_events(refs: Refs, records: Sequence[Record], stats: LoadStats) -> None:
    refs.lookup_conversations(r["conversation_ref"] for r in records if r["conversation_ref"])
    rows, skipped = [], 0
    for record in records:
        conversation_id = refs.conversations.get(record["conversation_ref"] or "")
        if record["created_at"] is None or (record["conversation_ref"] and conversation_id is None):
            skipped += 1
            continue
        row = {key: value for key, value in record.items() if key != "conversation_ref"}
        rows.append({**row, "conversation_id": conversation_id})
    upsert(refs.session, SourceReportingEvent, rows)
    stats.add("reporting_events", len(rows), skipped)


def add_status_changes(refs: Refs, changes: Sequence[Record]) -> int:
    """Record transitions, merging the same one reported by different origins. Returns rows inserted."""
    session = refs.session
    refs.lookup_conversations(c["conversation_ref"] for c in changes)
    wanted = [c for c in changes if c["conversation_ref"] in refs.conversations]
    if not wanted:
        return 0
    ids = sorted({refs.conversations[c["conversation_ref"]] for c in wanted})
    existing: dict[int, list[dict[str, Any]]] = {}
    columns = (
        ConversationStatusChange.id, ConversationStatusChange.conversation_id, ConversationStatusChange.at,
        ConversationStatusChange.from_status, ConversationStatusChange.to_status,
        ConversationStatusChange.by_bot_handoff, ConversationStatusChange.origin,
    )  # fmt: skip
    for start in range(0, len(ids), LOOKUP_BATCH):
        query = select(*columns).where(
            bulk.one_of(session, ConversationStatusChange.conversation_id, ids[start : start + LOOKUP_BATCH])
        )
        for stored in session.execute(query).mappings():
            existing.setdefault(int(stored["conversation_id"]), []).append(dict(stored))
    inserts: list[Record] = []
    updates: dict[int, Record] = {}
    for change in sorted(wanted, key=lambda c: c["at"]):
        conversation_id = refs.conversations[change["conversation_ref"]]
        known = existing.setdefault(conversation_id, [])
        same = _same_change(known, change)
        if same is None:
            new: Record = {
                "conversation_id": conversation_id,
                **{k: change[k] for k in ("at", "from_status", "to_status", "by_bot_handoff", "origin")},
            }
            known.append({**new, "id": None})
            inserts.append(new)
            continue
        merged = _merge(same, change)
        if merged != same:
            same.update(merged)
            if same["id"] is not None:
                updates[int(same["id"])] = {k: same[k] for k in ("id", "at", "from_status", "by_bot_handoff", "origin")}
    if inserts:
        bulk.upsert(
            session,
            _table(ConversationStatusChange),
            [{"tenant_id": session.tenant_id, **row} for row in inserts],
            ("tenant_id", "conversation_id", "at", "to_status"),
            do_nothing=True,
        )
    if updates:
        session.execute(update(ConversationStatusChange), list(updates.values()))
    touch_conversations(session, set(ids) - refs.fresh)
    return len(inserts)


def _same_change(known: list[dict[str, Any]], change: Record) -> dict[str, Any] | None:
    window = timedelta(seconds=SAME_CHANGE_SECONDS)
    for row in known:
        if row["to_status"] != change["to_status"]:
            continue
        if row["at"] == change["at"]:
            return row
        if row["origin"] != change["origin"] and abs(row["at"] - change["at"]) <= window:
            return row
    return None


def _merge(row: dict[str, Any], change: Record) -> dict[str, Any]:
    merged = dict(row)
    merged["by_bot_handoff"] = bool(row["by_bot_handoff"] or change["by_bot_handoff"])
    merged["from_status"] = row["from_status"] or change["from_status"]
    if change["origin"] == "reporting_event" and row["origin"] != "reporting_event":
        merged["at"], merged["origin"] = change["at"], "reporting_event"
        merged["from_status"] = change["from_status"] or row["from_status"]
    return merged


def delete_missing(session: PulsoSession, stream: str, present: Sequence[int], before: datetime) -> int:
    """Remove what Chatwoot hard-deleted (it sends no delete events): conversations (their messages, facts and
    status changes follow by cascade) and contacts' Chatwoot identities. A contact with nothing else (no tracked
    events, no orders) is deleted with it; one who also came from elsewhere keeps the rest of their history.
    Only rows Pulso stored ``before`` the snapshot are candidates: a webhook may have brought newer ones.
    (Conversations use their Chatwoot creation time, contacts the time Pulso created them.)"""
    keep = set(present)
    if stream == "conversations":
        stored = session.execute(
            select(Conversation.id, Conversation.external_id).where(
                Conversation.external_id.like("cw:%"), Conversation.created_at < before
            )
        )
        gone = [int(i) for i, key in stored if int(str(key)[3:]) not in keep]
        for start in range(0, len(gone), LOOKUP_BATCH):
            session.execute(
                delete(Conversation).where(bulk.one_of(session, Conversation.id, gone[start : start + LOOKUP_BATCH]))
            )
        return len(gone)
    # one table at a time: right after a bulk load the planner has no statistics, and a join can go quadratic
    identities = session.execute(
        select(ContactIdentity.id, ContactIdentity.contact_id, ContactIdentity.value).where(
            ContactIdentity.kind == "chatwoot_contact_id"
        )
    ).all()
    candidates = [(int(i), int(c)) for i, c, value in identities if int(value) not in keep]
    old_enough: set[int] = set()
    for start in range(0, len(candidates), LOOKUP_BATCH):
        ids = [c for _, c in candidates[start : start + LOOKUP_BATCH]]
        old_enough |= set(
            session.scalars(
                select(Contact.id).where(bulk.one_of(session, Contact.id, ids), Contact.created_at < before)
            )
        )
    gone_identities = [(i, c) for i, c in candidates if c in old_enough]
    for start in range(0, len(gone_identities), LOOKUP_BATCH):
        part = gone_identities[start : start + LOOKUP_BATCH]
        session.execute(delete(ContactIdentity).where(bulk.one_of(session, ContactIdentity.id, [i for i, _ in part])))
        contacts = [c for _, c in part]
        used = set(
            session.scalars(select(Event.contact_id).where(bulk.one_of(session, Event.contact_id, contacts)).distinct())
        )
        used |= set(
            session.scalars(select(Order.contact_id).where(bulk.one_of(session, Order.contact_id, contacts)).distinct())
        )
        orphans = [c for c in contacts if c not in used]
        if orphans:
            session.execute(delete(Contact).where(bulk.one_of(session, Contact.id, orphans)))
    return len(gone_identities)
