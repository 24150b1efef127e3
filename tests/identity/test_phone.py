"""E.164 normalisation with Brazil's rules; every expected value worked out by hand."""

from __future__ import annotations

import pytest

from pulso.identity import normalize_phone

BRAZILIAN = [
    ("(11) 98765-4321", "+5511987654321"),  # the usual written form of a São Paulo mobile
    ("11987654321", "+5511987654321"),  # digits only
    ("11 98765 4321", "+5511987654321"),
    ("11.98765.4321", "+5511987654321"),
    ("+55 (11) 98765-4321", "+5511987654321"),  # international form
    ("+5511987654321", "+5511987654321"),  # already E.164
    ("5511987654321", "+5511987654321"),  # country code without +
    ("0055 11 98765-4321", "+5511987654321"),  # 00 international prefix
    ("011 98765-4321", "+5511987654321"),  # trunk 0 + DDD
    ("0 21 11 98765-4321", "+5511987654321"),  # trunk 0 + carrier 21 (Claro) + DDD
    ("0xx11 98765-4321", "+5511987654321"),  # the "any carrier" placeholder
    ("015 11 98765-4321", "+5511987654321"),  # carrier 15 (Vivo)
    ("(11) 8765-4321", "+5511987654321"),  # old 8-digit mobile: the leading 9 is added
    ("(21) 7123-4567", "+5521971234567"),  # old mobile starting with 7
    ("(41) 6123-4567", "+5541961234567"),  # old mobile starting with 6
    ("(21) 3456-7890", "+552134567890"),  # Rio landline keeps 8 digits
    ("(61) 2345-6789", "+556123456789"),  # Brasília landline
    ("(51) 4003-1234", "+555140031234"),  # landline starting with 4
    ("55 51 99876 5432", "+5551998765432"),  # DDD 55 exists too (RS): country code + DDD 51
    ("(55) 99876-5432", "+5555998765432"),  # DDD 55 without the country code
    ("(99) 98888-7777", "+5599988887777"),  # highest DDD
    ("  (11)98765-4321  ", "+5511987654321"),  # surrounding spaces
    (11987654321, "+5511987654321"),  # a number, as some CSV exports send it
]

FOREIGN = [
    ("+1 (415) 555-2671", "+14155552671"),
    ("+44 20 7946 0958", "+442079460958"),
    ("+351 912 345 678", "+351912345678"),
    ("00351912345678", "+351912345678"),
]

INVALID = [
    ("", "empty"),
    ("   ", "empty"),
    (None, "empty"),
    ("98765-4321", "missing area code (DDD)"),
    ("8765-4321", "missing area code (DDD)"),
    ("(20) 98765-4321", "unknown area code 20"),  # 20 is not a DDD
    ("(10) 3456-7890", "unknown area code 10"),
    ("(23) 3456-7890", "unknown area code 23"),
    ("(11) 88765-4321", "9-digit numbers must be mobiles starting with 9"),
    ("(11) 1234-5678", "landlines start with 2-5"),
    ("(11) 0234-5678", "landlines start with 2-5"),
    ("123", "wrong length (3 digits after the country code)"),
    ("+55 11 98765-43210", "wrong length (12 digits after the country code)"),
    ("11 98765-4321 ramal 2", "unexpected characters"),
    ("ligar depois", "unexpected characters"),
    ("+1 23", "not a valid international number"),
    ("11+987654321", "misplaced +"),
]


@pytest.mark.parametrize(("raw", "expected"), BRAZILIAN + FOREIGN)
def test_valid_numbers(raw: object, expected: str) -> None:
    result = normalize_phone(raw)
    assert (result.e164, result.problem) == (expected, None)
    assert result.is_valid


@pytest.mark.parametrize(("raw", "problem"), INVALID)
def test_invalid_numbers_say_why(raw: object, problem: str) -> None:
    result = normalize_phone(raw)
    assert (result.e164, result.problem) == (None, problem)
    assert not result.is_valid


def test_at_least_fifteen_brazilian_formats() -> None:
    assert len(BRAZILIAN) >= 15
