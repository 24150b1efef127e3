"""pt-BR and English number, percentage, duration and date formats (no database)."""

from __future__ import annotations

from datetime import date

import pytest

from pulso.web.formatting import (
    format_date,
    format_duration,
    format_number,
    format_percent,
    format_points,
    format_signed_percent,
)


@pytest.mark.parametrize(
    ("value", "digits", "pt", "en"),
    [
        (1234, 0, "1.234", "1,234"),
        (1234567.891, 2, "1.234.567,89", "1,234,567.89"),
        (12.5, 1, "12,5", "12.5"),
        (0, 0, "0", "0"),
        (-1500, 0, "\u22121.500", "\u22121,500"),
    ],
)
def test_numbers(value: float, digits: int, pt: str, en: str) -> None:
    assert format_number(value, "pt-BR", digits=digits) == pt
    assert format_number(value, "en", digits=digits) == en


def test_percentages_and_changes() -> None:
    assert format_percent(0.125, "pt-BR") == "12,5%"
    assert format_percent(0.125, "en") == "12.5%"
    assert format_signed_percent(0.5, "pt-BR") == "+50,0%"
    assert format_signed_percent(-0.0312, "pt-BR") == "\u22123,1%"
    assert format_signed_percent(0.0, "en") == "0.0%"
    assert format_points(0.05, "pt-BR") == "+5,0 p.p."
    assert format_points(-0.25, "en") == "\u221225.0 pts"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0 s"),
        (45.4, "45 s"),
        (59.6, "1 min"),
        (200, "3 min 20 s"),
        (3600, "1 h"),
        (3900, "1 h 5 min"),
        (86400 + 4 * 3600 + 59, "1 d 4 h"),
        (3 * 86400, "3 d"),
    ],
)
def test_durations(seconds: float, text: str) -> None:
    assert format_duration(seconds, "pt-BR") == text


def test_dates() -> None:
    assert format_date(date(2025, 3, 7), "pt-BR") == "07/03/2025"
    assert format_date(date(2025, 3, 7), "en") == "Mar 7, 2025"
