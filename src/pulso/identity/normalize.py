"""Identity keys from raw contact data, as pure functions: e-mail addresses and phone numbers.

Phone numbers become E.164 (``+5511987654321``) with Brazil's numbering rules. Brazilian numbers are written in
many ways: ``(11) 98765-4321``, ``011 98765 4321``, ``0 21 11 98765-4321`` (trunk 0 plus a long-distance carrier
code), ``55 11 98765 4321`` or the pre-2016 8-digit mobile form ``11 8765-4321``. All of them become ``+55`` + a
two-digit area code (DDD) + the subscriber number: 9 digits starting with 9 for mobiles, 8 digits starting with
2-5 for landlines. Numbers written with ``+`` (or ``00``) and another country code are kept as digits. Anything
else is invalid and says why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

BRAZIL = "55"
# Every area code (DDD) in use in Brazil (Anatel).
BRAZILIAN_AREA_CODES = frozenset(
    {
        *range(11, 20),
        21, 22, 24, 27, 28,
        31, 32, 33, 34, 35, 37, 38,
        *range(41, 50),
        51, 53, 54, 55,
        *range(61, 70),
        71, 73, 74, 75, 77, 79,
        *range(81, 90),
        *range(91, 100),
    }
)  # fmt: skip
CARRIER_PLACEHOLDER = re.compile(r"^0\s*xx\s*", re.IGNORECASE)
ALLOWED_CHARACTERS = re.compile(r"^[\d\s()+./-]+$")
E164_MIN_DIGITS, E164_MAX_DIGITS = 8, 15


@dataclass(frozen=True)
class PhoneResult:
    """A normalised number (``e164``) or the reason it is not one (``problem``)."""

    e164: str | None
    problem: str | None = None

    @property
    def is_valid(self) -> bool:
        return self.e164 is not None


def _invalid(problem: str) -> PhoneResult:
    return PhoneResult(None, problem)


def normalize_phone(raw: object) -> PhoneResult:
    """``raw`` as E.164, assuming Brazil when no country is written."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        raw = str(raw)
    if not isinstance(raw, str) or not raw.strip():
        return _invalid("empty")
    text = CARRIER_PLACEHOLDER.sub("0", raw.strip())  # "0xx11 ..." is written for "0 + any carrier + 11"
    if not ALLOWED_CHARACTERS.match(text):
        return _invalid("unexpected characters")
    if "+" in text[1:]:
        return _invalid("misplaced +")
    digits = re.sub(r"\D", "", text)
    if text.startswith("+"):
        return _international(digits)
    if digits.startswith("00"):  # international dialling prefix
        return _international(digits[2:])
    if digits.startswith("0"):  # trunk prefix, perhaps with a carrier code: 0 + [xx] + DDD + number
        national = digits[1:]
        if len(national) in (12, 13):
            national = national[2:]
        return _brazilian(national)
    if digits.startswith(BRAZIL) and len(digits) in (12, 13):
        return _brazilian(digits[2:])
    return _brazilian(digits)


def _international(digits: str) -> PhoneResult:
    if digits.startswith(BRAZIL):
        return _brazilian(digits[2:])
    if not E164_MIN_DIGITS <= len(digits) <= E164_MAX_DIGITS or digits.startswith("0"):
        return _invalid("not a valid international number")
    return PhoneResult("+" + digits)


def _brazilian(national: str) -> PhoneResult:
    """A national number: two-digit DDD + 8 or 9 digits."""
    if len(national) in (8, 9):
        return _invalid("missing area code (DDD)")
    if len(national) not in (10, 11):
        return _invalid(f"wrong length ({len(national)} digits after the country code)")
    area_code, subscriber = national[:2], national[2:]
    if int(area_code) not in BRAZILIAN_AREA_CODES:
        return _invalid(f"unknown area code {area_code}")
    if len(subscriber) == 9:
        if subscriber[0] != "9":
            return _invalid("9-digit numbers must be mobiles starting with 9")
    elif subscriber[0] in "6789":
        subscriber = "9" + subscriber  # old 8-digit mobile: the ninth digit was added in 2012-2016
    elif subscriber[0] not in "2345":
        return _invalid("landlines start with 2-5")
    return PhoneResult(f"+{BRAZIL}{area_code}{subscriber}")


EMAIL_PATTERN = re.compile(r"^[^@\s<>(),;:\"]+@[^@\s<>(),;:\"]+\.[a-z]{2,}$")
MAX_EMAIL_LENGTH = 254


def normalize_email(raw: object) -> str | None:
    """The address in canonical form (``" Ana@Ex.COM "`` -> ``"ana@ex.com"``), or None when it is not one.

    The local part is lower-cased too: mailbox providers treat it case-insensitively in practice, and two rows
    differing only in case are the same person far more often than two different people."""
    if not isinstance(raw, str):
        return None
    text = raw.strip().lower()
    if text.startswith("mailto:"):
        text = text[len("mailto:") :]
    if len(text) > MAX_EMAIL_LENGTH or not EMAIL_PATTERN.match(text):
        return None
    return text
