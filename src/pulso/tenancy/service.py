"""Creating and listing tenants and users. Services decide; the caller's unit of work commits."""

from __future__ import annotations

import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select

from pulso.errors import InvalidInputError
from pulso.security.passwords import hash_password
from pulso.store.models import USER_ROLES, Tenant, User
from pulso.store.session import PulsoSession

SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class ValidationError(InvalidInputError):
    """Tenant or user input that cannot be accepted; the message says what and where."""


@dataclass(frozen=True)
class TenantSummary:
    id: int
    slug: str
    name: str
    timezone: str
    users: int


def validate_timezone(timezone: str) -> str:
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"timezone: unknown IANA time zone {timezone!r} (e.g. America/Sao_Paulo)") from None
    return timezone


def create_tenant(session: PulsoSession, *, slug: str, name: str, timezone: str = "America/Sao_Paulo") -> Tenant:
    if not SLUG_PATTERN.match(slug):
        raise ValidationError(f"slug: {slug!r} must be 1-63 lowercase letters, digits or inner hyphens")
    if not name.strip():
        raise ValidationError("name: must not be empty")
    validate_timezone(timezone)
    if session.scalar(select(Tenant.id).where(Tenant.slug == slug)) is not None:
        raise ValidationError(f"slug: a tenant {slug!r} already exists")
    tenant = Tenant(slug=slug, name=name.strip(), timezone=timezone)
    session.add(tenant)
    session.flush()
    return tenant


def get_tenant(session: PulsoSession, slug: str) -> Tenant:
    tenant = session.scalar(select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        raise ValidationError(f"tenant: no tenant with slug {slug!r}")
    return tenant


def list_tenants(session: PulsoSession) -> list[TenantSummary]:
    user_counts = select(User.tenant_id, func.count().label("users")).group_by(User.tenant_id).subquery("user_counts")
    rows = session.execute(
        select(Tenant, func.coalesce(user_counts.c.users, 0))
        .outerjoin(user_counts, user_counts.c.tenant_id == Tenant.id)
        .order_by(Tenant.slug)
    ).all()
    return [TenantSummary(t.id, t.slug, t.name, t.timezone, int(n)) for t, n in rows]


def create_user(
    session: PulsoSession, *, email: str, role: str, password: str, tenant: Tenant | None, name: str = ""
) -> User:
    """A dashboard login. ``tenant=None`` only for the ``platform_admin`` role."""
    email = email.strip().lower()
    if not EMAIL_PATTERN.match(email):
        raise ValidationError(f"email: {email!r} is not an e-mail address")
    if role not in USER_ROLES:
        raise ValidationError(f"role: {role!r} is not one of {', '.join(USER_ROLES)}")
    if (role == "platform_admin") != (tenant is None):
        raise ValidationError("role: platform_admin users belong to no tenant; every other role needs --tenant")
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise ValidationError(f"email: a user {email!r} already exists")
    try:
        password_hash = hash_password(password)
    except ValueError as exc:
        raise ValidationError(f"password: {exc}") from None
    user = User(
        email=email,
        role=role,
        name=name,
        password_hash=password_hash,
        tenant_id=tenant.id if tenant else None,
    )
    session.add(user)
    session.flush()
    return user
