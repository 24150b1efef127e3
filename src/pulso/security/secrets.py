"""Encrypting source credentials (e.g. a Chatwoot connection string) at rest with the installation's key.

Fernet (AES-128-CBC + HMAC-SHA256) with a key derived by HKDF-SHA256 from the installation key, so the session
signing secret itself never encrypts anything and a leaked database dump alone does not reveal the credentials.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from pulso.config import Settings, get_settings
from pulso.errors import InvalidInputError

HKDF_INFO = b"pulso source secrets v1"


def _fernet(settings: Settings | None) -> Fernet:
    installation_key = (settings or get_settings()).session_secret().encode()
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=HKDF_INFO).derive(installation_key)
    return Fernet(base64.urlsafe_b64encode(derived))


def encrypt_secret(plaintext: str, settings: Settings | None = None) -> str:
    """An opaque, authenticated token for ``plaintext``; safe to store in the database."""
    return _fernet(settings).encrypt(plaintext.encode()).decode("ascii")


def decrypt_secret(token: str, settings: Settings | None = None) -> str:
    """The plaintext of a token made by :func:`encrypt_secret` with the same installation key."""
    try:
        return _fernet(settings).decrypt(token).decode()
    except (InvalidToken, ValueError, TypeError):
        raise InvalidInputError(
            "secret: a stored credential cannot be decrypted; the installation key (PULSO_SECRET_KEY or "
            "data/secret_key) has probably changed since the source was added. Restore the old key, or remove "
            "the source and add it again."
        ) from None
