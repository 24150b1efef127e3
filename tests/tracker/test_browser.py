"""The tracker in Chromium against the real collector: a site on its own origin embeds the snippet, and the
events must land in the tenant's bronze rows (raw_events). Cross-origin throughout, so CORS is exercised."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from .conftest import CHROMIUM_ARGS, LiveCollector, Site, Tenant, stored_events, wait_until

UUID_V4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
CAMPAIGN_QUERY = "utm_source=google&utm_medium=cpc&utm_campaign=black+friday&utm_term=dentista&utm_content=hero"
CAMPAIGN = {"source": "google", "medium": "cpc", "name": "black friday", "term": "dentista", "content": "hero"}
BUY_BUTTON = (
    "<button id='buy'>Comprar</button><script>document.getElementById('buy').addEventListener('click', "
    "function () { pulso.track('Order Completed', {revenue: 99.9, currency: 'BRL'}); });</script>"
)
QUEUED = "() => Object.keys(localStorage).filter(k => k.startsWith('pulso:queue:'))" + (
    ".flatMap(k => JSON.parse(localStorage.getItem(k)))"
)
PULSO_STORAGE = (
    "() => [...Object.keys(localStorage), ...Object.keys(sessionStorage), ...document.cookie.split('; ')]"
    ".filter(k => k.startsWith('pulso'))"
)


@pytest.fixture
def browser(chromium_path: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


class Watcher:
    """Script errors and requests to the collector's /v1/batch, with Chromium's resource type."""

    def __init__(self, page: Any) -> None:
        self.problems: list[str] = []
        self.batch_requests: list[str] = []
        page.on("pageerror", lambda exc: self.problems.append(str(exc)))
        page.on("console", lambda msg: self.problems.append(msg.text) if msg.type == "error" else None)
        page.on("request", self.request)

    def request(self, request: Any) -> None:
        if request.url.endswith("/v1/batch"):
            self.batch_requests.append(request.resource_type)


def by_type(events: list[dict[str, Any]]) -> list[str]:
    return [event["type"] + (":" + event["event"] if event["type"] == "track" else "") for event in events]


@pytest.mark.browser
def test_page_track_identify_arrive_with_the_landing_campaign(
    browser: Any, collector: LiveCollector, site: Site, tenant: Tenant
) -> None:
    script = f"{collector.url}/t/pulso.js"  # served by the collector; host defaults to the script's origin
    options = {"flushInterval": 200}
    landing = site.add_page("/landing", script_src=script, write_key=tenant.write_key, options=options, body=BUY_BUTTON)
    pricing = site.add_page("/pricing", script_src=script, write_key=tenant.write_key, options=options)
    assert site.url != collector.url

    page = browser.new_page(locale="pt-BR")
    watcher = Watcher(page)
    page.goto(f"{landing}?{CAMPAIGN_QUERY}", referer="https://www.google.com/")
    page.wait_for_function("() => window.pulso && window.pulso.VERSION")
    page.evaluate("() => pulso.identify('user-42', {email: 'ana@gama.test', plan: 'pro'})")
    page.click("#buy")
    wait_until(lambda: len(stored_events(tenant.id)) == 3, page, message="the landing page's three events")
    # A later page without UTM parameters: its events still carry the landing campaign (sessionStorage).
    page.goto(pricing)
    page.evaluate("() => pulso.track('Plan Viewed', {plan: 'pro'})")
    events = wait_until(
        lambda: (rows := stored_events(tenant.id)) and len(rows) == 5 and rows, page, message="5 events"
    )
    wait_until(lambda: page.evaluate(QUEUED) == [], page, message="the acknowledged events to leave the queue")

    by_message = sorted(events, key=lambda event: event["timestamp"])
    assert by_type(by_message) == ["page", "identify", "track:Order Completed", "page", "track:Plan Viewed"]
    landing_page, identify, order, pricing_page, plan = by_message
    assert {event["anonymousId"] for event in events} == {landing_page["anonymousId"]}
    assert UUID_V4.match(landing_page["anonymousId"])
    assert "userId" not in landing_page
    assert [identify["userId"], order["userId"], plan["userId"]] == ["user-42"] * 3
    assert identify["traits"] == {"email": "ana@gama.test", "plan": "pro"}
    assert order["properties"] == {"revenue": 99.9, "currency": "BRL"}
    for event in events:
        assert UUID_V4.match(event["messageId"])
        assert event["_row_message_id"] == event["messageId"]
        assert event["context"]["campaign"] == CAMPAIGN
        assert event["context"]["referrer"] == {"url": "https://www.google.com/"}  # the landing's, for the session
        assert event["context"]["library"] == {"name": "pulso.js", "version": "0.1.0"}
        assert event["context"]["locale"] == "pt-BR"
        assert "Chrome" in event["context"]["userAgent"]
        assert event["timestamp"].endswith("Z")
        assert event["sentAt"].endswith("Z")
    assert len({event["messageId"] for event in events}) == 5
    assert landing_page["context"]["page"] == {
        "url": f"{landing}?{CAMPAIGN_QUERY}",
        "path": "/landing",
        "referrer": "https://www.google.com/",
        "title": "Landing",
        "search": f"?{CAMPAIGN_QUERY}",
    }
    assert landing_page["properties"]["path"] == "/landing"
    assert pricing_page["context"]["page"]["path"] == "/pricing"
    assert pricing_page["context"]["page"]["search"] == ""
    assert pricing_page["context"]["page"]["referrer"] == ""  # reached without a referrer
    assert set(watcher.batch_requests) == {"fetch"}
    assert watcher.problems == []


@pytest.mark.browser
def test_events_queued_while_the_collector_is_down_survive_a_reload_and_arrive_once(
    browser: Any, collector: LiveCollector, site: Site, tenant: Tenant
) -> None:
    # Self-hosted copy of the script, so the page still loads while the collector is down.
    options = {"host": collector.url, "flushInterval": 200, "maxRetryDelay": 400}
    url = site.add_page("/app", script_src=f"{site.url}/pulso.js", write_key=tenant.write_key, options=options)
    collector.stop()

    page = browser.new_page()
    watcher = Watcher(page)
    page.goto(url)
    page.wait_for_function("() => window.pulso && window.pulso.VERSION")
    page.evaluate("() => { pulso.track('Signed Up'); pulso.track('Trial Started'); }")
    wait_until(lambda: len(watcher.batch_requests) >= 2, page, message="failed attempts to reach the collector")
    before_reload = page.evaluate(QUEUED)
    assert by_type(before_reload) == ["page", "track:Signed Up", "track:Trial Started"]

    page.reload()  # the snippet adds a second page view
    page.wait_for_function("() => window.pulso && window.pulso.VERSION")
    after_reload = page.evaluate(QUEUED)
    assert [event["messageId"] for event in after_reload[:3]] == [event["messageId"] for event in before_reload]
    assert by_type(after_reload) == ["page", "track:Signed Up", "track:Trial Started", "page"]
    assert stored_events(tenant.id) == []

    collector.start()
    wait_until(lambda: page.evaluate(QUEUED) == [], page, timeout=20, message="the queue to drain")
    events = stored_events(tenant.id)
    assert sorted(event["messageId"] for event in events) == sorted(event["messageId"] for event in after_reload)

    # An acknowledgement lost in transit means the same events are sent again: the collector keeps one row each.
    page.evaluate(
        "events => localStorage.setItem(Object.keys(localStorage).find(k => k.startsWith('pulso:queue:')),"
        " JSON.stringify(events))",
        after_reload,
    )
    page.reload()
    wait_until(lambda: page.evaluate(QUEUED) == [], page, message="the resent events to be acknowledged")
    resent = stored_events(tenant.id)
    assert len(resent) == 5  # the four, plus the reload's own page view
    assert len({event["messageId"] for event in resent}) == 5
    assert watcher.problems == [] or all("Failed to load resource" in text for text in watcher.problems)


@pytest.mark.browser
def test_queued_events_leave_by_sendbeacon_when_the_page_is_hidden(
    browser: Any, collector: LiveCollector, site: Site, tenant: Tenant
) -> None:
    options = {"flushInterval": 600_000, "flushAt": 100}  # only the page hiding sends anything
    url = site.add_page("/", script_src=f"{collector.url}/t/pulso.js", write_key=tenant.write_key, options=options)

    page = browser.new_page()
    watcher = Watcher(page)
    page.goto(url)
    page.wait_for_function("() => window.pulso && window.pulso.VERSION")
    page.evaluate("() => { pulso.track('Cart Viewed'); pulso.track('Checkout Started'); }")
    assert len(page.evaluate(QUEUED)) == 3
    page.wait_for_timeout(300)
    assert watcher.batch_requests == []

    # The tab goes to the background: what is queued leaves by beacon and is no longer queued.
    page.evaluate(
        "() => { Object.defineProperty(document, 'visibilityState', {value: 'hidden', configurable: true});"
        " document.dispatchEvent(new Event('visibilitychange')); }"
    )
    assert page.evaluate(QUEUED) == []
    wait_until(lambda: len(stored_events(tenant.id)) == 3, page, message="the beacon's events")

    # Leaving the page (pagehide) sends the rest the same way.
    page.evaluate("() => pulso.track('Checkout Abandoned')")
    page.goto("about:blank")
    events = wait_until(
        lambda: (rows := stored_events(tenant.id)) and len(rows) == 4 and rows, page, message="4 events"
    )
    assert by_type(events)[-1] == "track:Checkout Abandoned"
    assert set(watcher.batch_requests) == {"ping"}  # Chromium's resource type for sendBeacon
    assert watcher.problems == []


@pytest.mark.browser
@pytest.mark.parametrize("respect", [True, False])
def test_do_not_track_is_respected_when_enabled(
    browser: Any, collector: LiveCollector, site: Site, tenant: Tenant, respect: bool
) -> None:
    options = {"flushInterval": 100, "respectDoNotTrack": respect}
    url = site.add_page("/", script_src=f"{collector.url}/t/pulso.js", write_key=tenant.write_key, options=options)
    context = browser.new_context()
    context.add_init_script("Object.defineProperty(Navigator.prototype, 'doNotTrack', {get: () => '1'})")
    page = context.new_page()
    watcher = Watcher(page)
    page.goto(url)
    page.wait_for_function("() => window.pulso && window.pulso.VERSION")
    page.evaluate("() => { pulso.identify('user-7'); pulso.track('Viewed'); }")

    if respect:
        page.wait_for_timeout(1000)
        page.goto("about:blank")  # pagehide would send a beacon if anything were queued
        page.wait_for_timeout(300)
        assert stored_events(tenant.id) == []
        assert watcher.batch_requests == []
        page.goto(url)
        assert page.evaluate(PULSO_STORAGE) == []  # no identifier or queue stored either
    else:
        # Control: the same browser without the option is tracked, so DNT was what stopped the events above.
        wait_until(lambda: len(stored_events(tenant.id)) == 3, page, message="the events of a browser sending DNT")
    context.close()
    assert watcher.problems == []
