"""Tracker fixtures: node for the build and unit tests, and for the browser tests the real app served by
uvicorn (stoppable and restartable on the same port), a tenant with a write key, and a separate origin
serving the site that embeds the snippet."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import select

from pulso.api.app import create_app
from pulso.collect import tracker_asset
from pulso.config import Settings
from pulso.security.api_keys import create_key
from pulso.store.models import RawEvent
from pulso.store.session import platform_session, tenant_session
from pulso.tenancy.service import create_tenant
from tests.web.conftest import CHROMIUM_ARGS, chromium_path  # noqa: F401 (the fixture, shared)

TRACKER_DIR = Path(__file__).resolve().parents[2] / "tracker"
SNIPPET_DEFAULTS = "'https://pulso.example.com/t/pulso.js', 'WRITE_KEY', {}"


def _required() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def unavailable(reason: str) -> None:
    """Skip with the reason on a developer's machine; fail in CI, where every tool must be present."""
    if _required():
        pytest.fail(f"required in CI but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def node() -> str:
    path = shutil.which("node")
    if path is None:
        unavailable("node is not installed (the tracker's build and unit tests need Node 20+)")
    return str(path)


@pytest.fixture(scope="session")
def tracker_node_modules(node: str) -> Path:
    """tracker/node_modules, installed from package-lock.json (npm ci) when missing."""
    modules = TRACKER_DIR / "node_modules"
    # One npm ci at a time (a lock on tracker/ itself): pytest-xdist workers, or two test sessions, share it.
    directory = os.open(TRACKER_DIR, os.O_RDONLY)
    try:
        fcntl.flock(directory, fcntl.LOCK_EX)
        if not (modules / "esbuild").exists():
            npm = shutil.which("npm")
            if npm is None:
                unavailable("npm is not installed")
            done = subprocess.run(
                [str(npm), "ci", "--no-audit", "--no-fund"],
                cwd=TRACKER_DIR,
                capture_output=True,
                text=True,
                timeout=300,
            )
            if done.returncode != 0:
                unavailable(f"npm ci failed in tracker/: {done.stderr[-500:]}")
    finally:
        os.close(directory)  # releases the lock
    return modules


# ---------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until(condition: Callable[[], Any], page: Any, *, timeout: float = 15, message: str = "condition") -> Any:
    """Poll ``condition`` until it returns something truthy; that value, or a failure naming ``message``.
    Waits through the Playwright ``page``: the sync API delivers page events only while it is called."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {message}")
        page.wait_for_timeout(100)


class LiveCollector:
    """The real app under uvicorn on a fixed port, so a test can stop the collector and start it again."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server: uvicorn.Server | None = None
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                pytest.fail("uvicorn did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.server is not None and self.thread is not None:
            self.server.should_exit = True
            self.thread.join(timeout=10)
        self.server = self.thread = None


def app_with_tracker(settings: Settings) -> FastAPI:
    """The production app, which serves the tracker itself (no test-only wiring)."""
    return create_app(settings)


@pytest.fixture
def collector(sqlite_settings: Settings) -> Iterator[LiveCollector]:
    live = LiveCollector(app_with_tracker(sqlite_settings))
    live.start()
    try:
        yield live
    finally:
        live.stop()


@dataclass
class Tenant:
    id: int
    write_key: str


@pytest.fixture
def tenant(sqlite_settings: Settings) -> Tenant:
    with platform_session() as session:
        row = create_tenant(session, slug="loja-gama", name="Loja Gama")
        _, key = create_key(session, tenant_id=row.id, kind="write", name="site")
        return Tenant(row.id, key)


def stored_events(tenant_id: int) -> list[dict[str, Any]]:
    """The tenant's bronze rows as ``payload`` dicts with the row's ``message_id`` under ``_row_message_id``."""
    with tenant_session(tenant_id) as session:
        rows = session.scalars(select(RawEvent).order_by(RawEvent.id)).all()
        return [{**row.payload, "_row_message_id": row.message_id} for row in rows]


class Site:
    """A customer's site on its own origin: pages registered by path, and a self-hosted copy of pulso.js."""

    def __init__(self) -> None:
        self.pages: dict[str, str] = {}
        pages = self.pages

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                if path == "/favicon.ico":
                    self.send_response(204)
                    self.end_headers()
                    return
                if path == "/pulso.js":
                    body, kind = tracker_asset.TRACKER_PATH.read_bytes(), "text/javascript"
                elif path in pages:
                    body, kind = pages[path].encode(), "text/html; charset=utf-8"
                else:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("content-type", kind)
                self.send_header("content-length", str(len(body)))
                self.send_header("cache-control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def add_page(self, path: str, *, script_src: str, write_key: str, options: dict[str, Any], body: str = "") -> str:
        """Serve at ``path`` a page whose head carries the production snippet; returns the page's URL."""
        snippet = (TRACKER_DIR / "src" / "snippet.js").read_text()
        assert SNIPPET_DEFAULTS in snippet, "the snippet's placeholders changed"
        arguments = ", ".join(json.dumps(value) for value in (script_src, write_key, options))
        title = path.strip("/").title() or "Home"
        self.pages[path] = (
            f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title>"
            f"<script>{snippet.replace(SNIPPET_DEFAULTS, arguments)}</script></head>"
            f"<body><h1>{title}</h1>{body}</body></html>"
        )
        return self.url + path

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def site() -> Iterator[Site]:
    served = Site()
    try:
        yield served
    finally:
        served.close()
