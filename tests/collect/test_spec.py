"""The pure spec functions: clock-skew correction and event validation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from pulso.collect.spec import corrected_timestamp, event_problem, merge_batch_fields, parse_timestamp

RECEIVED = datetime(2024, 3, 1, 12, 0, 10, tzinfo=UTC)


def test_corrected_timestamp_removes_client_clock_skew() -> None:
    # the client's clock is 5 hours fast; it created the event 5 s before sending it
    sent = "2024-03-01T17:00:05Z"
    original = "2024-03-01T17:00:00Z"
    assert corrected_timestamp(RECEIVED, sent, original) == datetime(2024, 3, 1, 12, 0, 5, tzinfo=UTC)


def test_corrected_timestamp_offline_queue_and_offsets() -> None:
    # queued offline for a day on a clock 2 minutes slow, offset -03:00
    sent = datetime(2024, 3, 1, 8, 58, 10, tzinfo=timezone(timedelta(hours=-3)))
    original = datetime(2024, 2, 29, 8, 58, 10, tzinfo=timezone(timedelta(hours=-3)))
    assert corrected_timestamp(RECEIVED, sent, original) == RECEIVED - timedelta(days=1)


def test_corrected_timestamp_missing_values() -> None:
    assert corrected_timestamp(RECEIVED, None, None) == RECEIVED
    assert corrected_timestamp(RECEIVED, "2024-03-01T00:00:00Z", None) == RECEIVED
    assert corrected_timestamp(RECEIVED, None, "2024-02-01T00:00:00Z") == datetime(2024, 2, 1, tzinfo=UTC)


def test_corrected_timestamp_naive_is_utc_and_result_is_utc() -> None:
    result = corrected_timestamp("2024-03-01T12:00:10", "2024-03-01T12:00:01", datetime(2024, 3, 1, 12, 0, 0))
    assert result == datetime(2024, 3, 1, 12, 0, 9, tzinfo=UTC)
    assert result.tzinfo is not None
    assert result.utcoffset() == timedelta(0)


def test_parse_timestamp_accepts_z_and_fraction() -> None:
    assert parse_timestamp("2024-03-01T12:00:00.123Z") == datetime(2024, 3, 1, 12, 0, 0, 123000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        ([], "event: must be a JSON object, got array"),
        ({"type": "click", "userId": "u"}, "type: must be one of"),
        ({"type": "track", "userId": "u"}, "event: track needs a non-empty string event name"),
        ({"type": "track", "event": "x"}, "anonymousId, userId: at least one is required"),
        ({"type": "alias", "userId": "u"}, "previousId, userId: alias needs both"),
        ({"type": "group", "userId": "u"}, "groupId: group needs a groupId"),
        ({"type": "identify", "userId": "u", "traits": [1]}, "traits: must be an object, got array"),
        ({"type": "track", "event": "e", "userId": True}, "userId: must be a string, got boolean"),
        ({"type": "page", "userId": "u", "name": 3}, "name: must be a string, got number"),
        ({"type": "page", "userId": "u", "context": {"campaign": {"source": 1}}}, "context.campaign.source: must be"),
        ({"type": "page", "userId": "u", "context": {"page": "x"}}, "context.page: must be an object, got string"),
        ({"type": "page", "userId": "u", "timestamp": "yesterday"}, "timestamp: not an ISO-8601 timestamp"),
        ({"type": "page", "userId": "u", "sentAt": 5}, "sentAt: must be an ISO-8601 string, got number"),
        ({"type": "page", "userId": "u", "messageId": ""}, "messageId: must not be empty"),
    ],
)
def test_event_problem_names_field_and_reason(event: object, reason: str) -> None:
    problem = event_problem(event)
    assert problem is not None
    assert problem.startswith(reason)


@pytest.mark.parametrize(
    "event",
    [
        {"type": "track", "event": "Signed Up", "userId": "u1", "properties": {"plan": "pro"}},
        {"type": "identify", "anonymousId": "a1", "traits": {"email": "a@b.c"}},
        {"type": "page", "anonymousId": "a1", "name": "Home", "context": {"page": {"url": "https://x"}}},
        {"type": "screen", "userId": 42, "name": "Settings"},
        {"type": "group", "userId": "u1", "groupId": "g1", "traits": {}},
        {"type": "alias", "previousId": "a1", "userId": "u1"},
    ],
)
def test_valid_events_pass(event: dict[str, object]) -> None:
    assert event_problem(event) is None


def test_merge_batch_fields_item_wins() -> None:
    item = {"context": {"ip": "1.1.1.1"}, "sentAt": "2024-01-01T00:00:01Z"}
    merge_batch_fields(item, {"ip": "2.2.2.2", "userAgent": "ua"}, "2024-01-01T00:00:09Z")
    assert item == {"context": {"ip": "1.1.1.1", "userAgent": "ua"}, "sentAt": "2024-01-01T00:00:01Z"}
    bare: dict[str, object] = {}
    merge_batch_fields(bare, {"ip": "2.2.2.2"}, "2024-01-01T00:00:09Z")
    assert bare == {"context": {"ip": "2.2.2.2"}, "sentAt": "2024-01-01T00:00:09Z"}
