"""Password hashing: argon2 for new hashes, bcrypt hashes still verify (pwdlib)."""

from __future__ import annotations

import secrets

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from pwdlib.hashers.bcrypt import BcryptHasher

MIN_PASSWORD_LENGTH = 8

_hasher = PasswordHash((Argon2Hasher(), BcryptHasher()))
# Verified against when the e-mail is unknown, so that a miss costs as much time as a hit.
_DUMMY_HASH = _hasher.hash("pulso-timing-equaliser")


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"password too short: use at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    if password_hash is None:
        _hasher.verify(password, _DUMMY_HASH)
        return False
    return _hasher.verify(password, password_hash)


def generate_password() -> str:
    return secrets.token_urlsafe(12)
