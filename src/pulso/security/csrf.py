"""CSRF tokens bound to the visitor's session (or, before login, to a random pre-session cookie).

The token is an HMAC of the binding under the installation's secret: a page from another site cannot read it,
and a token taken from one session is worthless in another. Forms carry it in a hidden ``csrf_token`` input.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

CSRF_FIELD = "csrf_token"
PRE_SESSION_COOKIE = "pulso_pre"
_NONCE_BYTES = 24
_MAX_NONCE_LENGTH = 64


def new_nonce() -> str:
    """A fresh random pre-session id."""
    return secrets.token_urlsafe(_NONCE_BYTES)


def is_valid_nonce(value: str | None) -> bool:
    """Whether a pre-session cookie value looks like one we issued (random URL-safe text, bounded length)."""
    if not value or len(value) > _MAX_NONCE_LENGTH:
        return False
    return all(c.isalnum() or c in "-_" for c in value)


def session_binding(session_id: str) -> str:
    return f"session:{session_id}"


def pre_session_binding(nonce: str) -> str:
    return f"pre:{nonce}"


def token_for(secret: str, binding: str) -> str:
    digest = hmac.new(secret.encode(), f"pulso.csrf.v1|{binding}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def token_matches(secret: str, binding: str, token: str | None) -> bool:
    """Constant-time check of a submitted token against the one the binding gives."""
    if not token:
        return False
    return hmac.compare_digest(token_for(secret, binding), token)
