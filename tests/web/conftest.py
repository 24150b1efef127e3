"""Web fixtures: two seeded tenants with hand-counted numbers, the real app, a logged-in client, Chromium.

Data is placed relative to today in the tenants' time zone, at local noon, far from the day boundaries, so
the page's default range (the last 30 days ending today) always sees the same rows.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from pulso.api.app import create_app
from pulso.config import Settings
from pulso.metrics.overview import today_in
from pulso.store.models import Contact, Conversation, DailyMetric, Inbox, User
from pulso.store.session import platform_session, tenant_session
from pulso.tenancy.service import create_tenant, create_user

TIMEZONE = "America/Sao_Paulo"
PASSWORD = "correct-horse-42"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')
KPI_VALUE = re.compile(r'data-kpi="(\w+)">.*?<p class="kpi-value">(.*?)</p>.*?<p class="kpi-change">(.*?)</p>', re.S)


@dataclass
class Seeded:
    settings: Settings
    today: date
    alfa_id: int
    beta_id: int
    alfa_slug: str = "clinica-alfa"
    beta_slug: str = "loja-beta"
    alfa_email: str = "ana@alfa.test"
    beta_email: str = "bruno@beta.test"
    admin_email: str = "root@pulso.test"
    inactive_email: str = "inativo@alfa.test"
    password: str = PASSWORD
    alfa_daily_conversations: list[float] = field(default_factory=list)


def local_noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=ZoneInfo(TIMEZONE)).astimezone(UTC)


def _conversations(tenant_id: int, inbox_id: int, today: date, spec: list[tuple[int, int | None]], tag: str) -> list:
    rows = []
    for number, (days_ago, reply_seconds) in enumerate(spec):
        created = local_noon(today - timedelta(days=days_ago))
        reply = created + timedelta(seconds=reply_seconds) if reply_seconds is not None else None
        rows.append(
            Conversation(
                tenant_id=tenant_id,
                external_id=f"{tag}-{number}",
                inbox_id=inbox_id,
                created_at=created,
                first_reply_at=reply,
            )
        )
    return rows


def _leads(tenant_id: int, today: date, spec: list[tuple[int, bool]], tag: str) -> list[Contact]:
    rows = []
    for number, (days_ago, customer) in enumerate(spec):
        became_lead = local_noon(today - timedelta(days=days_ago))
        rows.append(
            Contact(
                tenant_id=tenant_id,
                name=f"{tag} {number}",
                lifecycle_stage="customer" if customer else "lead",
                became_lead_at=became_lead,
                became_customer_at=became_lead + timedelta(days=1) if customer else None,
            )
        )
    return rows


def seed_database(settings: Settings) -> Seeded:
    """Clínica Alfa (numbers in the 30-day window, 30-day previous window and the daily chart), Loja Beta
    (different numbers, no daily metrics) and four users. Expected values are written in the tests."""
    today = today_in(TIMEZONE)
    with platform_session() as session:
        alfa = create_tenant(session, slug="clinica-alfa", name="Clínica Alfa", timezone=TIMEZONE)
        beta = create_tenant(session, slug="loja-beta", name="Loja Beta", timezone=TIMEZONE)
        create_user(session, email="ana@alfa.test", role="admin", password=PASSWORD, tenant=alfa, name="Ana")
        create_user(session, email="bruno@beta.test", role="manager", password=PASSWORD, tenant=beta)
        create_user(session, email="root@pulso.test", role="platform_admin", password=PASSWORD, tenant=None)
        inactive: User = create_user(session, email="inativo@alfa.test", role="viewer", password=PASSWORD, tenant=alfa)
        inactive.is_active = False
        alfa_id, beta_id = alfa.id, beta.id

    daily_conversations: list[float] = []
    with tenant_session(alfa_id) as session:
        inbox = Inbox(external_id="1", name="WhatsApp", channel_type="whatsapp")
        session.add(inbox)
        session.flush()
        # (days ago, seconds to first reply): five in the last 30 days, two in the 30 days before.
        spec = [(2, 120), (3, 200), (4, None), (5, 300), (12, 600), (40, 600), (41, 1200)]
        session.add_all(_conversations(alfa_id, inbox.id, today, spec, "alfa"))
        # (days ago, became a customer): four leads in the last 30 days, two in the 30 days before.
        session.add_all(_leads(alfa_id, today, [(1, True), (3, False), (6, False), (8, False)], "Lead"))
        session.add_all(_leads(alfa_id, today, [(35, True), (45, False)], "Old lead"))
        session.add(Contact(name="Visitor", lifecycle_stage="visitor"))
        for days_ago in range(30):
            day = today - timedelta(days=days_ago)
            conversations = float(round(24 + 9 * math.sin(days_ago / 2.5) - (6 if day.weekday() == 6 else 0)))
            daily_conversations.append(conversations)
            session.add(DailyMetric(day=day, metric="conversations", value=conversations))
            session.add(DailyMetric(day=day, metric="leads", value=float(round(conversations / 4))))

    with tenant_session(beta_id) as session:
        inbox = Inbox(external_id="1", name="Instagram", channel_type="instagram")
        session.add(inbox)
        session.flush()
        session.add_all(_conversations(beta_id, inbox.id, today, [(d, 60) for d in range(1, 10)], "beta"))
        session.add_all(_leads(beta_id, today, [(2, False), (4, False), (6, False)], "Beta lead"))

    return Seeded(
        settings=settings,
        today=today,
        alfa_id=alfa_id,
        beta_id=beta_id,
        alfa_daily_conversations=daily_conversations,
    )


@pytest.fixture
def seeded(any_settings: Settings) -> Seeded:
    return seed_database(any_settings)


@pytest.fixture
def seeded_sqlite(sqlite_settings: Settings) -> Seeded:
    return seed_database(sqlite_settings)


@pytest.fixture
def app(seeded: Seeded) -> FastAPI:
    return create_app(seeded.settings)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


def csrf_from(html: str) -> str:
    match = CSRF_INPUT.search(html)
    assert match, "no csrf_token input in the page"
    return match.group(1)


LoginFn = Callable[..., httpx.Response]


@pytest.fixture
def login() -> LoginFn:
    """``login(client, email, password, next=None)``: the real form round trip; returns the POST's response."""

    def do_login(client: TestClient, email: str, password: str, next_path: str | None = None) -> httpx.Response:
        page = client.get("/login", params={"next": next_path} if next_path else None)
        data = {"email": email, "password": password, "csrf_token": csrf_from(page.text)}
        if next_path:
            data["next"] = next_path
        return client.post("/login", data=data, follow_redirects=False)

    return do_login


def page_kpis(html: str) -> dict[str, tuple[str, str]]:
    """``{kpi key: (value text, change text with tags and spaces collapsed)}`` from an overview page."""
    found = {}
    for key, value, change in KPI_VALUE.findall(html):
        text = " ".join(re.sub(r"<[^>]+>", " ", change).split())
        found[key] = (value.strip(), text)
    return found


@pytest.fixture
def kpis() -> Callable[[str], dict[str, tuple[str, str]]]:
    return page_kpis


# ---------------------------------------------------------------- browser


@pytest.fixture
def chromium_path() -> str:
    """Debian's Chromium for Playwright: skipped with a reason when missing, a failure when CI=true."""
    required = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

    def unavailable(reason: str) -> None:
        if required:
            pytest.fail(f"browser test required in CI but {reason}")
        pytest.skip(reason)

    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        unavailable("playwright is not installed (pip install -e '.[dev]')")
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    return str(CHROMIUM)
