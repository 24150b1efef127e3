"""The Newton-Raphson logistic regression used to check effect 6 recovers known coefficients."""

from __future__ import annotations

import numpy as np
import pytest

from pulso.demo.effects import LEAD_CONVERSION_COEFFICIENTS, LEAD_CONVERSION_INTERCEPT, conversion_log_odds
from pulso.demo.verify import FEATURES, design_row, fit_logistic


def test_fit_recovers_simulated_coefficients_within_their_standard_errors() -> None:
    rng = np.random.default_rng(3)
    n = 20_000
    x = np.column_stack([rng.random(n) < 0.3, rng.normal(size=n), rng.poisson(3, size=n)]).astype(float)
    beta = np.array([-1.0, 0.8, -0.5, 0.3])
    y = (rng.random(n) < 1 / (1 + np.exp(-(beta[0] + x @ beta[1:])))).astype(float)
    fit = fit_logistic(x, y, names=["a", "b", "c"])
    assert fit.iterations < 15
    assert abs(fit.intercept - beta[0]) < 4 * fit.intercept_standard_error
    for name, truth in zip("abc", beta[1:], strict=True):
        assert abs(fit.coefficients[name] - truth) < 4 * fit.standard_errors[name]
        assert fit.standard_errors[name] < 0.05


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="features must be"):
        fit_logistic(np.zeros((3, 2)), np.zeros(3), names=["a"])
    with pytest.raises(ValueError, match="0 or 1"):
        fit_logistic(np.zeros((3, 1)), np.array([0.0, 2.0, 1.0]), names=["a"])


def test_design_row_matches_the_documented_log_odds() -> None:
    attributes = {
        "is_referral": True,
        "first_response_under_5min": False,
        "asked_price": True,
        "messages_in_first_conversation": 4,
        "channel": "instagram",
        "procedure_interest": "canal",
    }
    row = dict(zip(FEATURES, design_row(attributes), strict=True))
    expected = LEAD_CONVERSION_INTERCEPT + 1.10 - 0.45 + 4 * 0.22 - 0.55 + 0.90
    assert conversion_log_odds(row) == pytest.approx(expected)
    assert sum(
        LEAD_CONVERSION_COEFFICIENTS[k] * v for k, v in row.items()
    ) + LEAD_CONVERSION_INTERCEPT == pytest.approx(expected)


def test_the_generator_uses_the_documented_log_odds() -> None:
    from pulso.demo.effects import PROCEDURES
    from pulso.demo.sorriso_leads import INSTAGRAM, WHATSAPP, lead_log_odds

    rng = np.random.default_rng(5)
    n = 200
    referral, fast, asked = (rng.random((3, n)) < 0.5).astype(bool)
    messages = rng.integers(1, 10, size=n)
    inbox = np.where(rng.random(n) < 0.4, INSTAGRAM, WHATSAPP)
    procedure = rng.integers(len(PROCEDURES), size=n)
    generated = lead_log_odds(referral, fast, asked, messages, inbox, procedure)
    for i in range(n):
        attributes = {
            "is_referral": referral[i],
            "first_response_under_5min": fast[i],
            "asked_price": asked[i],
            "messages_in_first_conversation": int(messages[i]),
            "channel": "instagram" if inbox[i] == INSTAGRAM else "whatsapp",
            "procedure_interest": PROCEDURES[procedure[i]],
        }
        features = dict(zip(FEATURES, design_row(attributes), strict=True))
        assert generated[i] == pytest.approx(conversion_log_odds(features))
