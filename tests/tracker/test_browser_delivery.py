"""Delivery rules in Chromium with the collector's answers scripted by request interception: retry 5xx,
network errors and 429 (after Retry-After) with the same message ids; drop other client errors; bound the
persisted queue. The page is on its own origin, so the scripted answers carry the collector's CORS headers."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from .conftest import CHROMIUM_ARGS, Site, wait_until

COLLECTOR = "http://127.0.0.1:9"  # never reached: every request to it is answered by the test
CORS = {"access-control-allow-origin": "*", "access-control-expose-headers": "Retry-After"}
QUEUED = "() => JSON.parse(localStorage.getItem('pulso:queue:wk_test') || '[]')"


@pytest.fixture
def page(chromium_path: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            yield browser.new_page()
        finally:
            browser.close()


class ScriptedCollector:
    """Answers /v1/batch with the next scripted status (``None`` = connection refused), then 200s."""

    def __init__(self, page: Any, answers: list[tuple[int | None, dict[str, str]]]) -> None:
        self.answers = list(answers)
        self.requests: list[dict[str, Any]] = []
        self.warnings: list[str] = []
        page.on("console", lambda msg: self.warnings.append(msg.text) if msg.type == "warning" else None)
        page.route(f"{COLLECTOR}/v1/batch", self.answer)

    def answer(self, route: Any) -> None:
        request = route.request
        self.requests.append(
            {
                "at": time.monotonic(),
                "body": json.loads(request.post_data),
                "content_type": request.headers.get("content-type"),
                "method": request.method,
            }
        )
        status, headers = self.answers.pop(0) if self.answers else (200, {})
        if status is None:
            route.abort("connectionrefused")
        else:
            body = json.dumps({"success": 200 <= status < 300})
            route.fulfill(status=status, headers={**CORS, **headers}, content_type="application/json", body=body)

    def message_ids(self, number: int) -> list[str]:
        return [event["messageId"] for event in self.requests[number]["body"]["batch"]]


def open_site(page: Any, site: Site, **options: Any) -> None:
    url = site.add_page(
        "/", script_src=f"{site.url}/pulso.js", write_key="wk_test", options={"host": COLLECTOR, **options}
    )
    page.goto(url)
    page.wait_for_function("() => window.pulso && window.pulso.VERSION")


@pytest.mark.browser
def test_retries_keep_message_ids_and_honour_retry_after(page: Any, site: Site) -> None:
    collector = ScriptedCollector(page, [(503, {}), (None, {}), (429, {"Retry-After": "1"})])
    open_site(page, site, flushInterval=600_000, flushAt=2, maxRetryDelay=200)
    page.evaluate("() => pulso.track('Lead Created', {source: 'form'})")

    wait_until(lambda: len(collector.requests) == 4, page, message="three failures and a success")
    wait_until(lambda: page.evaluate(QUEUED) == [], page, message="the acknowledged events to leave the queue")
    first = collector.message_ids(0)
    assert len(first) == 2  # the snippet's page view and the track
    assert all(collector.message_ids(n) == first for n in range(4))
    assert {r["body"]["writeKey"] for r in collector.requests} == {"wk_test"}
    assert {(r["method"], r["content_type"]) for r in collector.requests} == {("POST", "text/plain")}
    assert collector.requests[3]["at"] - collector.requests[2]["at"] >= 0.9  # Retry-After: 1
    page.wait_for_timeout(500)
    assert len(collector.requests) == 4


@pytest.mark.browser
@pytest.mark.parametrize("status", [400, 401, 413])
def test_client_errors_are_dropped_not_retried(page: Any, site: Site, status: int) -> None:
    collector = ScriptedCollector(page, [(status, {})])
    open_site(page, site, flushInterval=100, maxRetryDelay=100)
    wait_until(lambda: page.evaluate(QUEUED) == [], page, message="the refused events to be dropped")
    page.wait_for_timeout(600)
    assert len(collector.requests) == 1
    assert any(f"HTTP {status}" in text for text in collector.warnings)


@pytest.mark.browser
def test_the_persisted_queue_keeps_the_newest_thousand_events(page: Any, site: Site) -> None:
    collector = ScriptedCollector(page, [])
    open_site(page, site, flushInterval=600_000, flushAt=5000)
    page.evaluate("() => { for (let n = 0; n < 1005; n++) pulso.track('Tick', {n}); }")
    queued = page.evaluate(QUEUED)
    assert len(queued) == 1000
    # The page view and Ticks 0-4 were the oldest; a warning said so each time.
    assert [event["properties"]["n"] for event in queued[:2]] == [5, 6]
    assert queued[-1]["properties"]["n"] == 1004
    assert sum("dropped the 1 oldest" in text for text in collector.warnings) == 6
    assert collector.requests == []
