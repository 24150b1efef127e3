"""An activity lead feature's value as a salesperson reads it: ``Came through referral``, ``Last message 3 days ago``.

The reasons (:func:`pulso.ml.leads.reasons.reasons`) choose the features that pushed a lead's score most; these
phrases describe the lead's own value of each, and the caller appends ``(raises)`` or ``(lowers)``. Columns of
:data:`pulso.ml.lead_frame.FEATURES` plus the lead's age (``hours_since_start``); any other column keeps the
generic wording of the reasons.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from pulso.ml.lead_frame import DECAY_DAYS

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _count(n: float, one: str, many: str) -> str:
    whole = int(n)
    return f"{whole:,} {one if whole == 1 else many}"


def duration(hours: float) -> str:
    """``45 min``, ``5 h``, ``3 days``: whole units, the largest that reads naturally."""
    if hours < 1:
        return f"{max(1, round(hours * 60))} min"
    if hours < 48:
        return f"{round(hours)} h"
    return _count(round(hours / 24), "day", "days")


def _none_or(count: str, none: str, one: str, many: str) -> Callable[[float], str]:
    def words(n: float) -> str:
        return none if n == 0 else f"{_count(n, one, many)} {count}".rstrip()

    return words


def _decay(value: float) -> str:
    # engagement_decay = exp(-days / DECAY_DAYS): the days since the last message, read back
    if value <= 0:
        return "No message for a long time"
    return f"Last message {duration(-math.log(value) * DECAY_DAYS * 24)} ago"


NUMERIC: dict[str, Callable[[float], str]] = {
    "start_hour": lambda h: f"First contact at {int(h):02d}h",
    "start_weekday": lambda d: f"First contact on a {WEEKDAYS[int(d) - 1]}" if 1 <= d <= 7 else f"Weekday {d:g}",
    "conversations": _none_or("", "No conversation yet", "conversation", "conversations"),
    "messages_in": _none_or("from the lead", "No message from the lead", "message", "messages"),
    "messages_out": _none_or("sent to the lead", "No reply sent yet", "reply", "replies"),
    "first_response_seconds": lambda s: f"First answered after {duration(s / 3600)}",
    "answered": lambda a: "Answered by the team" if a >= 1 else "Not answered by a person yet",
    "days_since_last_message": lambda d: f"Last message {duration(d * 24)} ago",
    "engagement_decay": _decay,
    "events": _none_or("on the site or app", "No activity on the site or app", "event", "events"),
    "page_views": _none_or("", "No page viewed", "page view", "page views"),
    "ai_score": lambda s: f"AI conversion score {s:.0f} of 100",
    "hours_since_start": lambda h: f"Lead for {duration(h)}",
}
CATEGORICAL: dict[str, Callable[[str], str]] = {
    "first_touch_channel": lambda v: f"Came through {v}",
    "first_touch_campaign": lambda v: f"Campaign {v}",
    "first_inbox_channel": lambda v: f"First contact on {v}",
    "ai_interest": lambda v: f"AI interest: {v}",
}
WHEN_MISSING = {
    "first_touch_channel": "First-touch channel unknown",
    "first_touch_campaign": "No campaign",
    "first_inbox_channel": "No conversation yet",
    "first_response_seconds": "Not answered by a person yet",
    "days_since_last_message": "No message yet",
    "engagement_decay": "No message yet",
    "ai_interest": "Not analysed by AI yet",
    "ai_score": "Not analysed by AI yet",
}


def known(column: str) -> bool:
    return column in NUMERIC or column in CATEGORICAL


def phrase(column: str, value: Any) -> str:
    """How one lead's ``value`` of activity feature ``column`` reads (None or NaN: missing)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return WHEN_MISSING.get(column, f"{column} is missing")
    if column in CATEGORICAL:
        return CATEGORICAL[column](str(value))
    return NUMERIC[column](float(value))
