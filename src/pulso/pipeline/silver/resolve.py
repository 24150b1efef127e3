"""Identity resolution for one chunk of events: which contact each event belongs to, which contacts merge.

Three batched queries per chunk (identities of the chunk's keys, user ids of the contacts found, the contacts),
whatever the chunk size. New people get new contacts; a person spread over several existing contacts keeps the
oldest (lowest id) and the others are merged into it by :mod:`pulso.pipeline.silver.merge`.

The resolution itself is a union-find (:class:`IdentityGraph`, pure) over identity keys and known contacts.
Keys are ``(kind, value)`` pairs (anonymous id, user id, e-mail, phone). Every event links its keys into one
person. Two people who each already carry a *different* user id are never joined: that is a shared device or a
shared e-mail, not one person, so the link is refused and the shared key stays with the person it met first.
Only an ``alias`` call, which states that two ids are one person, joins them anyway.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select

from pulso.pipeline.silver.contacts import parse_traits
from pulso.pipeline.silver.parse import ParsedEvent
from pulso.store.models import Contact, ContactIdentity
from pulso.store.session import PulsoSession

Key = tuple[str, str]
Node = Key | tuple[str, int]  # an identity key, or ("contact", contact_id)


def contact_node(contact_id: int) -> Node:
    return ("contact", contact_id)


class IdentityGraph:
    def __init__(self) -> None:
        self._parent: dict[Node, Node] = {}
        self._user_ids: dict[Node, frozenset[str]] = {}

    def add(self, node: Node, user_ids: Iterable[str] = ()) -> None:
        if node not in self._parent:
            self._parent[node] = node
            own = {node[1]} if node[0] == "user_id" and isinstance(node[1], str) else set()
            self._user_ids[node] = frozenset(own | set(user_ids))
        elif user_ids:
            root = self.find(node)
            self._user_ids[root] = self._user_ids[root] | frozenset(user_ids)

    def find(self, node: Node) -> Node:
        self.add(node)
        root = node
        while self._parent[root] != root:
            root = self._parent[root]
        while self._parent[node] != root:  # path compression
            self._parent[node], node = root, self._parent[node]
        return root

    def link(self, a: Node, b: Node, *, force: bool = False) -> bool:
        """Join the people of ``a`` and ``b`` unless they carry different user ids (``force``: an explicit alias
        says they are one person). True when joined."""
        root_a, root_b = self.find(a), self.find(b)
        if root_a == root_b:
            return True
        users_a, users_b = self._user_ids[root_a], self._user_ids[root_b]
        if not force and users_a and users_b and not users_a & users_b:
            return False
        self._parent[root_b] = root_a
        self._user_ids[root_a] = users_a | users_b
        return True

    def groups(self) -> dict[Node, list[Node]]:
        """Every person (root) with its nodes."""
        result: dict[Node, list[Node]] = {}
        for node in list(self._parent):
            result.setdefault(self.find(node), []).append(node)
        return result


@dataclass
class Resolution:
    contact_of: dict[int, Contact] = field(default_factory=dict)  # raw event id -> contact
    merges: dict[int, list[int]] = field(default_factory=dict)  # survivor id -> loser ids
    contacts: dict[int, Contact] = field(default_factory=dict)  # every contact touched, by id
    new_contacts: int = 0


def event_keys(event: ParsedEvent, known_user_ids: set[str]) -> list[Key]:
    """The identity keys an event carries, the strongest first (user id, then anonymous id...)."""
    keys: list[Key] = []
    if event.user_id:
        keys.append(("user_id", event.user_id))
    if event.anonymous_id:
        keys.append(("anonymous_id", event.anonymous_id))
    if event.previous_id:  # alias: the previous id is a user id when one is known by that value
        kind = "user_id" if event.previous_id in known_user_ids else "anonymous_id"
        keys.append((kind, event.previous_id))
    if event.type == "identify":
        traits = parse_traits(event.properties)
        keys += [(kind, value) for kind, value in (("email", traits.email), ("phone", traits.phone)) if value]
    return keys


def _existing_identities(session: PulsoSession, keys: set[Key]) -> dict[Key, int]:
    by_kind: dict[str, list[str]] = defaultdict(list)
    for kind, value in keys:
        by_kind[kind].append(value)
    found: dict[Key, int] = {}
    for kind, values in by_kind.items():
        query = select(ContactIdentity.value, ContactIdentity.contact_id).where(
            ContactIdentity.kind == kind, ContactIdentity.value.in_(values)
        )
        found.update({(kind, value): contact_id for value, contact_id in session.execute(query)})
    return found


def resolve_chunk(session: PulsoSession, events: list[ParsedEvent]) -> tuple[Resolution, dict[Key, Contact]]:
    """Resolve a chunk's events to contacts. Returns the resolution and the identity keys to insert."""
    chunk_user_ids = {e.user_id for e in events if e.user_id}
    aliases = {e.previous_id for e in events if e.previous_id}
    known_user_ids = chunk_user_ids | {v for k, v in _existing_identities(session, {("user_id", a) for a in aliases})}
    keys_of = {e.raw_id: event_keys(e, known_user_ids) for e in events}
    existing = _existing_identities(session, {key for keys in keys_of.values() for key in keys})
    contact_ids = set(existing.values())
    user_ids: dict[int, set[str]] = defaultdict(set)
    if contact_ids:
        query = select(ContactIdentity.contact_id, ContactIdentity.value).where(
            ContactIdentity.kind == "user_id", ContactIdentity.contact_id.in_(contact_ids)
        )
        for contact_id, value in session.execute(query):
            user_ids[contact_id].add(value)
    graph = IdentityGraph()
    for contact_id in contact_ids:
        graph.add(contact_node(contact_id), user_ids[contact_id])
    for key, contact_id in existing.items():
        graph.link(contact_node(contact_id), key)
    for event in events:
        keys = keys_of[event.raw_id]
        graph.add(keys[0])
        for key in keys[1:]:
            graph.link(keys[0], key, force=event.type == "alias")

    resolution = Resolution()
    if contact_ids:
        loaded = session.scalars(select(Contact).where(Contact.id.in_(contact_ids)))
        resolution.contacts = {contact.id: contact for contact in loaded}
    contact_of_root: dict[Node, Contact] = {}
    new_keys: dict[Key, Contact] = {}
    for root, nodes in graph.groups().items():
        members = sorted(int(n[1]) for n in nodes if n[0] == "contact")
        if members:
            contact = resolution.contacts[members[0]]
            if len(members) > 1:
                resolution.merges[contact.id] = members[1:]
        else:
            contact = Contact(lifecycle_stage="visitor", attributes={})
            session.add(contact)
            resolution.new_contacts += 1
        contact_of_root[root] = contact
        for node in nodes:
            if node[0] != "contact" and node not in existing:
                new_keys[(node[0], str(node[1]))] = contact
    for event in events:
        keys = keys_of[event.raw_id]
        resolution.contact_of[event.raw_id] = contact_of_root[graph.find(keys[0])]
    return resolution, new_keys
