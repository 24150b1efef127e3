"""API keys: creation, listing, revocation and the cached lookup the collector authenticates with.

Only a SHA-256 hash of a key and a short display prefix are stored; the key itself is shown once.
Lookups are cached in-process for ``CACHE_TTL_SECONDS`` so a request does not hit the database for auth;
a revoked key therefore keeps working for at most that long in each server process.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select

from pulso.errors import InvalidInputError, NotFoundError
from pulso.store import PulsoSession, platform_session
from pulso.store.models import ApiKey
from pulso.store.models.platform import API_KEY_KINDS
from pulso.store.types import utcnow

CACHE_TTL_SECONDS = 30.0
PREFIX_LENGTH = 16  # "pk_write_" + 7 random characters, enough to tell keys apart in a list


@dataclass(frozen=True, slots=True)
class KeyIdentity:
    """Who a valid key belongs to."""

    key_id: int
    tenant_id: int
    kind: str


@dataclass(frozen=True, slots=True)
class KeyInfo:
    id: int
    tenant_id: int
    kind: str
    name: str
    prefix: str
    created_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(session: PulsoSession, *, tenant_id: int, kind: str, name: str = "") -> tuple[ApiKey, str]:
    """A new key for ``tenant_id``: the stored row and the plain key, which is never stored."""
    if kind not in API_KEY_KINDS:
        raise InvalidInputError(f"kind: must be one of {', '.join(API_KEY_KINDS)}, got {kind!r}")
    plain = f"pk_{kind}_{secrets.token_urlsafe(24)}"
    row = ApiKey(tenant_id=tenant_id, kind=kind, name=name, prefix=plain[:PREFIX_LENGTH], key_hash=hash_key(plain))
    session.add(row)
    session.flush()
    return row, plain


def list_keys(session: PulsoSession, tenant_id: int) -> list[KeyInfo]:
    rows = session.scalars(select(ApiKey).where(ApiKey.tenant_id == tenant_id).order_by(ApiKey.id))
    return [
        KeyInfo(r.id, r.tenant_id, r.kind, r.name, r.prefix, r.created_at, r.revoked_at, r.last_used_at) for r in rows
    ]


def revoke_key(session: PulsoSession, id_or_prefix: str) -> ApiKey:
    """Revoke the key with this id or display prefix (platform session). Takes effect within the cache TTL."""
    condition = ApiKey.prefix == id_or_prefix
    if id_or_prefix.isdigit():
        condition = or_(condition, ApiKey.id == int(id_or_prefix))
    rows = list(session.scalars(select(ApiKey).where(condition)))
    if not rows:
        raise NotFoundError(f"key: no key with id or prefix {id_or_prefix!r}")
    if len(rows) > 1:
        raise InvalidInputError(f"key: {id_or_prefix!r} matches {len(rows)} keys; use the id")
    row = rows[0]
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    key_cache.clear()
    return row


class KeyCache:
    """Hash -> identity for ``ttl`` seconds; only valid keys are cached, so a new key works at once."""

    def __init__(self, ttl: float = CACHE_TTL_SECONDS) -> None:
        self.ttl = ttl
        self.clock = time.monotonic
        self._entries: dict[str, tuple[float, KeyIdentity]] = {}
        self._lock = threading.Lock()

    def get(self, key_hash: str) -> KeyIdentity | None:
        entry = self._entries.get(key_hash)
        if entry is None or entry[0] < self.clock():
            return None
        return entry[1]

    def put(self, key_hash: str, identity: KeyIdentity) -> None:
        with self._lock:
            if len(self._entries) > 10_000:
                self._entries.clear()
            self._entries[key_hash] = (self.clock() + self.ttl, identity)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


key_cache = KeyCache()


def authenticate(key: str, kind: str = "write") -> KeyIdentity | None:
    """The identity of an active key of ``kind``, or None for an unknown, revoked or other-kind key."""
    digest = hash_key(key)
    identity = key_cache.get(digest)
    if identity is None:
        with platform_session() as session:
            row = session.scalars(
                select(ApiKey).where(ApiKey.key_hash == digest, ApiKey.revoked_at.is_(None))
            ).one_or_none()
            if row is None:
                return None
            identity = KeyIdentity(row.id, row.tenant_id, row.kind)
        key_cache.put(digest, identity)
    return identity if identity.kind == kind else None
