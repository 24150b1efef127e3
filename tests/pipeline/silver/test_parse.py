"""One bronze payload -> one typed event: names, UTM, clock-skew correction and the quarantine reasons."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from pulso.pipeline.silver.parse import RefineError, parse_event

RECEIVED = datetime(2026, 3, 2, 12, 0, 0, tzinfo=UTC)


def parse(payload: dict[str, Any], kind: str = "track") -> Any:
    return parse_event(1, kind, "raw-mid", payload, RECEIVED)


def test_clock_skew_is_corrected() -> None:
    # The client's clock is 2 hours fast: it created the event at "14:00:00", sent it at "14:00:05" (its clock);
    # the server received it at 12:00:00. Event time = 12:00:00 - 5 s = 11:59:55.
    event = parse(
        {
            "type": "track",
            "event": "x",
            "anonymousId": "a",
            "originalTimestamp": "2026-03-02T14:00:00Z",
            "sentAt": "2026-03-02T14:00:05.000Z",
        }
    )
    assert event.occurred_at == datetime(2026, 3, 2, 11, 59, 55, tzinfo=UTC)
    assert event.original_timestamp == datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
    assert event.sent_at == datetime(2026, 3, 2, 14, 0, 5, tzinfo=UTC)
    assert event.received_at == RECEIVED


def test_timestamp_without_sent_at_is_trusted_and_nothing_means_received() -> None:
    historic = parse({"type": "track", "event": "x", "userId": "u", "timestamp": "2025-01-01T10:00:00-03:00"})
    assert historic.occurred_at == datetime(2025, 1, 1, 13, 0, tzinfo=UTC)
    assert parse({"type": "track", "event": "x", "userId": "u"}).occurred_at == RECEIVED


def test_names_properties_and_campaign() -> None:
    page = parse(
        {
            "type": "page",
            "name": "Preços",
            "anonymousId": "a",
            "properties": {"path": "/precos"},
            "context": {
                "campaign": {"source": "google", "medium": "cpc", "name": "bf", "term": "dentista"},
                "page": {"url": "https://acme.com.br/precos?utm_source=ignored", "referrer": "https://google.com/"},
            },
        },
        kind="page",
    )
    assert (page.type, page.name, page.properties) == ("page", "Preços", {"path": "/precos"})
    assert page.utm == {"source": "google", "medium": "cpc", "campaign": "bf", "term": "dentista"}
    assert page.touch.channel == "paid_search"
    identify = parse({"type": "identify", "userId": "u", "traits": {"email": "a@b.com"}}, kind="identify")
    assert (identify.name, identify.properties) == (None, {"email": "a@b.com"})
    alias = parse({"type": "alias", "userId": "u", "previousId": "a"}, kind="alias")
    assert (alias.previous_id, alias.properties) == ("a", {"previousId": "a"})


def test_utm_from_the_page_url_when_campaign_is_absent() -> None:
    url = "https://acme.com.br/?utm_source=facebook&utm_medium=paid&utm_campaign=promo"
    event = parse({"type": "page", "anonymousId": "a", "context": {"page": {"url": url}}}, kind="page")
    assert event.utm == {"source": "facebook", "medium": "paid", "campaign": "promo"}
    assert event.touch.channel == "paid_social"
    search = parse({"type": "page", "anonymousId": "a", "context": {"page": {"search": "?utm_source=newsletter"}}})
    assert search.utm == {"source": "newsletter"}


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ({"type": "track", "event": "x", "anonymousId": "a", "timestamp": "ontem"}, "timestamp: unparseable"),
        ({"type": "track", "event": "x", "anonymousId": "a", "sentAt": 1700000000}, "sentAt: expected an ISO"),
        ({"type": "track", "event": "x"}, "anonymousId/userId"),
        ({"type": "track", "anonymousId": "a"}, "event: a track call needs an event name"),
        ({"type": "launch", "anonymousId": "a"}, "type: unknown event type"),
        ({"type": "alias", "userId": "u"}, "alias: needs previousId and userId"),
        ({"type": "track", "event": "x", "anonymousId": "a" * 201}, "anonymousId: longer than 200"),
        ({"type": "track", "event": "x", "anonymousId": "a", "properties": [1]}, "properties: expected an object"),
    ],
)
def test_unrefinable_payloads_say_why(payload: dict[str, Any], reason: str) -> None:
    with pytest.raises(RefineError, match=reason.replace("(", r"\(")):
        parse(payload, kind=str(payload.get("type")))


def test_a_payload_that_is_not_an_object() -> None:
    with pytest.raises(RefineError, match="payload: expected an object"):
        parse_event(1, "track", "m", ["not", "an", "object"], RECEIVED)
