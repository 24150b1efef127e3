"""Language selection and the translation table (no database)."""

from __future__ import annotations

import re

import pytest

from pulso.web.i18n import MESSAGES, from_accept_language, normalise_locale, translate


@pytest.mark.parametrize(
    ("value", "locale"),
    [("pt-BR", "pt-BR"), ("pt_br", "pt-BR"), ("pt", "pt-BR"), ("en-US", "en"), ("EN", "en"), ("fr", None), ("", None)],
)
def test_normalise_locale(value: str, locale: str | None) -> None:
    assert normalise_locale(value) == locale


def test_accept_language_respects_quality() -> None:
    assert from_accept_language("fr-FR,en;q=0.8,pt-BR;q=0.9") == "pt-BR"
    assert from_accept_language("en-GB,pt;q=0.5") == "en"
    assert from_accept_language("pt;q=0, en;q=0.1") == "en"
    assert from_accept_language("de, fr") is None
    assert from_accept_language("en;q=abc, pt") == "pt-BR"


def test_translate_fills_placeholders_and_shows_missing_keys() -> None:
    assert translate("pt-BR", "overview.days", days=7) == "7 dias"
    assert translate("en", "overview.days", days=7) == "7 days"
    assert translate("en", "no.such.key") == "no.such.key"


def test_every_string_has_both_languages_with_the_same_placeholders() -> None:
    for key, (portuguese, english) in MESSAGES.items():
        assert portuguese and english, key
        assert set(re.findall(r"{(\w+)}", portuguese)) == set(re.findall(r"{(\w+)}", english)), key
