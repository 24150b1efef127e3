"""Cell parsers: numbers and dates written the ISO way or the Brazilian way, e-mails, phones, short texts.

Every parser takes the cell (text from CSV, or a typed value from Parquet) and returns the typed value, or
raises :class:`ValueError` whose message is the reason shown in the rejects file. The rules are in docs/imports.md.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, time, tzinfo
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from pulso.identity import normalize_email, normalize_phone

_GROUPED = {".": re.compile(r"^\d{1,3}(\.\d{3})+$"), ",": re.compile(r"^\d{1,3}(,\d{3})+$")}
_BR_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")


def text(value: Any, max_length: int) -> str:
    cleaned = str(value).strip()
    if len(cleaned) > max_length:
        raise ValueError(f"longer than {max_length} characters")
    return cleaned


def number(value: Any) -> Decimal:
    """``1234.56``, ``1234,56``, ``1.234,56``, ``1,234.56``, ``R$ 1.234,56``; refuses ``1.234`` and ``1,234``.

    A lone separator followed by exactly three digits could be a thousands separator (pt-BR ``1.234`` = 1234)
    or a decimal one (ISO ``1.234`` = 1.234), so that value is refused rather than guessed.
    """
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number")
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} is not a number")
        return Decimal(repr(value))
    raw = str(value).strip()
    cleaned = raw.removeprefix("R$").replace(" ", "").replace("\u00a0", "")
    sign = ""
    if cleaned[:1] in "+-" and cleaned:
        sign, cleaned = ("-" if cleaned[0] == "-" else ""), cleaned[1:]
    if not cleaned or not re.fullmatch(r"[\d.,]+", cleaned):
        raise ValueError(f"{raw!r} is not a number")
    last_dot, last_comma = cleaned.rfind("."), cleaned.rfind(",")
    if last_dot >= 0 and last_comma >= 0:  # both: the last one is the decimal separator
        decimal_sep = "." if last_dot > last_comma else ","
        whole, fraction = cleaned[: max(last_dot, last_comma)], cleaned[max(last_dot, last_comma) + 1 :]
        thousands = "," if decimal_sep == "." else "."
        if not _GROUPED[thousands].match(whole) or not fraction.isdigit():
            raise ValueError(f"{raw!r} is not a number (misplaced thousands separator)")
        digits = whole.replace(thousands, "") + "." + fraction
    elif last_dot >= 0 or last_comma >= 0:
        separator = "." if last_dot >= 0 else ","
        parts = cleaned.split(separator)
        if len(parts) > 2:  # 1.234.567: thousands only
            if not _GROUPED[separator].match(cleaned):
                raise ValueError(f"{raw!r} is not a number (misplaced thousands separator)")
            digits = "".join(parts)
        else:
            whole, fraction = parts
            if len(fraction) == 3 and whole.isdigit() and 1 <= len(whole) <= 3 and whole[0] != "0":
                raise ValueError(f"{raw!r} is ambiguous (thousands or decimals?); write 1234 or 1234,00")
            if not whole.isdigit() or not fraction.isdigit():
                raise ValueError(f"{raw!r} is not a number")
            digits = f"{whole}.{fraction}"
    else:
        digits = cleaned
    try:
        return Decimal(sign + digits)
    except InvalidOperation:
        raise ValueError(f"{raw!r} is not a number") from None


def money(value: Any) -> Decimal:
    amount = number(value)
    if amount < 0:
        raise ValueError(f"{value!r} is negative")
    return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)  # to the cent, as money is rounded


def count(value: Any) -> int:
    parsed = number(value)
    if parsed != parsed.to_integral_value() or parsed < 0:
        raise ValueError(f"{value!r} is not a whole number >= 0")
    return int(parsed)


def day(value: Any) -> date:
    """``2026-01-31`` or ``31/01/2026`` (day first, as in Brazil)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    moment = _parse_moment(str(value).strip())
    if moment.time() != time(0):
        raise ValueError(f"{value!r} is a timestamp, expected a day")
    return moment.date()


def timestamp(value: Any, zone: tzinfo) -> datetime:
    """ISO 8601 (with or without offset) or ``31/01/2026 14:30``; without an offset it is the tenant's local time."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time(0))
    else:
        moment = _parse_moment(str(value).strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


def _parse_moment(raw: str) -> datetime:
    match = _BR_DATE.match(raw)
    if match:
        first, second, year, hour, minute, second_of_minute = match.groups()
        if int(second) > 12 and int(first) <= 12:
            raise ValueError(f"{raw!r} looks month-first; dates with slashes are read day first (31/01/2026)")
        try:
            return datetime(
                int(year), int(second), int(first), int(hour or 0), int(minute or 0), int(second_of_minute or 0)
            )
        except ValueError:
            raise ValueError(f"{raw!r} is not a valid date") from None
    try:
        return datetime.fromisoformat(raw.replace("z", "Z"))
    except ValueError:
        raise ValueError(f"{raw!r} is not a date (use 2026-01-31, 2026-01-31T14:30:00 or 31/01/2026)") from None


def email(value: Any) -> str:
    normalized = normalize_email(str(value))
    if normalized is None:
        raise ValueError(f"{value!r} is not an e-mail address")
    return normalized


def phone(value: Any) -> str:
    """E.164 with Brazil's numbering rules (the shared identity normaliser)."""
    result = normalize_phone(value if isinstance(value, int) else str(value))
    if result.e164 is None:
        raise ValueError(f"{value!r} is not a phone number ({result.problem})")
    return result.e164


def choice(value: Any, options: tuple[str, ...]) -> str:
    cleaned = str(value).strip().lower()
    if cleaned not in options:
        raise ValueError(f"{value!r} is not one of {', '.join(options)}")
    return cleaned


def currency(value: Any) -> str:
    cleaned = str(value).strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", cleaned):
        raise ValueError(f"{value!r} is not a three-letter currency code like BRL")
    return cleaned


def utc_now() -> datetime:
    return datetime.now(UTC)
