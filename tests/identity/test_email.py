from __future__ import annotations

import pytest

from pulso.identity import normalize_email


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (" Ana@Example.COM ", "ana@example.com"),
        ("ana.silva+promo@empresa.com.br", "ana.silva+promo@empresa.com.br"),
        ("mailto:Joao@X.io", "joao@x.io"),
        ("", None),
        ("ana", None),
        ("ana@", None),
        ("ana@example", None),
        ("ana silva@example.com", None),
        ("a@b@example.com", None),
        (None, None),
        (42, None),
        ("x" * 250 + "@example.com", None),
    ],
)
def test_normalize_email(raw: object, expected: str | None) -> None:
    assert normalize_email(raw) == expected
