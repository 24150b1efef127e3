"""Identity normalisation: the pure functions that turn raw e-mails and phone numbers into identity keys."""

from pulso.identity.normalize import PhoneResult, normalize_email, normalize_phone

__all__ = ["PhoneResult", "normalize_email", "normalize_phone"]
