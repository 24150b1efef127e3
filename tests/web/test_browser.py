"""The overview in a real browser: uvicorn serving the real app on a seeded SQLite file, Chromium driven by
Playwright. Saves test-artifacts/overview.png for a person to look at."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from pulso.api.app import create_app

from .conftest import CHROMIUM_ARGS, Seeded

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def live_server(seeded_sqlite: Seeded) -> Iterator[str]:
    port = free_port()
    config = uvicorn.Config(create_app(seeded_sqlite.settings), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.mark.browser
def test_overview_renders_kpis_and_chart(live_server: str, seeded_sqlite: Seeded, chromium_path: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1360, "height": 900}, locale="pt-BR")
            page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
            page.on("pageerror", lambda exc: problems.append(str(exc)))

            page.goto(f"{live_server}/t/clinica-alfa/")
            expect(page).to_have_url(f"{live_server}/login?next=/t/clinica-alfa/")
            page.screenshot(path=str(ARTIFACTS / "login.png"))
            page.fill("#email", seeded_sqlite.alfa_email)
            page.fill("#password", seeded_sqlite.password)
            page.click("button[type=submit]")

            expect(page).to_have_url(f"{live_server}/t/clinica-alfa/")
            cards = page.locator("article.kpi")
            expect(cards).to_have_count(4)
            expect(page.locator('[data-kpi="conversations"] .kpi-value')).to_have_text("5")
            expect(page.locator('[data-kpi="leads"] .kpi-value')).to_have_text("4")
            expect(page.locator('[data-kpi="lead_conversion"] .kpi-value')).to_have_text("25,0%")
            expect(page.locator('[data-kpi="median_first_response"] .kpi-value')).to_have_text("4 min 10 s")

            chart = page.locator("#overview-chart.js-plotly-plot .plot-container")
            expect(chart).to_be_visible(timeout=15_000)
            expect(page.locator("#overview-chart .bars path").first).to_be_attached()
            assert page.locator("#overview-chart .legendtext").all_text_contents() == ["Conversas", "Leads"]
            page.wait_for_timeout(300)  # let Plotly finish its transition before the picture
            page.screenshot(path=str(ARTIFACTS / "overview.png"), full_page=True)

            page.click("nav.segmented >> text=7 dias")
            expect(page).to_have_url(f"{live_server}/t/clinica-alfa/?days=7")
            expect(page.locator('[data-kpi="conversations"] .kpi-value')).to_have_text("4")

            page.click("nav.lang-switch >> text=EN")
            expect(page.locator('[data-kpi="lead_conversion"] .kpi-label')).to_have_text("Lead-to-customer conversion")
            expect(page.locator("#overview-chart .plot-container")).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / "overview-en.png"), full_page=True)
        finally:
            browser.close()
    # No script errors and no Content-Security-Policy violations.
    assert problems == []
