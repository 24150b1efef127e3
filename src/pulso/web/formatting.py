"""Numbers, percentages, durations and dates as people read them: pt-BR (1.234 · 12,5% · 23/10/2025)
or English (1,234 · 12.5% · Oct 23, 2025)."""

from __future__ import annotations

import math
from datetime import date

from pulso.web.i18n import Locale

EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MINUS = "\u2212"  # a real minus sign, the width of the plus sign


def _localise(english: str, locale: Locale) -> str:
    """Swap the separators of an English-formatted number for pt-BR's (thousands '.', decimals ',')."""
    if locale != "pt-BR":
        return english
    return english.replace(",", "\0").replace(".", ",").replace("\0", ".")


def format_number(value: float, locale: Locale, *, digits: int = 0) -> str:
    if math.isnan(value) or math.isinf(value):
        return "—"
    text = _localise(f"{value:,.{digits}f}", locale)
    return text.replace("-", MINUS)


def format_percent(ratio: float, locale: Locale, *, digits: int = 1) -> str:
    """0.125 -> '12,5%' (pt-BR) or '12.5%' (en)."""
    return format_number(ratio * 100, locale, digits=digits) + "%"


def format_signed_percent(change: float, locale: Locale, *, digits: int = 1) -> str:
    """A relative change: 0.125 -> '+12,5%'; -0.03 -> '3,0%' after a real minus sign (U+2212)."""
    sign = "+" if change > 0 else ""
    return sign + format_percent(change, locale, digits=digits)


def format_points(change: float, locale: Locale, *, digits: int = 1) -> str:
    """A change of a ratio in percentage points: 0.05 -> '+5,0 p.p.' (pt-BR) or '+5.0 pts' (en)."""
    sign = "+" if change > 0 else ""
    unit = "p.p." if locale == "pt-BR" else "pts"
    return f"{sign}{format_number(change * 100, locale, digits=digits)} {unit}"


def format_duration(seconds: float, locale: Locale) -> str:
    """Two units at most, whole seconds: '45 s', '3 min 20 s', '2 h 5 min', '1 d 4 h'."""
    total = round(seconds)
    if total < 60:
        return f"{total} s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{format_number(days, locale)} d {hours} h" if hours else f"{format_number(days, locale)} d"


def format_date(value: date, locale: Locale) -> str:
    if locale == "pt-BR":
        return value.strftime("%d/%m/%Y")
    return f"{EN_MONTHS[value.month - 1]} {value.day}, {value.year}"
