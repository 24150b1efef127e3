"""Dashboard logins: checking a password, and the signed session cookie that remembers who logged in.

The cookie is an itsdangerous ``URLSafeTimedSerializer`` token carrying the user id, the issue time and a
random session id (what CSRF tokens are bound to). It is checked on every request: the signature, its age
against ``settings.session_max_age_seconds``, and that the user still exists and is active.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select

from pulso.security.passwords import verify_password
from pulso.store.models import AuditLog, Tenant, User
from pulso.store.session import PulsoSession
from pulso.store.types import utcnow

SESSION_COOKIE = "pulso_session"
SESSION_SALT = "pulso.session.v1"
# Clocks of several app servers may disagree a little; an issue time further in the future is forged.
CLOCK_SKEW_SECONDS = 60
EMAIL_MAX_LENGTH = 254


@dataclass(frozen=True)
class SessionData:
    """What a valid session cookie says: who, since when, and the session's own random id."""

    user_id: int
    issued_at: int
    session_id: str


@dataclass(frozen=True)
class AuthenticatedUser:
    """The logged-in user as the web layer sees it (a detached snapshot, not an ORM row)."""

    id: int
    email: str
    name: str
    role: str
    tenant_id: int | None
    tenant_slug: str | None

    @property
    def is_platform_admin(self) -> bool:
        return self.role == "platform_admin" and self.tenant_id is None

    def can_view_tenant(self, tenant_id: int) -> bool:
        return self.is_platform_admin or self.tenant_id == tenant_id


class SessionCodec:
    """Signs and reads session cookies with the installation's secret."""

    def __init__(self, secret: str, max_age_seconds: int) -> None:
        if max_age_seconds <= 0:
            raise ValueError("session max age must be positive")
        self._serializer = URLSafeTimedSerializer(secret, salt=SESSION_SALT)
        self.max_age_seconds = max_age_seconds

    def issue(self, user_id: int, *, now: float | None = None) -> tuple[str, SessionData]:
        data = SessionData(
            user_id=user_id, issued_at=int(time.time() if now is None else now), session_id=secrets.token_urlsafe(16)
        )
        token = self._serializer.dumps({"uid": data.user_id, "iat": data.issued_at, "sid": data.session_id})
        return token, data

    def read(self, token: str | None, *, now: float | None = None) -> SessionData | None:
        """The session the cookie proves, or None when it is missing, forged, malformed or too old."""
        if not token:
            return None
        try:
            payload: Any = self._serializer.loads(token, max_age=self.max_age_seconds)
        except BadSignature:  # includes SignatureExpired
            return None
        if not isinstance(payload, dict):
            return None
        user_id, issued_at, session_id = payload.get("uid"), payload.get("iat"), payload.get("sid")
        if not (isinstance(user_id, int) and isinstance(issued_at, int) and isinstance(session_id, str)):
            return None
        current = time.time() if now is None else now
        # The issue time is checked on its own as well: it is what the server stated, whatever signed it when.
        if issued_at + self.max_age_seconds < current or issued_at > current + CLOCK_SKEW_SECONDS:
            return None
        return SessionData(user_id=user_id, issued_at=issued_at, session_id=session_id)


def _snapshot(user: User, tenant: Tenant | None) -> AuthenticatedUser:
    return AuthenticatedUser(
        id=user.id,
        email=user.email,
        name=user.name,
        role=user.role,
        tenant_id=user.tenant_id,
        tenant_slug=tenant.slug if tenant is not None else None,
    )


def _tenant_of(session: PulsoSession, user: User) -> tuple[bool, Tenant | None]:
    """(whether the user's tenant lets them in, the tenant); platform admins have none and pass."""
    if user.tenant_id is None:
        return True, None
    tenant = session.get(Tenant, user.tenant_id)
    return tenant is not None and tenant.is_active, tenant


def authenticate(session: PulsoSession, *, email: str, password: str, ip: str | None) -> AuthenticatedUser | None:
    """Check an e-mail and password (platform session); record the attempt in the audit log.

    Returns None for an unknown e-mail, a wrong password, or an inactive user or tenant, so that the caller
    can only say one thing: wrong e-mail or password. The reason is kept in the audit log only.
    """
    normalised = email.strip().lower()[:EMAIL_MAX_LENGTH]
    user = session.scalar(select(User).where(User.email == normalised)) if normalised else None
    # verify_password(None) spends the same time on a dummy hash, so a miss is as slow as a hit.
    password_ok = verify_password(password, user.password_hash if user is not None else None)
    tenant_ok, tenant = _tenant_of(session, user) if user is not None else (False, None)
    reason = None
    if user is None:
        reason = "unknown_email"
    elif not password_ok:
        reason = "wrong_password"
    elif not user.is_active:
        reason = "inactive_user"
    elif not tenant_ok:
        reason = "inactive_tenant"
    tenant_id = user.tenant_id if user is not None else None
    if reason is not None or user is None:
        session.add(
            AuditLog(
                tenant_id=tenant_id,
                actor_user_id=user.id if user is not None else None,
                actor=normalised,
                action="login_failed",
                details={"reason": reason},
                ip=ip,
            )
        )
        return None
    user.last_login_at = utcnow()
    session.add(AuditLog(tenant_id=tenant_id, actor_user_id=user.id, actor=user.email, action="login", ip=ip))
    session.flush()
    return _snapshot(user, tenant)


def record_logout(session: PulsoSession, user: AuthenticatedUser, *, ip: str | None) -> None:
    session.add(AuditLog(tenant_id=user.tenant_id, actor_user_id=user.id, actor=user.email, action="logout", ip=ip))


def active_user(session: PulsoSession, user_id: int) -> AuthenticatedUser | None:
    """The session's user if still allowed in (exists, active, tenant active); platform session."""
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        return None
    tenant_ok, tenant = _tenant_of(session, user)
    return _snapshot(user, tenant) if tenant_ok else None
