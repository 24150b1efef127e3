"""Cell parsing rules (no database): ISO and pt-BR numbers and dates, and what is refused as ambiguous."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from pulso.collect.imports import values
from pulso.collect.imports.sources import sniff_delimiter

SAO_PAULO = ZoneInfo("America/Sao_Paulo")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1234", "1234"),
        ("1234.56", "1234.56"),
        ("1234,56", "1234.56"),
        ("1.234,56", "1234.56"),
        ("1,234.56", "1234.56"),
        ("R$ 1.234,56", "1234.56"),
        ("1.234.567", "1234567"),
        ("1.234.567,5", "1234567.5"),
        ("-12,5", "-12.5"),
        ("0,125", "0.125"),
        ("12345,678", "12345.678"),
        (49.9, "49.9"),
        (7, "7"),
    ],
)
def test_numbers(raw: object, expected: str) -> None:
    assert values.number(raw) == Decimal(expected)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("1.234", "ambiguous"),
        ("12,345", "ambiguous"),
        ("1.23.4", "misplaced thousands separator"),
        ("1,23.4", "misplaced thousands separator"),
        ("12a", "is not a number"),
        ("", "is not a number"),
        ("1.234,56,7", "is not a number"),
    ],
)
def test_numbers_refused(raw: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        values.number(raw)


def test_money_and_counts() -> None:
    assert values.money("0,125") == Decimal("0.13")  # to the cent, half up
    assert values.money("1.234.567,891") == Decimal("1234567.89")
    with pytest.raises(ValueError, match="negative"):
        values.money("-1")
    assert values.count("1.500.000") == 1_500_000
    with pytest.raises(ValueError, match="whole number"):
        values.count("2,5")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-01-31", datetime(2026, 1, 31, 3, tzinfo=UTC)),
        ("2026-01-31T14:30:00", datetime(2026, 1, 31, 17, 30, tzinfo=UTC)),
        ("2026-01-31 14:30:00Z", datetime(2026, 1, 31, 14, 30, tzinfo=UTC)),
        ("2026-01-31T14:30:00+01:00", datetime(2026, 1, 31, 13, 30, tzinfo=UTC)),
        ("31/01/2026", datetime(2026, 1, 31, 3, tzinfo=UTC)),
        ("31/01/2026 14:30", datetime(2026, 1, 31, 17, 30, tzinfo=UTC)),
        ("5/2/2026 08:05:09", datetime(2026, 2, 5, 11, 5, 9, tzinfo=UTC)),  # day first: 5 February
        (date(2026, 1, 31), datetime(2026, 1, 31, 3, tzinfo=UTC)),
    ],
)
def test_timestamps_in_the_tenant_zone(raw: object, expected: datetime) -> None:
    assert values.timestamp(raw, SAO_PAULO) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("01/31/2026", "looks month-first"),
        ("31/02/2026", "not a valid date"),
        ("31/01/26", "is not a date"),
        ("ontem", "is not a date"),
    ],
)
def test_timestamps_refused(raw: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        values.timestamp(raw, SAO_PAULO)


def test_days() -> None:
    assert values.day("31/01/2026") == values.day("2026-01-31") == date(2026, 1, 31)
    with pytest.raises(ValueError, match="timestamp, expected a day"):
        values.day("2026-01-31 10:00")


def test_identities() -> None:
    assert values.email(" Ana@Example.COM ") == "ana@example.com"
    assert values.phone("(11) 91234-5678") == "+5511912345678"
    with pytest.raises(ValueError, match="not a phone number"):
        values.phone("12345")


@pytest.mark.parametrize(
    ("header", "delimiter"),
    [("a,b,c", ","), ("a;b;c", ";"), ("a\tb\tc", "\t"), ("a|b", "|"), ('"x;y",b,c', ","), ("single", ",")],
)
def test_delimiter_sniffing(header: str, delimiter: str) -> None:
    assert sniff_delimiter(header + "\n") == delimiter


def test_non_finite_floats_are_not_numbers() -> None:
    with pytest.raises(ValueError, match="is not a number"):
        values.money(float("nan"))
