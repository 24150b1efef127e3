"""The activity lead score's reasons in a salesperson's words."""

from __future__ import annotations

import math

import pytest

from pulso.ml.lead_frame import FEATURES
from pulso.ml.leads.words import duration, known, phrase


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("first_touch_channel", "referral", "Came through referral"),
        ("first_inbox_channel", "whatsapp", "First contact on whatsapp"),
        ("ai_interest", "Alto", "AI interest: Alto"),
        ("start_hour", 8.0, "First contact at 08h"),
        ("start_weekday", 6.0, "First contact on a Saturday"),
        ("messages_in", 0.0, "No message from the lead"),
        ("messages_in", 1.0, "1 message from the lead"),
        ("messages_out", 3.0, "3 replies sent to the lead"),
        ("conversations", 2.0, "2 conversations"),
        ("first_response_seconds", 1800.0, "First answered after 30 min"),
        ("first_response_seconds", 7 * 3600.0, "First answered after 7 h"),
        ("answered", 0.0, "Not answered by a person yet"),
        ("days_since_last_message", 4.83, "Last message 5 days ago"),
        ("engagement_decay", math.exp(-3 / 7), "Last message 3 days ago"),
        ("page_views", 12.0, "12 page views"),
        ("ai_score", 72.4, "AI conversion score 72 of 100"),
        ("hours_since_start", 40.2, "Lead for 40 h"),
        ("first_response_seconds", float("nan"), "Not answered by a person yet"),
        ("ai_interest", None, "Not analysed by AI yet"),
    ],
)
def test_phrases(column: str, value: object, expected: str) -> None:
    assert phrase(column, value) == expected


def test_every_activity_feature_has_words() -> None:
    assert [c for c in FEATURES if not known(c)] == []
    assert not known("lead_source")  # an imported file's column keeps the generic wording


def test_durations_round_to_the_unit_that_reads() -> None:
    assert [duration(h) for h in (0.001, 0.5, 1.4, 47.6, 48, 24 * 10.4)] == [
        "1 min",
        "30 min",
        "1 h",
        "48 h",
        "2 days",
        "10 days",
    ]
